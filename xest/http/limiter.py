"""The rate limiter, shared by every process on the machine.

Exchanges limit per IP (and per key), not per process: eight scripts each assuming they own the
budget get the IP banned. So the budget lives in one small file per exchange and host, read and
updated under ``flock``. It also records the exchange's own verdicts: a 429's ``Retry-After``
makes every process wait, a 418 ban makes every process refuse calls until the ban ends.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xest import errors
from xest.http.endpoint import DecayingCounter, RateLimitPolicy, WeightWindow
from xest.http.shared_state import SharedState, read_header
from xest.http.storage import private_dir

SUFFIX = ".limits"

log = logging.getLogger("xest.http")

DEFAULT_BAN = 120.0  # seconds, when a 418 says nothing about its length
DEFAULT_BACKOFF = 1.0  # seconds, when a 429 has no Retry-After


class RateLimiter:
    """Spends rate-limit budget for one exchange at one host, machine-wide."""

    def __init__(
        self,
        exchange: str,
        host: str,
        policies: Mapping[str, RateLimitPolicy],
        *,
        directory: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.exchange = exchange
        self.host = host
        self.policies = dict(policies)
        for policy in self.policies.values():
            if not isinstance(policy, DecayingCounter | WeightWindow):
                raise TypeError(f"unknown rate-limit policy {policy!r}")
        self._directory = directory
        self._clock = clock
        self._sleep = sleep
        self._shared: SharedState | None = None
        self._headers = [
            (bucket, policy)
            for bucket, policy in self.policies.items()
            if isinstance(policy, WeightWindow) and policy.header
        ]

    @property
    def shared(self) -> SharedState:
        if self._shared is None:
            directory = self._directory or private_dir("limits")
            slug = re.sub(r"[^a-z0-9_-]", "_", self.exchange.lower())[:40]
            digest = hashlib.sha256(self.host.encode()).hexdigest()[:16]
            shared = SharedState.at(directory / f"{slug}-{digest}{SUFFIX}")
            with shared:
                shared.set_meta(f"{self.exchange} {self.host}")  # for `xest cache info`
            self._shared = shared
        return self._shared

    def state(self) -> dict[str, Any]:
        """A snapshot of the shared state (for tests and ``xest cache info``)."""
        with self.shared as shared:
            ban_until, ban_status, blocked_until = shared.header()
            return {
                "ban_until": ban_until,
                "ban_status": ban_status,
                "blocked_until": blocked_until,
                "buckets": shared.buckets(),
            }

    # -- spending --------------------------------------------------------------------------------

    def acquire(
        self, bucket: str, cost: float, max_wait: float, *, key: str | None = None
    ) -> float:
        """Spend ``cost`` from ``bucket``, waiting at most ``max_wait`` seconds for budget.

        ``key`` is the API key of a signed call: a ``per_key`` policy counts each key apart.
        Returns the seconds waited. Raises RateLimited when the exchange banned us, or when the
        wait would exceed ``max_wait`` (``max_wait=0``: never wait).
        """
        policy = self.policies.get(bucket)
        if key is not None and policy is not None and policy.per_key:
            bucket = f"{bucket}@{_key_tag(key)}"
        shared = self.shared
        waited = 0.0
        while True:
            if policy is None:
                # Nothing to spend: only the exchange's verdicts matter, and reading them
                # needs no lock.
                now = self._clock()
                ban_until, ban_status, blocked_until = shared.header()
                self._refuse_if_banned(ban_until, ban_status, now)
                wait = blocked_until - now
                if wait <= 0:
                    return waited
                reason = "the exchange's Retry-After"
            else:
                with shared:
                    now = self._clock()
                    ban_until, ban_status, blocked_until = shared.header()
                    self._refuse_if_banned(ban_until, ban_status, now)
                    wait = blocked_until - now
                    reason = "the exchange's Retry-After"
                    if wait <= 0:
                        wait = _spend(shared, bucket, policy, cost, now)
                        reason = f"the {bucket!r} budget"
                        if wait == 0.0:
                            return waited
            if waited + wait > max_wait + 1e-9:
                raise errors.RateLimited(
                    f"{self.exchange} rate limit: {reason} needs {wait:.2f} s more "
                    f"(limit for waiting: {max_wait:g} s); try again later",
                    exchange=self.exchange,
                    retry_after=round(wait, 3),
                )
            log.info(
                "%s: waiting %.3f s for %s (shared by every xest process)",
                self.exchange,
                wait,
                reason,
            )
            self._sleep(wait)
            waited += wait

    def _refuse_if_banned(self, until: float, status: int, now: float) -> None:
        if until > now:
            status = status or 418
            when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise errors.RateLimited(
                f"{self.exchange} has banned this IP until {when} (HTTP {status} after too "
                "many requests); xest refuses every call to it, from every process, until then "
                f"({math.ceil(until - now)} s)",
                exchange=self.exchange,
                code=status,
                retry_after=round(until - now, 3),
                ban_until=until,
            )

    # -- what the exchange told us ---------------------------------------------------------------

    def observe(self, headers: Mapping[str, str], *, key: str | None = None) -> None:
        """Resynchronise weight windows from the exchange's used-weight headers (``key``: the
        API key of a signed call, for ``per_key`` windows)."""
        if not self._headers:
            return
        readings = []
        for bucket, policy in self._headers:
            value = _header(headers, policy.header or "")
            if value is not None:
                if policy.per_key:
                    if key is None:
                        continue
                    bucket = f"{bucket}@{_key_tag(key)}"
                try:
                    readings.append((bucket, policy, float(value)))
                except ValueError:
                    continue
        if not readings:
            return
        with self.shared as shared:
            now = self._clock()
            for bucket, policy, used in readings:
                start = _window_start(now, policy.window)
                old_start, old_used = shared.get(bucket) or (start, 0.0)
                # The exchange counts calls we did not see (other machines behind the IP, other
                # libraries); never count less than it does. Lower readings may be racing our
                # own in-flight calls, so they do not lower the count.
                base = old_used if old_start == start else 0.0
                shared.put(bucket, start, max(base, used))

    def block(self, seconds: float) -> float:
        """Make every process wait ``seconds`` (a 429's Retry-After); returns the end instant."""
        with self.shared as shared:
            ban_until, status, blocked_until = shared.header()
            until = max(blocked_until, self._clock() + max(seconds, 0.0))
            shared.set_header(ban_until, status, until)
            return until

    def ban(self, seconds: float, status: int = 418) -> float:
        """Record a ban: every process refuses calls until it ends. Returns the end instant."""
        with self.shared as shared:
            ban_until, _, blocked_until = shared.header()
            until = max(ban_until, self._clock() + max(seconds, 0.0))
            shared.set_header(until, status, blocked_until)
            return until


def active_restrictions(now: float | None = None) -> list[dict[str, Any]]:
    """Bans and Retry-After waits in force now, machine-wide (read without taking locks)."""
    from xest.http.storage import cache_dir

    now = time.time() if now is None else now
    directory = cache_dir() / "limits"
    found: list[dict[str, Any]] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        header = read_header(path)
        if header is None:
            continue
        meta, ban_until, _, blocked_until = header
        exchange, _, host = meta.partition(" ")
        for kind, until in (("banned", ban_until), ("waiting", blocked_until)):
            if until > now:
                found.append(
                    {
                        "exchange": exchange or path.stem,
                        "host": host or "?",
                        "kind": kind,
                        "until": until,
                    }
                )
    return found


def _spend(
    shared: SharedState, bucket: str, policy: RateLimitPolicy, cost: float, now: float
) -> float:
    """Spend from the bucket and return 0, or return the seconds until it is possible."""
    if isinstance(policy, DecayingCounter):
        level, then = shared.get(bucket) or (0.0, now)
        level = max(0.0, level - policy.decay * max(0.0, now - then))
        # A cost above the maximum could never fit: let it through from an empty counter.
        if level + cost <= policy.maximum or level == 0.0:
            shared.put(bucket, level + cost, now)
            return 0.0
        if policy.decay <= 0:
            return math.inf
        return (level + cost - policy.maximum) / policy.decay
    start = _window_start(now, policy.window)
    old_start, used = shared.get(bucket) or (start, 0.0)
    if old_start != start:
        used = 0.0
    if used + cost <= policy.limit or used == 0.0:
        shared.put(bucket, start, used + cost)
        return 0.0
    return max(start + policy.window - now, 0.001)


@functools.lru_cache(maxsize=64)
def _key_tag(key: str) -> str:
    """A short, non-reversible tag for an API key (the state file never holds the key)."""
    return hashlib.sha256(b"xest-limit\0" + key.encode()).hexdigest()[:12]


def _window_start(now: float, window: float) -> float:
    # Windows are aligned to the epoch, as Binance's per-minute counters are.
    return math.floor(now / window) * window


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
