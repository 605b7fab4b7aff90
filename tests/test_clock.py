"""The remote clock against a simulated exchange with a known offset, drift and latencies."""

from __future__ import annotations

import math
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xest.clock import RemoteClock
from xest.credentials import Credentials
from xest.http import Endpoint, Transport

WALL0 = 1_700_000_000.0


class World:
    """Our monotonic clock, and an exchange whose clock runs ``offset`` ahead, drifting."""

    def __init__(self, offset: float, drift: float = 0.0, resolution: float = 0.001, seed=1):
        self.mono = 500.0
        self.offset = offset
        self.drift = drift
        self.resolution = resolution
        self.rng = random.Random(seed)
        self.clock = RemoteClock(resolution, monotonic=lambda: self.mono, wall=lambda: WALL0)
        self.mono0 = self.mono

    def true_offset(self, mono: float | None = None) -> float:
        mono = self.mono if mono is None else mono
        return self.offset + self.drift * (mono - self.mono0)

    def server_reading(self, mono: float) -> datetime:
        exact = WALL0 + (mono - self.mono0) + self.true_offset(mono)
        # Exchanges truncate to their resolution (Kraken: whole seconds).
        return datetime.fromtimestamp(math.floor(exact / self.resolution) * self.resolution, UTC)

    def poll(self, out: float, back: float) -> None:
        """One server-time call: ``out`` seconds to the server, ``back`` seconds to us."""
        sent = self.mono
        reading = self.server_reading(sent + out)
        self.mono = sent + out + back
        self.clock.observe(reading, sent, self.mono)

    def latency(self, low=0.002, high=0.15) -> float:
        return self.rng.uniform(low, high)

    def check(self) -> None:
        est = self.clock.now()
        truth = self.true_offset()
        assert abs(est.offset - truth) <= est.error + 1e-6, (est, truth)


def test_no_samples_means_unbounded_error():
    clock = RemoteClock()
    assert clock.now().error == math.inf
    assert clock.needs_refresh(10.0)


def test_one_sample_known_offset_within_half_round_trip():
    world = World(offset=2.345)
    world.poll(0.010, 0.030)  # asymmetric: the midpoint guess is off by 10 ms, within 20 ms
    est = world.clock.now()
    assert est.error == pytest.approx(0.020 + 0.0005, abs=1e-5)
    assert abs(est.offset - 2.345) <= est.error
    world.check()


@pytest.mark.parametrize("offset", [-7.5, 0.0, 0.8, 3600.25])
def test_estimate_stays_within_its_bound_with_random_asymmetric_latency(offset):
    world = World(offset=offset, seed=int(offset * 10))
    for _ in range(50):
        world.poll(world.latency(), world.latency())
        world.check()
        world.mono += world.rng.uniform(0.1, 3.0)
        world.check()


def test_prefers_low_latency_samples():
    world = World(offset=1.0)
    world.poll(0.002, 0.002)
    tight = world.clock.now().error
    for _ in range(10):
        world.mono += 1
        world.poll(0.3, 0.05)  # slow, lopsided answers: their midpoint is 125 ms off
        world.check()
    est = world.clock.now()
    assert est.error < 0.005
    assert abs(est.offset - 1.0) < 0.005
    assert est.error <= tight + 0.001  # the slow samples did not loosen it


def test_whole_second_readings_combine_to_a_tight_estimate():
    world = World(offset=-12.3456, resolution=1.0, seed=7)
    world.poll(0.02, 0.02)
    assert world.clock.now().error >= 0.5  # one reading of a 1 s clock
    for _ in range(30):
        world.mono += world.rng.uniform(0.3, 1.7)  # readings at different sub-second phases
        world.poll(world.latency(0.005, 0.03), world.latency(0.005, 0.03))
        world.check()
    assert world.clock.now().error < 0.1


@pytest.mark.parametrize("drift", [40e-6, -30e-6])
def test_drift_is_estimated_and_bounds_hold_while_extrapolating(drift):
    world = World(offset=0.5, drift=drift)
    for _ in range(40):
        world.poll(world.latency(0.0002, 0.001), world.latency(0.0002, 0.001))
        world.check()
        world.mono += 10
        world.check()
    assert world.clock.drift == pytest.approx(drift, rel=0.1)
    for _ in range(10):  # ten minutes without readings: extrapolated, still within the bound
        world.mono += 60
        world.check()


def test_fast_drift_is_caught_once_fitted():
    world = World(offset=0.0, drift=300e-6)
    for _ in range(30):
        world.poll(world.latency(0.0002, 0.001), world.latency(0.0002, 0.001))
        world.mono += 2
    assert world.clock.drift == pytest.approx(300e-6, rel=0.1)
    for _ in range(10):
        world.mono += 30
        world.check()


def test_noise_on_a_coarse_clock_is_not_taken_for_drift():
    world = World(offset=4.0, resolution=1.0, seed=3)
    for _ in range(40):
        world.poll(world.latency(), world.latency())
        world.mono += world.rng.uniform(0.5, 1.5)
    assert abs(world.clock.drift) < 50e-6
    world.check()


def test_error_grows_with_age_and_needs_refresh_says_when():
    world = World(offset=0.0)
    world.poll(0.005, 0.005)
    assert not world.clock.needs_refresh(0.01)
    first = world.clock.now().error
    world.mono += 600
    later = world.clock.now().error
    assert later > first
    assert world.clock.needs_refresh(0.01)
    assert not world.clock.needs_refresh(0.1)


def test_a_stepped_clock_falls_back_to_the_best_fresh_sample():
    world = World(offset=0.0)
    world.poll(0.005, 0.005)
    world.mono += 1
    world.offset = 5.0  # the exchange's clock jumps
    world.poll(0.001, 0.001)
    est = world.clock.now()
    assert abs(est.offset - 5.0) <= est.error
    world.clock.forget_before(world.mono - 0.5)
    assert len(world.clock.samples) == 1
    world.check()


def test_estimate_time_and_timestamp_ms_agree():
    world = World(offset=2.0)
    world.poll(0.001, 0.001)
    est = world.clock.now()
    assert est.time.tzinfo is UTC
    assert est.time.timestamp() == pytest.approx(WALL0 + (world.mono - world.mono0) + 2.0, abs=2e-3)
    assert world.clock.timestamp_ms() == est.timestamp_ms


def test_real_loopback_exchange_with_known_offset(sim_factory):
    server = sim_factory(clock_offset=3.0)
    clock = RemoteClock(resolution=1.0)
    transport = Transport("echo", server.url, clock=clock)
    time_endpoint = Endpoint("time", "GET", "/time")
    for _ in range(4):
        sent = time.monotonic()
        unixtime = transport.request(time_endpoint).data["unixtime"]
        received = time.monotonic()
        clock.observe(datetime.fromtimestamp(unixtime, UTC), sent, received)
        time.sleep(0.27)  # readings at different phases of the server's second
    est = clock.now()
    assert abs(est.offset - 3.0) <= est.error + 0.002  # + the server's own read jitter
    assert est.error < 1.0

    # And signed requests take their timestamp from it, not from our clock.
    stamps = []

    def sign(req, creds, ctx):
        stamps.append(ctx.timestamp_ms())

    order = Endpoint("order", "POST", "/order", signed=True)
    transport.request(order, signer=sign, credentials=Credentials("k" * 8, "s" * 8))
    assert abs(stamps[0] / 1000 - (time.time() + 3.0)) <= est.error + 0.05


@pytest.fixture
def sim_factory():
    sys.path.insert(0, str(Path(__file__).parent / "http"))
    from httpsupport import EchoExchange

    servers = []

    def make(**kw):
        server = EchoExchange(**kw).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
