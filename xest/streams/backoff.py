"""Reconnect pacing: exponential backoff with full jitter, reset once a connection is useful."""

from __future__ import annotations

import random

import attrs


@attrs.define
class Backoff:
    """Delays between reconnect attempts: ``first`` seconds, doubling up to ``cap``, each drawn
    uniformly from [delay/2, delay] so many clients dropped at once do not return in step."""

    first: float = 0.2
    cap: float = 30.0
    factor: float = 2.0
    attempts: int = 0
    rng: random.Random = attrs.field(factory=random.Random, repr=False)

    def next(self) -> float:
        delay = min(self.cap, self.first * self.factor**self.attempts)
        self.attempts += 1
        return self.rng.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempts = 0
