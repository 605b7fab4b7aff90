"""The rate limiter, shared by every process on the machine.

Exchanges limit per IP (and per key), not per process: eight scripts each assuming they own the
budget get the IP banned. So the budget lives in the store (:mod:`xest.http.store`): one small
file per exchange and host by default, a Redis hash when several machines share a key. It also
records the exchange's own verdicts: a 429's ``Retry-After`` makes every process wait, a 418 ban
makes every process refuse calls until the ban ends.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xest import errors
from xest.http import deadline
from xest.http.endpoint import DecayingCounter, RateLimitPolicy, WeightWindow
from xest.http.limits import LimitState, window_start

SUFFIX = ".limits"

log = logging.getLogger("xest.http")

DEFAULT_BAN = 120.0  # seconds, when a 418 says nothing about its length
# The longest wait any answer can impose (Binance's longest IP ban is 3 days). Past it a
# server's word is taken for garbage; a real longer ban is met again at the next call.
MAX_RETRY_AFTER = 3 * 24 * 3600.0
DEFAULT_BACKOFF = 1.0  # seconds, when a 429 has no Retry-After

# Leases: a process spending from a roomy budget takes a few calls' worth at once and spends them
# locally, so most calls read the shared verdicts (one unlocked read) instead of locking and
# writing the shared bucket. A lease is at most 1/LEASE_SHARE of the budget and LEASE_CALLS
# calls, lasts LEASE_SECONDS (and never past its weight window): a budget spent early is spent
# conservatively, and one used within 50 ms of being spent is counted when it is sent, to within
# the decay of 50 ms. Tight budgets (Kraken's private counters) are never leased.
LEASE_SHARE = 64
LEASE_CALLS = 16
LEASE_SECONDS = 0.05


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
        sleep: Callable[[float], None] = deadline.sleep,
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
        self._state: LimitState | None = None
        self._fallback: LimitState | None = None  # while the store is unreachable (reads)
        self._headers = [
            (bucket, policy)
            for bucket, policy in self.policies.items()
            if isinstance(policy, WeightWindow) and policy.header
        ]
        self._leases: dict[str, list[float]] = {}  # bucket -> [budget left, good until]
        self._lease_lock = threading.Lock()
        self._refill_lock = threading.Lock()

    @property
    def shared(self) -> LimitState:
        """The state shared with every process using the same store."""
        if self._state is None:
            if self._directory is not None:
                from xest.http.shared_state import DirectoryLimits

                self._state = DirectoryLimits(
                    self._directory / state_file_name(self.exchange, self.host),
                    f"{self.exchange} {self.host}",
                )
            else:
                from xest.http import store

                self._state = store.current().limits(self.exchange, self.host)
        return self._state

    @property
    def local(self) -> LimitState:
        """This process's own state, used by reads while the shared store is unreachable."""
        if self._fallback is None:
            from xest.http.shared_state import DirectoryLimits

            self._fallback = DirectoryLimits(None, f"{self.exchange} {self.host}")
        return self._fallback

    def state(self) -> dict[str, Any]:
        """A snapshot of the shared state (for tests and ``xest cache info``)."""
        ban_until, ban_status, blocked_until = self.shared.header()
        return {
            "ban_until": ban_until,
            "ban_status": ban_status,
            "blocked_until": blocked_until,
            "buckets": self.shared.buckets(),
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
            now = self._clock()
            if policy is None:
                # Nothing to spend: only the exchange's verdicts matter, and reading them
                # needs no lock.
                try:
                    ban_until, ban_status, blocked_until = shared.header()
                except errors.StoreUnavailable:
                    if key is not None:
                        raise
                    ban_until, ban_status, blocked_until = self.local.header()
                budget_wait = 0.0
            else:
                leased = self._from_lease(bucket, cost, now)
                if leased:
                    return waited
                try:
                    spent = self._spend(bucket, policy, cost, now)
                    if spent is None:  # another thread took a lease meanwhile: spent from it
                        return waited
                    ban_until, ban_status, blocked_until, budget_wait = spent
                except errors.StoreUnavailable:
                    if key is not None:
                        raise  # a signed call stops: its budget is shared with other machines
                    ban_until, ban_status, blocked_until, budget_wait = self.local.spend(
                        bucket, policy, cost, now
                    )
            self._refuse_if_banned(ban_until, ban_status, now)
            wait = blocked_until - now
            reason = "the exchange's Retry-After"
            if wait <= 0:
                wait = budget_wait
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

    def _from_lease(self, bucket: str, cost: float, now: float) -> bool:
        """Spend ``cost`` from this process's lease on ``bucket`` if it has one, it is still
        good, and no ban or Retry-After wait stands (read from the shared state every time)."""
        lease = self._leases.get(bucket)
        if lease is None or lease[0] < cost or now >= lease[1]:
            return False
        try:
            ban_until, _, blocked_until = self.shared.header()
        except errors.StoreUnavailable:
            return False
        if ban_until > now or blocked_until > now:
            return False
        with self._lease_lock:
            if lease[0] < cost or now >= lease[1]:
                return False
            lease[0] -= cost
        return True

    def _spend(
        self, bucket: str, policy: RateLimitPolicy, cost: float, now: float
    ) -> tuple[float, int, float, float] | None:
        """The shared spend of ``cost``; from a roomy budget, a lease of a few calls more
        (None: spent from a lease another thread took while this one waited to take it)."""
        calls = lease_calls(policy, cost)
        if calls <= 1:
            return self.shared.spend(bucket, policy, cost, now)
        with self._refill_lock:  # one thread refills; the others then spend from its lease
            now = max(now, self._clock())  # the wait for the lock may have taken a while
            if self._from_lease(bucket, cost, now):
                return None
            ban_until, status, blocked_until, wait = self.shared.spend(
                bucket, policy, cost * calls, now
            )
            if wait == 0.0 and ban_until <= now and blocked_until <= now:
                good_until = now + LEASE_SECONDS
                if isinstance(policy, WeightWindow):  # spent in this window, not the next
                    good_until = min(good_until, window_start(now, policy.window) + policy.window)
                with self._lease_lock:
                    self._leases[bucket] = [cost * (calls - 1), good_until]
                return ban_until, status, blocked_until, wait
            if ban_until > now or blocked_until > now:
                return ban_until, status, blocked_until, wait
            return self.shared.spend(bucket, policy, cost, now)

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
        found = [(bucket, policy.window, used) for bucket, policy, used in readings]
        try:
            self.shared.observe(found, self._clock())
        except errors.StoreUnavailable:
            self.local.observe(found, self._clock())

    def block(self, seconds: float) -> float:
        """Make every process wait ``seconds`` (a 429's Retry-After); returns the end instant."""
        until = self._clock() + clamp_wait(seconds, MAX_RETRY_AFTER)
        try:
            return self.shared.block(until)
        except errors.StoreUnavailable:
            return self.local.block(until)

    def ban(self, seconds: float, status: int = 418) -> float:
        """Record a ban: every process refuses calls until it ends. Returns the end instant."""
        until = self._clock() + clamp_wait(seconds, MAX_RETRY_AFTER)
        try:
            return self.shared.ban(until, status)
        except errors.StoreUnavailable:
            return self.local.ban(until, status)


def state_file_name(exchange: str, host: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]", "_", exchange.lower())[:40]
    digest = hashlib.sha256(host.encode()).hexdigest()[:16]
    return f"{slug}-{digest}{SUFFIX}"


def active_restrictions(now: float | None = None) -> list[dict[str, Any]]:
    """Bans and Retry-After waits in force now, for every exchange in the store."""
    from xest.http import store

    return store.current().restrictions(time.time() if now is None else now)


@functools.lru_cache(maxsize=64)
def lease_calls(policy: RateLimitPolicy, cost: float) -> int:
    """How many calls of ``cost`` one shared spend takes for this process (1: no lease)."""
    budget = policy.maximum if isinstance(policy, DecayingCounter) else policy.limit
    if cost <= 0:
        return 1
    return int(max(1, min(LEASE_CALLS, budget // (cost * LEASE_SHARE))))


@functools.lru_cache(maxsize=64)  # hashed once per key, not on every signed call
def _key_tag(key: str) -> str:
    """A short, non-reversible tag for an API key (the state file never holds the key)."""
    return hashlib.sha256(b"xest-limit\0" + key.encode()).hexdigest()[:12]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def clamp_wait(seconds: float, limit: float) -> float:
    """``seconds`` as a wait xest obeys: within [0, limit], and never inf or NaN (a server's
    ``Retry-After: inf`` must not ban every process for good)."""
    if not math.isfinite(seconds):
        return limit if seconds > 0 else 0.0
    return min(max(seconds, 0.0), limit)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), at most MAX_RETRY_AFTER;
    None when absent or unreadable."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()[:64]
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # inf and NaN are no length of time: unreadable, like garbage (the default wait applies)
        return clamp_wait(seconds, MAX_RETRY_AFTER) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return clamp_wait(when.timestamp() - time.time(), MAX_RETRY_AFTER)
