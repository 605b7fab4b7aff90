"""The remote clock: an estimate of an exchange's time from past server-time readings.

For each reading we know the local monotonic instants the request was sent and the answer
received, and the server's reading with its resolution. The server read its clock somewhere
inside that round trip, so the midpoint is our best guess of when, and half the round trip plus
the resolution bounds the error. Low-latency samples give tight bounds, so the estimate prefers
them; drift is fitted over the history so an old tight sample is aged honestly.
"""

from __future__ import annotations

import collections
import threading
import time
from datetime import UTC, datetime, timedelta

import attrs


@attrs.frozen
class Sample:
    """One server-time reading. ``offset`` = server time - local wall time at the midpoint."""

    local_mid: float  # local wall time (UNIX s) at the round trip's midpoint
    mono_mid: float  # the same instant on the monotonic clock
    offset: float
    error: float  # half the round trip plus the server's resolution


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
    """Thread-safe estimate of one exchange's clock."""

    def __init__(self, resolution: float = 0.001, history: int = 64) -> None:
        self.resolution = resolution
        self._samples: collections.deque[Sample] = collections.deque(maxlen=history)
        self._lock = threading.Lock()
        # One fixed mapping from the monotonic clock to wall time, so a wall-clock step on this
        # machine during the session does not read as the exchange jumping.
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
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

    def _best(self, at_mono: float) -> tuple[Sample, float] | None:
        """The sample whose error, aged to ``at_mono``, is smallest, with that error."""
        best: tuple[Sample, float] | None = None
        for s in self._samples:
            aged = (
                s.error
                + abs(self.drift) * (at_mono - s.mono_mid)
                + _AGE_PENALTY * (at_mono - s.mono_mid)
            )
            if best is None or aged < best[1]:
                best = (s, aged)
        return best

    def now(self) -> Estimate:
        """The estimated server time now. Without samples: our own clock, error unbounded."""
        mono = time.monotonic()
        local = self._wall(mono)
        with self._lock:
            best = self._best(mono)
            drift = self.drift
        if best is None:
            return Estimate(datetime.fromtimestamp(local, UTC), float("inf"), 0.0)
        sample, error = best
        offset = sample.offset + drift * (mono - sample.mono_mid)
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


def _fit_drift(samples: collections.deque[Sample]) -> float:
    """Least-squares slope of offset over time, weighted by 1/error²; 0 with too little history."""
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
    return cov / var
