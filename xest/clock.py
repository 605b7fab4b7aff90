"""The remote clock: an estimate of an exchange's time from past server-time readings.

For each reading we know the local monotonic instants the request was sent and the answer
received, and the server's reading with its resolution. The server read its clock somewhere
inside that round trip, so the midpoint is our best guess of when, and half the round trip plus
half the resolution bounds the error: each sample says "the offset lies in this interval".

Every interval (aged for drift) holds the true offset, so their intersection does too, and it
is often much tighter than any one sample: a few readings of Kraken's whole-second clock taken
at different phases pin its offset to a few milliseconds. Low-latency samples give the tightest
intervals, so they dominate. Drift is fitted over the history, and an old sample's interval
widens with its age. If the intervals disagree (the exchange's clock stepped), the estimate
falls back to the single sample with the smallest aged error.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs


@attrs.frozen
class Sample:
    """One server-time reading. ``offset`` = server time - local wall time at the midpoint."""

    local_mid: float  # local wall time (UNIX s) at the round trip's midpoint
    mono_mid: float  # the same instant on the monotonic clock
    offset: float
    error: float  # half the round trip plus half the server's resolution


@attrs.frozen
class Estimate:
    """The estimated server time now, with its error bound (seconds) and offset to our clock."""

    time: datetime
    error: float
    offset: float

    @property
    def timestamp_ms(self) -> int:
        return int(self.time.timestamp() * 1000)


class RemoteClock:
    """Thread-safe estimate of one exchange's clock.

    ``monotonic`` and ``wall`` are this machine's clocks (injectable for tests); the instants
    given to :meth:`observe` must come from the same ``monotonic``.
    """

    def __init__(
        self,
        resolution: float = 0.001,
        history: int = 64,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.resolution = resolution
        self._samples: collections.deque[Sample] = collections.deque(maxlen=history)
        self._lock = threading.Lock()
        self._monotonic = monotonic
        # One fixed mapping from the monotonic clock to wall time, so a wall-clock step on this
        # machine during the session does not read as the exchange jumping.
        self._wall0 = wall()
        self._mono0 = monotonic()
        self.drift = 0.0  # seconds of offset change per second, fitted over the history

    def _wall(self, mono: float) -> float:
        return self._wall0 + (mono - self._mono0)

    @property
    def samples(self) -> tuple[Sample, ...]:
        with self._lock:
            return tuple(self._samples)

    def observe(
        self,
        server_time: datetime,
        sent: float,
        received: float,
        *,
        resolution: float | timedelta | None = None,
    ) -> Sample:
        """Record a reading taken between monotonic instants ``sent`` and ``received``."""
        if received < sent:
            raise ValueError("received must not be before sent")
        if isinstance(resolution, timedelta):
            resolution = resolution.total_seconds()
        res = self.resolution if resolution is None else resolution
        mono_mid = (sent + received) / 2
        local_mid = self._wall(mono_mid)
        # A reading of resolution r covers [t, t + r): its centre is the unbiased guess.
        server = server_time.timestamp() + res / 2
        sample = Sample(local_mid, mono_mid, server - local_mid, (received - sent) / 2 + res / 2)
        with self._lock:
            self._samples.append(sample)
            self.drift = _fit_drift(self._samples)
        return sample

    def forget_before(self, mono: float) -> None:
        """Drop the samples taken before monotonic instant ``mono``: the remote clock stepped
        (the exchange agent saw a jump), so they describe a clock that no longer exists."""
        with self._lock:
            kept = [s for s in self._samples if s.mono_mid >= mono]
            self._samples.clear()
            self._samples.extend(kept)
            self.drift = _fit_drift(self._samples)

    def _aged(self, sample: Sample, at_mono: float, drift: float) -> tuple[float, float]:
        """The sample's offset interval carried to ``at_mono``: (centre, half-width)."""
        age = abs(at_mono - sample.mono_mid)
        centre = sample.offset + drift * (at_mono - sample.mono_mid)
        # The drift correction may itself be wrong by up to its size; quartz wanders besides.
        return centre, sample.error + (abs(drift) + _AGE_PENALTY) * age

    def estimate_at(self, at_mono: float) -> tuple[float, float] | None:
        """(offset, error) at monotonic instant ``at_mono``, or None without samples."""
        with self._lock:
            samples = tuple(self._samples)
            drift = self.drift
        if not samples:
            return None
        lo, hi = -float("inf"), float("inf")
        best: tuple[float, float] | None = None
        for s in samples:
            centre, half = self._aged(s, at_mono, drift)
            lo, hi = max(lo, centre - half), min(hi, centre + half)
            if best is None or half < best[1]:
                best = (centre, half)
        if lo <= hi:
            return (lo + hi) / 2, (hi - lo) / 2
        return best

    def now(self) -> Estimate:
        """The estimated server time now. Without samples: our own clock, error unbounded."""
        mono = self._monotonic()
        local = self._wall(mono)
        found = self.estimate_at(mono)
        if found is None:
            return Estimate(datetime.fromtimestamp(local, UTC), float("inf"), 0.0)
        offset, error = found
        return Estimate(datetime.fromtimestamp(local + offset, UTC), error, offset)

    def needs_refresh(self, max_error: float) -> bool:
        """Whether a new reading is needed for the estimate to be within ``max_error`` seconds."""
        return self.now().error > max_error

    def timestamp_ms(self) -> int:
        """Estimated server time in ms, for signed requests (Binance ``timestamp``)."""
        return self.now().timestamp_ms


# Even with no measured drift, trust an old reading a little less than a fresh one (quartz
# clocks wander by tens of ppm): 50 µs of extra error per second of age.
_AGE_PENALTY = 50e-6


def _fit_drift(history: collections.deque[Sample]) -> float:
    """Least-squares slope of offset over time, weighted by 1/error²; 0 with too little history."""
    # Only the tightest samples: slow answers are often lopsided (a slow way out, a fast way
    # back), and a run of them after a fast one would read as drift.
    floor = min((s.error for s in history), default=0.0)
    samples = [s for s in history if s.error <= 2 * floor + 0.001]
    if len(samples) < 3:
        return 0.0
    span = samples[-1].mono_mid - samples[0].mono_mid
    if span < 10:  # too short to tell drift from noise
        return 0.0
    weights = [1 / max(s.error, 1e-6) ** 2 for s in samples]
    total = sum(weights)
    mean_t = sum(w * s.mono_mid for w, s in zip(weights, samples, strict=True)) / total
    mean_o = sum(w * s.offset for w, s in zip(weights, samples, strict=True)) / total
    var = sum(w * (s.mono_mid - mean_t) ** 2 for w, s in zip(weights, samples, strict=True))
    if var == 0:
        return 0.0
    cov = sum(
        w * (s.mono_mid - mean_t) * (s.offset - mean_o)
        for w, s in zip(weights, samples, strict=True)
    )
    slope = cov / var
    # An error bound e is a uniform spread of standard deviation e/√3, so the slope's standard
    # error is sqrt(1 / (3 · var)). Coarse clocks (Kraken's whole seconds) make slopes out of
    # noise: keep only a slope well above its own uncertainty, and never a physically absurd one.
    if abs(slope) < 3 * (1 / (3 * var)) ** 0.5:
        return 0.0
    return max(-_MAX_DRIFT, min(_MAX_DRIFT, slope))


_MAX_DRIFT = 500e-6  # 500 ppm: far beyond any working quartz clock
