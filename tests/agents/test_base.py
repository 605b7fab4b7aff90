"""The agent machinery, driven by hand with a fake monotonic clock (and, for the thread, for real
with short intervals and event waits instead of sleeps)."""

from __future__ import annotations

import threading

import pytest

from xest import errors
from xest.agents.base import Agent


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Flaky:
    """A poll function that fails while ``failing`` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = False

    def __call__(self) -> int:
        self.calls += 1
        if self.failing:
            raise errors.ExchangeUnavailable("down for the test", exchange="fakex")
        return self.calls


@pytest.fixture
def clock():
    return FakeClock()


def make(clock, **kw):
    agent = Agent("test", monotonic=clock, **kw)
    flaky = Flaky()
    agent.add_task("flaky", flaky, 10)
    return agent, flaky


def test_history_is_bounded_and_ordered(clock):
    agent, _ = make(clock, history=5)
    for _ in range(12):
        agent.poll()
        clock.advance(10)
    values = [o.value for o in agent.history("flaky")]
    assert values == [8, 9, 10, 11, 12]
    assert all(o.at.tzinfo is not None for o in agent.history())
    assert agent.last("flaky").value == 12


def test_failed_poll_is_recorded_and_retried(clock):
    agent, flaky = make(clock)
    agent.poll()
    flaky.failing = True
    clock.advance(10)
    [failed] = agent.tick()
    assert not failed.ok
    assert isinstance(failed.error, errors.ExchangeUnavailable)
    assert agent.last("flaky").value == 1  # the last good value is kept
    assert agent.last("flaky", ok=False) is failed
    flaky.failing = False
    clock.advance(10)
    [good] = agent.tick()
    assert good.ok and good.value == 3
    kinds = [e.kind for e in agent.events()]
    assert kinds == ["poll_failed", "poll_recovered"]
    assert agent.events("poll_failed")[0].data["task"] == "flaky"


def test_tick_polls_only_what_is_due(clock):
    agent, flaky = make(clock)
    fast = Flaky()
    agent.add_task("fast", fast, 2)
    agent.poll()
    assert (flaky.calls, fast.calls) == (1, 1)
    for _ in range(5):  # 10 seconds in steps of 2
        clock.advance(2)
        agent.tick()
    assert (flaky.calls, fast.calls) == (2, 6)


def test_consecutive_failures_make_a_task_stale(clock):
    agent, flaky = make(clock, stale_after=3)
    agent.poll()
    assert not agent.is_stale("flaky")
    flaky.failing = True
    for expected in (1, 2):
        clock.advance(10)
        agent.tick()
        assert agent.missed("flaky") == expected
        assert not agent.is_stale("flaky")
    clock.advance(10)
    agent.tick()
    state = agent.task_state("flaky")
    assert state.stale and state.failures == 3
    assert isinstance(state.last_error, errors.ExchangeUnavailable)


def test_silence_makes_a_task_stale_too(clock):
    """No poll at all (thread stuck or stopped) is as bad as failed polls."""
    agent, _ = make(clock, stale_after=3)
    agent.poll()
    clock.advance(39)  # the poll due at +10 gets a grace interval; +20, +30 missed
    assert agent.missed("flaky") == 2 and not agent.is_stale("flaky")
    clock.advance(1)
    assert agent.missed("flaky") == 3 and agent.is_stale("flaky")


def test_never_polled_is_stale():
    agent, _ = make(FakeClock())
    assert agent.is_stale("flaky")


def test_subscribers_filter_cancel_and_survive_each_other(clock):
    agent, _ = make(clock)
    seen, failing_calls = [], []

    def broken(event):
        failing_calls.append(event)
        raise RuntimeError("subscriber bug")

    agent.subscribe(broken)
    sub = agent.subscribe(seen.append, "mine")
    agent.emit("other", new=1)
    agent.emit("mine", old=1, new=2, why="test")
    sub.cancel()
    agent.emit("mine", new=3)
    assert [(e.kind, e.old, e.new, e.data) for e in seen] == [("mine", 1, 2, {"why": "test"})]
    assert len(failing_calls) == 3
    assert [e.new for e in agent.events("mine")] == [2, 3]


def test_unknown_task_and_bad_interval(clock):
    agent, _ = make(clock)
    with pytest.raises(KeyError, match="no task 'nope'"):
        agent.poll("nope")
    with pytest.raises(ValueError, match="positive"):
        agent.add_task("zero", lambda: None, 0)


def test_thread_survives_failures_and_stops_cleanly():
    agent = Agent("threaded")
    flaky = Flaky()
    flaky.failing = True
    agent.add_task("flaky", flaky, 0.005)
    with agent.listen("poll_failed", "poll_recovered") as events:
        agent.start()
        assert agent.running
        for _ in range(3):
            assert events.get(timeout=5).kind == "poll_failed"
        flaky.failing = False
        events.wait_for(lambda e: e.kind == "poll_recovered", timeout=5)
    assert agent.running
    agent.start()  # a second start is a no-op, not a second thread
    assert sum(t.name == "xest-threaded" for t in threading.enumerate()) == 1
    agent.stop()
    assert not agent.running
    calls = flaky.calls
    assert not any(t.name == "xest-threaded" for t in threading.enumerate())
    assert flaky.calls == calls


def test_start_waits_for_the_first_round():
    agent = Agent("first")
    agent.add_task("one", lambda: "value", 60)
    with agent:
        assert agent.last("one").value == "value"
    assert not agent.running


def test_listener_times_out():
    agent = Agent("quiet")
    with agent.listen() as events, pytest.raises(TimeoutError):
        events.get(timeout=0.01)


def test_a_subscriber_may_poll_again(clock):
    """Events are delivered from inside a poll; reacting with another poll must not deadlock."""
    agent, flaky = make(clock)
    flaky.failing = True
    agent.subscribe(lambda event: agent.poll("other"), "poll_failed")
    other = Flaky()
    agent.add_task("other", other, 10)
    agent.poll("flaky")
    assert other.calls == 1


def test_restart_after_a_stop_that_timed_out_leaves_one_loop():
    """stop() gives up on a hanging poll; start() again must not revive the old thread."""
    release, entered = threading.Event(), threading.Event()
    calls = []

    def hanging():
        calls.append(threading.current_thread())
        if len(calls) == 1:
            entered.set()
            release.wait(10)
        return len(calls)

    agent = Agent("restart")
    agent.add_task("hang", hanging, 0.01)
    agent.start(wait=False)
    assert entered.wait(5)
    old = next(t for t in threading.enumerate() if t.name == "xest-restart")
    agent.stop(timeout=0.05)
    assert old.is_alive()  # still inside the hanging poll
    agent.start(wait=False)
    release.set()
    old.join(5)
    assert not old.is_alive()  # it ended once its poll returned
    loops = [t for t in threading.enumerate() if t.name == "xest-restart"]
    assert len(loops) == 1 and loops[0] is not old
    agent.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("xest-restart")]


def test_events_hash_despite_their_data_dict(clock):
    agent, _ = make(clock)
    event = agent.emit("k", old=1, new=2, detail={"nested": [1]})
    assert event in {event}
