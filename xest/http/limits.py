"""What a store keeps for the rate limiter, and the arithmetic of spending, shared by every store.

A store's :class:`LimitState` does each operation atomically (under a file lock in the
directory store, as one Lua script in Redis): the limiter never reads, decides and writes in
three steps another process could interleave.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xest.http.endpoint import DecayingCounter, RateLimitPolicy

Reading = tuple[str, float, float]  # (bucket, window seconds, weight the exchange reports used)


class LimitState:
    """The shared limiter state of one exchange at one host."""

    def header(self) -> tuple[float, int, float]:
        """(ban_until, ban_status, blocked_until): the exchange's verdicts, as UNIX times."""
        raise NotImplementedError

    def spend(
        self, bucket: str, policy: RateLimitPolicy, cost: float, now: float
    ) -> tuple[float, int, float, float]:
        """Atomically: if no ban or wait is in force at ``now``, spend ``cost`` from ``bucket``
        if it fits. Returns (ban_until, ban_status, blocked_until, wait): ``wait`` is 0 when the
        cost was spent, else the seconds until it could be (only meaningful without a verdict)."""
        raise NotImplementedError

    def observe(self, readings: Sequence[Reading], now: float) -> None:
        """Raise weight windows to what the exchange says was used (never lower them)."""
        raise NotImplementedError

    def block(self, until: float) -> float:
        """Every process waits until ``until`` (a 429); returns the end actually in force."""
        raise NotImplementedError

    def ban(self, until: float, status: int) -> float:
        """Every process refuses calls until ``until`` (a 418); returns the end in force."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget bans and waits (``xest cache clear``)."""
        raise NotImplementedError

    def buckets(self) -> dict[str, tuple[float, float]]:
        raise NotImplementedError


def spend_pair(
    pair: tuple[float, float] | None, policy: RateLimitPolicy, cost: float, now: float
) -> tuple[tuple[float, float] | None, float]:
    """(new (a, b) to store or None, wait): the bucket arithmetic, shared by the stores.

    A decaying counter's (a, b) is (level, instant); a weight window's, (window start, used).
    """
    # ``now`` comes from the caller, read before it got here: another process may have written
    # a later instant meanwhile. Time never moves back in a bucket, or the decay between the
    # two instants would be counted twice (and the exchange's limit exceeded).
    if isinstance(policy, DecayingCounter):
        level, then = pair or (0.0, now)
        now = max(now, then)
        level = max(0.0, level - policy.decay * (now - then))
        # A cost above the maximum could never fit: let it through from an empty counter.
        if level + cost <= policy.maximum or level == 0.0:
            return (level + cost, now), 0.0
        if policy.decay <= 0:
            return None, math.inf
        return None, (level + cost - policy.maximum) / policy.decay
    start = window_start(now, policy.window)
    old_start, used = pair or (start, 0.0)
    start = max(start, old_start)
    if old_start != start:
        used = 0.0
    if used + cost <= policy.limit or used == 0.0:
        return (start, used + cost), 0.0
    return None, max(start + policy.window - now, 0.001)


def observe_pair(
    pair: tuple[float, float] | None, window: float, used: float, now: float
) -> tuple[float, float]:
    start = window_start(now, window)
    old_start, old_used = pair or (start, 0.0)
    start = max(start, old_start)
    # The exchange counts calls we did not see (other machines behind the IP, other libraries);
    # never count less than it does. Lower readings may be racing our own in-flight calls, so
    # they do not lower the count.
    base = old_used if old_start == start else 0.0
    return start, max(base, used)


def window_start(now: float, window: float) -> float:
    # Windows are aligned to the epoch, as Binance's per-minute counters are.
    return math.floor(now / window) * window
