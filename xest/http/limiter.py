"""The rate limiter, shared by every process on the machine.

Exchanges limit per IP (and per key), not per process: eight scripts each assuming they own the
budget get the IP banned. So the budget lives in one small file per exchange and host, read and
updated under ``flock``. It also records the exchange's own verdicts: a 429's ``Retry-After``
makes every process wait, a 418 ban makes every process refuse calls until the ban ends.
"""

from __future__ import annotations

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
from xest.http.storage import LockedFile, private_dir

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
        self._directory = directory
        self._clock = clock
        self._sleep = sleep
        self._file: LockedFile | None = None
        self._headers = [
            (bucket, policy)
            for bucket, policy in self.policies.items()
            if isinstance(policy, WeightWindow) and policy.header
        ]
        self._last: tuple[bytes, dict[str, Any]] = (b"", {})

    @property
    def file(self) -> LockedFile:
        if self._file is None:
            directory = self._directory or private_dir("limits")
            slug = re.sub(r"[^a-z0-9_-]", "_", self.exchange.lower())[:40]
            digest = hashlib.sha256(self.host.encode()).hexdigest()[:16]
            self._file = LockedFile(directory / f"{slug}-{digest}.state")
        return self._file

    # -- state -----------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        raw = self.file.read()
        last_raw, last_state = self._last
        if raw and raw == last_raw:  # nobody else wrote since we did: skip parsing
            return {**last_state, "buckets": dict(last_state.get("buckets", {}))}
        return parse_state(raw)

    def _save(self, state: dict[str, Any]) -> None:
        state["exchange"], state["host"] = self.exchange, self.host  # for `xest cache info`
        raw = format_state(state)
        self.file.write(raw)
        self._last = (self.file.last_written, state)

    def state(self) -> dict[str, Any]:
        """A snapshot of the shared state (for tests and ``xest cache info``)."""
        with self.file.locked():
            return self._load()

    # -- spending --------------------------------------------------------------------------------

    def acquire(self, bucket: str, cost: float, max_wait: float) -> float:
        """Spend ``cost`` from ``bucket``, waiting at most ``max_wait`` seconds for budget.

        Returns the seconds waited. Raises RateLimited when the exchange banned us, or when the
        wait would exceed ``max_wait`` (``max_wait=0``: never wait).
        """
        policy = self.policies.get(bucket)
        bucket = _slot(bucket)
        waited = 0.0
        while True:
            with self.file.locked():
                state = self._load()
                now = self._clock()
                self._refuse_if_banned(state, now)
                wait = max(0.0, float(state.get("blocked_until", 0.0)) - now)
                reason = "the exchange's Retry-After"
                if wait == 0.0:
                    if policy is None:
                        return waited
                    wait = _spend(state, bucket, policy, cost, now)
                    reason = f"the {bucket!r} budget"
                    if wait == 0.0:
                        self._save(state)
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

    def _refuse_if_banned(self, state: dict[str, Any], now: float) -> None:
        until = float(state.get("ban_until", 0.0))
        if until > now:
            when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise errors.RateLimited(
                f"{self.exchange} has banned this IP until {when} (HTTP "
                f"{state.get('ban_status', 418)} after too many requests); xest refuses every "
                f"call to it, from every process, until then ({math.ceil(until - now)} s)",
                exchange=self.exchange,
                code=state.get("ban_status", 418),
                retry_after=round(until - now, 3),
                ban_until=until,
            )

    # -- what the exchange told us ---------------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        """Resynchronise weight windows from the exchange's used-weight headers."""
        readings = []
        for bucket, policy in self._headers:
            if policy.header:
                value = _header(headers, policy.header)
                if value is not None:
                    try:
                        readings.append((bucket, policy, float(value)))
                    except ValueError:
                        continue
        if not readings:
            return
        with self.file.locked():
            state = self._load()
            now = self._clock()
            buckets = state.setdefault("buckets", {})
            for bucket, policy, used in readings:
                bucket = _slot(bucket)
                start = _window_start(now, policy.window)
                old_start, old_used = buckets.get(bucket, (start, 0.0))
                # The exchange counts calls we did not see (other machines behind the IP, other
                # libraries); never count less than it does. Lower readings may be racing our
                # own in-flight calls, so they do not lower the count.
                base = old_used if old_start == start else 0.0
                buckets[bucket] = [start, max(base, used)]
            self._save(state)

    def block(self, seconds: float) -> float:
        """Make every process wait ``seconds`` (a 429's Retry-After); returns the end instant."""
        with self.file.locked():
            state = self._load()
            until = self._clock() + max(seconds, 0.0)
            state["blocked_until"] = max(float(state.get("blocked_until", 0.0)), until)
            self._save(state)
            return state["blocked_until"]

    def ban(self, seconds: float, status: int = 418) -> float:
        """Record a ban: every process refuses calls until it ends. Returns the end instant."""
        with self.file.locked():
            state = self._load()
            until = self._clock() + max(seconds, 0.0)
            state["ban_until"] = max(float(state.get("ban_until", 0.0)), until)
            state["ban_status"] = status
            self._save(state)
            return state["ban_until"]


# The state file is a few lines of text, parsed on every call, so it is kept simpler than JSON:
#   xest-limits <exchange> <host>
#   <ban_until> <ban_status> <blocked_until>
#   <bucket> <a> <b>          (counter: level, instant; window: start, used)


def format_state(state: dict[str, Any]) -> bytes:
    lines = [
        f"xest-limits {_slot(state.get('exchange', '-'))} {_slot(state.get('host', '-'))}",
        f"{float(state.get('ban_until', 0.0))!r} {int(state.get('ban_status', 0))} "
        f"{float(state.get('blocked_until', 0.0))!r}",
    ]
    lines.extend(f"{name} {a!r} {b!r}" for name, (a, b) in state.get("buckets", {}).items())
    return ("\n".join(lines) + "\n").encode()


def parse_state(raw: bytes) -> dict[str, Any]:
    """The state in ``raw``; an empty, torn or foreign file reads as a fresh state."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    try:
        tag, exchange, host = lines[0].split()
        ban_until, ban_status, blocked_until = lines[1].split()
        state: dict[str, Any] = {
            "exchange": exchange,
            "host": host,
            "ban_until": float(ban_until),
            "ban_status": int(ban_status),
            "blocked_until": float(blocked_until),
            "buckets": {},
        }
        for line in lines[2:]:
            if line.strip():
                name, a, b = line.split()
                state["buckets"][name] = (float(a), float(b))
    except (IndexError, ValueError):
        return {}
    return state if tag == "xest-limits" else {}


def active_restrictions(now: float | None = None) -> list[dict[str, Any]]:
    """Bans and Retry-After waits in force now, machine-wide (read without taking locks)."""
    from xest.http.storage import cache_dir

    now = time.time() if now is None else now
    directory = cache_dir() / "limits"
    found = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.state")):
        try:
            state = parse_state(path.read_bytes())
        except OSError:
            continue
        for kind, field in (("banned", "ban_until"), ("waiting", "blocked_until")):
            until = float(state.get(field, 0.0))
            if until > now:
                found.append(
                    {
                        "exchange": state.get("exchange", path.stem),
                        "host": state.get("host", "?"),
                        "kind": kind,
                        "until": until,
                    }
                )
    return found


def _spend(
    state: dict[str, Any], bucket: str, policy: RateLimitPolicy, cost: float, now: float
) -> float:
    """Spend from ``state`` in place and return 0, or return the seconds until it is possible."""
    buckets = state.setdefault("buckets", {})
    if isinstance(policy, DecayingCounter):
        level, then = buckets.get(bucket, (0.0, now))
        level = max(0.0, level - policy.decay * max(0.0, now - then))
        # A cost above the maximum could never fit: let it through from an empty counter.
        if level + cost <= policy.maximum or level == 0.0:
            buckets[bucket] = [level + cost, now]
            return 0.0
        if policy.decay <= 0:
            return math.inf
        return (level + cost - policy.maximum) / policy.decay
    if isinstance(policy, WeightWindow):
        start = _window_start(now, policy.window)
        old_start, used = buckets.get(bucket, (start, 0.0))
        if old_start != start:
            used = 0.0
        if used + cost <= policy.limit or used == 0.0:
            buckets[bucket] = [start, used + cost]
            return 0.0
        return max(start + policy.window - now, 0.001)
    raise TypeError(f"unknown rate-limit policy {policy!r}")


def _slot(bucket: str) -> str:
    return bucket if bucket.isidentifier() else re.sub(r"\s", "_", bucket) or "_"


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
