"""The exchange agent against the fake exchange's simulator: maintenance and back, staleness,
the clock estimate and its jumps, failed polls, and clean shutdown."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import xest
from xest.agents.exchange import ExchangeAgent
from xest.models import Status
from xest.testing.server import Fault

FAST = {"status_interval": 0.01, "time_interval": 0.01}


def status_events(listener, count, timeout=5.0):
    return [listener.wait_for(lambda e: e.kind == "status", timeout) for _ in range(count)]


def test_maintenance_and_back(client, sim):
    agent = client.exchange.configure(**FAST)
    with agent.listen("status") as listener:
        agent.start()
        [first] = status_events(listener, 1)
        assert (first.old, first.new) == (Status.UNKNOWN, Status.ONLINE)
        online_since = agent.since

        sim.set_status("maintenance")
        [down] = status_events(listener, 1)
        assert (down.old, down.new) == (Status.ONLINE, Status.MAINTENANCE)
        state = agent.state()
        assert state.status is Status.MAINTENANCE and not state.is_online
        assert state.since > online_since
        assert state.since == down.data["since"]

        sim.set_status("online")
        [up] = status_events(listener, 1)
        assert (up.old, up.new) == (Status.MAINTENANCE, Status.ONLINE)
        assert agent.status is Status.ONLINE
    # The history holds what was seen, oldest first, with local timestamps.
    seen = [o.value.status for o in agent.history("status") if o.ok]
    assert seen[0] is Status.ONLINE and Status.MAINTENANCE in seen and seen[-1] is Status.ONLINE
    stamps = [o.at for o in agent.history()]
    assert stamps == sorted(stamps)
    assert all(abs(datetime.now(UTC) - t) < timedelta(minutes=1) for t in stamps)


def test_unreachable_exchange_reads_unknown_then_recovers(client, sim):
    agent = client.exchange.configure(**FAST, stale_after=2)
    with agent.listen("status", "poll_failed") as listener:
        agent.start()
        status_events(listener, 1)
        sim.down = True
        [gone] = status_events(listener, 1)
        assert (gone.old, gone.new) == (Status.ONLINE, Status.UNKNOWN)
        state = agent.state()
        assert state.status is Status.UNKNOWN and state.stale
        assert state.reported.status is Status.ONLINE  # what it last said is still on record
        assert "503" in state.last_error
        assert agent.running  # failed polls never kill the agent
        sim.down = False
        [back] = status_events(listener, 1)
        assert (back.old, back.new) == (Status.UNKNOWN, Status.ONLINE)
    assert not agent.state().stale
    failures = [o for o in agent.history() if not o.ok]
    assert failures and all("503" in str(o.error) for o in failures)


def test_status_goes_unknown_when_polls_stop(client, sim):
    """Staleness by silence: a stopped (or stuck) agent does not keep saying online."""
    now = [0.0]
    agent = ExchangeAgent(
        client.connector, status_interval=5, time_interval=5, monotonic=lambda: now[0]
    )
    agent.poll()
    assert agent.status is Status.ONLINE
    now[0] += 19  # up to three intervals and a bit: still trusted (grace for the next poll)
    assert agent.status is Status.ONLINE
    now[0] += 1
    assert agent.status is Status.UNKNOWN
    assert [(e.old, e.new) for e in agent.events("status")][-1] == (Status.ONLINE, Status.UNKNOWN)


def test_faults_are_recorded_and_retried(client, sim):
    agent = ExchangeAgent(client.connector, status_interval=60, time_interval=60)
    sim.inject(Fault.reset(), Fault.html(), Fault.truncated(), path="/status")
    for _ in range(3):
        [observation] = agent.poll("status")
        assert not observation.ok
        assert isinstance(observation.error, xest.errors.XestError)
    [observation] = agent.poll("status")
    assert observation.ok
    assert agent.status is Status.ONLINE
    assert len(agent.events("poll_failed")) == 3


def test_estimated_server_time_tracks_a_skewed_exchange(fake):
    with (
        fake.FakeSimulator(clock_offset=3600.0) as sim,
        xest.open("fakex", url=sim.url, cache=False, retries=0) as client,
    ):
        agent = client.exchange
        agent.poll()
        estimate = agent.now()
        truth = sim.now()
        assert estimate.error < 1.0
        # Our estimate and the simulator's clock agree within the bound (plus the few
        # microseconds between the two readings).
        assert abs(estimate.time.timestamp() - truth) <= estimate.error + 0.05
        state = agent.state()
        assert abs(state.offset - 3600.0) <= state.error + 0.05


def test_clock_jump_is_an_event_and_the_estimate_follows(client, sim):
    agent = ExchangeAgent(
        client.connector, status_interval=60, time_interval=60, jump_threshold=0.1
    )
    for _ in range(3):
        agent.poll("time")
    assert agent.events("clock_jump") == ()
    sim.clock_offset = 30.0
    agent.poll("time")
    [jump] = agent.events("clock_jump")
    assert jump.data["delta"] == pytest.approx(30.0, abs=0.5)
    assert jump.new - jump.old == pytest.approx(30.0, abs=0.5)
    estimate = agent.now()
    assert abs(estimate.time.timestamp() - sim.now()) <= estimate.error + 0.05


def test_client_context_manager_stops_its_agents(sim, fake):
    with xest.open("fakex", url=sim.url, cache=False, retries=0) as client:
        agent = client.exchange.configure(**FAST).start()
        assert agent.running
        assert str(agent) == "fakex" and client.name == "fakex"
    assert not agent.running


def test_agent_skips_what_the_connector_cannot_do(sim, fake, monkeypatch):
    class StatusOnly(fake.FakeConnector):
        capabilities = frozenset({"status"})

    from xest import registry

    monkeypatch.setattr(registry, "connectors", lambda: {"fakex": StatusOnly})
    with xest.open("fakex", url=sim.url, cache=False, retries=0) as client:
        agent = client.exchange
        assert agent.tasks == ("status",)
        agent.poll()
        state = agent.state()
        assert state.status is Status.ONLINE
        assert state.error == float("inf")  # no clock reading: the estimate says so


def test_market_listing_changes_are_events(client, sim):
    agent = ExchangeAgent(client.connector, status_interval=60, time_interval=60)
    assert agent.markets is None and "markets" not in agent.tasks
    agent.configure(markets_interval=60)
    agent.poll("markets")
    assert set(agent.markets) == {"BTC/USD", "ETH/USD", "ETH/BTC"}
    agent.poll("markets")
    assert agent.events("markets") == ()  # the same listing is no news
    sim.extra_markets.append(
        {
            "symbol": "SOL/USD",
            "id": "SOLUSD",
            "base": "SOL",
            "quote": "USD",
            "tick": "0.01",
            "step": "0.01",
        }
    )
    agent.poll("markets")
    [event] = agent.events("markets")
    assert event.data == {"added": ["SOL/USD"], "removed": [], "changed": []}
    assert (event.old, event.new) == (3, 4)
    assert agent.markets["SOL/USD"].price_step == Decimal("0.01")


def test_a_hanging_poll_reads_unknown_before_it_returns(client, sim):
    """The watchdog: while one poll hangs (slow exchange, long timeouts), the status turns
    unknown on time, with its event, instead of after the poll gives up."""
    agent = client.exchange.configure(status_interval=0.02, time_interval=60, stale_after=2)
    with agent.listen("status") as events:
        agent.start()
        events.wait_for(lambda e: e.new is Status.ONLINE, timeout=5)
        sim.inject(Fault.slow(1.5), path="/status")
        silent = events.wait_for(lambda e: e.new is Status.UNKNOWN, timeout=5)
        back = events.wait_for(lambda e: e.new is Status.ONLINE, timeout=5)
    status_polls = agent.history("status")
    assert all(o.ok for o in status_polls)  # no poll failed: silence alone made it unknown
    slow = next(o for o in status_polls if o.duration >= 1.0)
    assert silent.at < slow.at <= back.at  # unknown came while the slow poll was still out


def test_a_stopped_simulator_reads_unknown(fake):
    """Stopping the simulator ends its kept-alive connections too: the agent sees it gone."""
    sim = fake.FakeSimulator().start()
    with xest.open("fakex", url=sim.url, cache=False, retries=0) as client:
        agent = client.exchange.configure(status_interval=0.02, time_interval=60, stale_after=2)
        with agent.listen("status") as events:
            agent.start()
            events.wait_for(lambda e: e.new is Status.ONLINE, timeout=5)
            sim.stop()
            events.wait_for(lambda e: e.new is Status.UNKNOWN, timeout=5)
        [observation] = agent.poll("status")
        assert isinstance(observation.error, xest.errors.ExchangeUnavailable)


def test_sync_clock_narrows_a_coarse_clock(fake, monkeypatch):
    """Readings timed around the ticks of a coarse clock each halve the uncertainty."""
    from xest import registry
    from xest.models import ServerTime

    class Coarse(fake.FakeConnector):
        time_resolution = timedelta(milliseconds=200)  # Kraken's whole seconds, scaled down

        def server_time(self):
            ms = self.request(fake.TIME)["ms"]
            return ServerTime(Decimal(ms // 200 * 200) / 1000, resolution=self.time_resolution)

    monkeypatch.setattr(registry, "connectors", lambda: {"fakex": Coarse})
    with (
        fake.FakeSimulator(clock_offset=12.345) as sim,
        xest.open("fakex", url=sim.url, cache=False, retries=0) as client,
    ):
        agent = client.exchange
        one = agent.sync_clock(readings=1)
        assert one.error >= 0.1  # a single reading: half the resolution at best
        several = agent.sync_clock(readings=5)
        assert several.error < one.error / 3
        assert abs(several.offset - 12.345) <= several.error + 0.005
        assert len(agent.history("time")) == 6  # the readings are the agent's observations
        assert agent.sync_clock(max_error=1.0, readings=5) is not None
        assert len(agent.history("time")) == 6  # within the wanted error: no new reading


def test_sync_clock_without_the_capability(sim, fake, monkeypatch):
    class StatusOnly(fake.FakeConnector):
        capabilities = frozenset({"status"})

    from xest import registry

    monkeypatch.setattr(registry, "connectors", lambda: {"fakex": StatusOnly})
    with xest.open("fakex", url=sim.url) as client, pytest.raises(xest.errors.NotSupported):
        client.exchange.sync_clock()


def test_background_readings_of_a_coarse_clock_land_on_its_ticks(fake, monkeypatch):
    from xest import registry
    from xest.models import ServerTime

    class Coarse(fake.FakeConnector):
        time_resolution = timedelta(milliseconds=100)

        def server_time(self):
            ms = self.request(fake.TIME)["ms"]
            return ServerTime(Decimal(ms // 100 * 100) / 1000, resolution=self.time_resolution)

    monkeypatch.setattr(registry, "connectors", lambda: {"fakex": Coarse})
    with (
        fake.FakeSimulator(clock_offset=-3.21) as sim,
        xest.open("fakex", url=sim.url, cache=False, retries=0) as client,
    ):
        # Every two ticks: untimed, the readings would all fall at the same phase of a tick
        # and teach nothing after the first.
        agent = client.exchange.configure(status_interval=60, time_interval=0.2)
        with agent.listen("poll_failed") as failures:
            agent.start()
            deadline = time.monotonic() + 10
            while len(agent.history("time")) < 6 and time.monotonic() < deadline:
                time.sleep(0.02)
            agent.stop()
            assert not failures.drain()
        estimate = agent.now()
        assert len(agent.history("time")) >= 6
        assert estimate.error < 0.05 / 3  # one reading alone: ±0.05 s at best
        assert abs(estimate.offset + 3.21) <= estimate.error + 0.005
