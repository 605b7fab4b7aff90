"""``xest watch``: bounded runs (--iterations), the account section, maintenance, JSON lines,
and a clean exit on Ctrl-C."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest

from xest.schemas import parse as jdoc

FAST = ("--refresh", "0.01", "--poll", "0.05")


@pytest.fixture
def no_agent_threads():
    """A check that the agent threads started during the test have ended (each given a few
    seconds to finish the poll it was in: they are daemons, stopped without a long wait)."""
    before = set(threading.enumerate())

    def check() -> bool:
        started = [t for t in threading.enumerate() if t not in before]
        for t in started:
            if t.name.startswith("xest-fakex"):
                t.join(5)
        return not [t for t in started if t.name.startswith("xest-fakex") and t.is_alive()]

    return check


@pytest.fixture
def demo_env(sim, monkeypatch):
    key, secret = sim.demo_credentials()
    monkeypatch.setenv("XEST_FAKEX_KEY", key)
    monkeypatch.setenv("XEST_FAKEX_SECRET", secret)
    return sim


def test_watch_shows_status_clock_balances_and_orders(xest_cli, fake, no_agent_threads):
    result = xest_cli("watch", "fakex", "--sim", "--iterations", "2", *FAST)
    assert result.code == 0, result.err
    frames = [f for f in result.out.split("Ctrl-C to quit") if f.strip()]
    assert len(frames) == 2
    frame = frames[-1]
    assert "account demo" in frame
    assert "status       ONLINE  since" in frame
    assert "server time  " in frame and " ms  (offset" in frame
    assert "USD" in frame and "1000.50" in frame
    assert "O-1" in frame and "70000" in frame
    assert no_agent_threads()


def test_watch_without_credentials_shows_the_exchange_only(xest_cli, sim):
    result = xest_cli("watch", "fakex", "--url", sim.url, "--iterations", "1", *FAST)
    assert result.code == 0, result.err
    assert "ONLINE" in result.out and "BALANCES" not in result.out


def test_watch_json_lines_follow_maintenance(xest_cli, demo_env):
    sim = demo_env
    sim.set_status("maintenance")
    result = xest_cli("watch", "fakex", "--url", sim.url, "--json", "--iterations", "3", *FAST)
    assert result.code == 0, result.err
    frames = [jdoc(line) for line in result.out.splitlines()]
    assert len(frames) == 3
    last = frames[-1]
    assert last["status"] == "maintenance" and last["stale"] is False
    assert last["account"] == "default"
    assert {b["asset"] for b in last["balances"]} == {"BTC", "USD"}
    assert last["open_orders"][0]["id"] == "O-1"
    assert {"source": "fakex", "kind": "status", "text": "unknown → maintenance"} in [
        {k: e[k] for k in ("source", "kind", "text")} for e in last["events"]
    ]
    times = [datetime.fromisoformat(f["server_time"]) for f in frames]
    assert times == sorted(times)  # the estimated clock ticks


def test_watch_shows_unknown_when_the_exchange_stops_answering(
    xest_cli, demo_env, monkeypatch, capsys
):
    """The exchange goes silent mid-watch: the view must not keep saying online."""
    sim = demo_env
    from xest.cli import watch_cmd

    real_sleep, calls, seen = watch_cmd._sleep, [], []

    def sleep(seconds):
        calls.append(seconds)
        if len(calls) == 3:
            sim.down = True
        seen.append(capsys.readouterr().out)
        if '"status": "unknown"' in seen[-1]:
            raise KeyboardInterrupt  # seen what we waited for: quit like a user would
        real_sleep(seconds)

    monkeypatch.setattr(watch_cmd, "_sleep", sleep)
    result = xest_cli(
        "watch",
        "fakex",
        "--url",
        sim.url,
        "--json",
        "--iterations",
        "200",
        "--refresh",
        "0.02",
        "--poll",
        "0.02",
    )
    assert result.code == 0, result.err
    frames = [jdoc(line) for line in "".join([*seen, result.out]).splitlines()]
    assert frames[0]["status"] == "online"
    assert frames[-1]["status"] == "unknown" and frames[-1]["stale"] is True
    # Unknown either by failed polls (with the reason) or by a poll still retrying too long.
    assert frames[-1]["last_error"] is None or "503" in frames[-1]["last_error"]
    assert len(frames) < 200


def test_ctrl_c_exits_cleanly(xest_cli, fake, monkeypatch, no_agent_threads):
    from xest.cli import watch_cmd

    calls = []

    def interrupted(seconds):
        calls.append(seconds)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(watch_cmd, "_sleep", interrupted)
    result = xest_cli("watch", "fakex", "--sim", *FAST)
    assert result.code == 0
    assert result.out.count("Ctrl-C to quit") >= 1
    assert "stopped" in result.err and "Traceback" not in result.err
    assert no_agent_threads()


def test_watch_refuses_bad_options(xest_cli, fake):
    assert xest_cli("watch", "fakex", "--sim", "--refresh", "0").code == 2
    assert xest_cli("watch", "fakex", "--sim", "--iterations", "0").code == 2


def test_a_terminal_gets_the_view_redrawn_in_place(xest_cli, fake, monkeypatch):
    from xest.cli import watch_cmd

    monkeypatch.setattr(watch_cmd, "_isatty", lambda: True)
    result = xest_cli("watch", "fakex", "--sim", "--iterations", "3", *FAST)
    assert result.code == 0, result.err
    assert result.out.count("\x1b[2J") == 1  # the screen is cleared once, at the start
    assert result.out.count("\x1b[H") == 3  # then each frame redraws from the top
    assert result.out.endswith("\x1b[J")
    assert all(line.endswith("\x1b[K") for line in result.out.split("\x1b[J")[0].splitlines())


def test_ctrl_c_does_not_wait_for_a_hanging_poll(xest_cli, sim, monkeypatch, no_agent_threads):
    from xest.cli import watch_cmd
    from xest.testing.server import Fault

    def interrupted(seconds):
        sim.inject(Fault.slow(2.0), path="/status")  # the exchange hangs from now on
        time.sleep(0.1)  # long enough for the agent's next status poll to go out
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_cmd, "_sleep", interrupted)
    result = xest_cli("watch", "fakex", "--url", sim.url, "--refresh", "0.01", "--poll", "0.02")
    assert result.code == 0 and "stopped" in result.err
    # Back at the prompt at once: stopping the agent cancelled the poll that was out, and its
    # thread is gone (issue 15.4: no thread left behind).
    assert no_agent_threads()


def test_events_are_described_in_one_line():
    from datetime import UTC, datetime

    from xest.agents.events import Event
    from xest.cli.watch_cmd import describe
    from xest.errors import ExchangeUnavailable
    from xest.models import Balance, Order, Status

    def event(kind, old=None, new=None, **data):
        return Event(kind, "fakex", datetime.now(UTC), old, new, data)

    order = Order("O-9", "BTC/USD", "buy", "limit", "partially_filled", "1", "0.25", "100")
    cases = [
        (event("status", Status.ONLINE, Status.MAINTENANCE), "online → maintenance"),
        (event("clock_jump", 0.0012, 30.0015), "clock offset +1.2 → +30001.5 ms"),
        (
            event("poll_failed", new=ExchangeUnavailable("down"), task="status"),
            "status poll failed: down",
        ),
        (event("poll_recovered", old=3, task="time"), "time answers again after 3 failed poll(s)"),
        (
            event("markets", 3, 4, added=["SOL/USD"], removed=[], changed=[]),
            "1 listed, 0 delisted, 0 changed",
        ),
        (event("balance", Balance("USD", "10"), Balance("USD", "7.5", "2")), "USD 10 → 9.5"),
        (event("balance", None, Balance("EUR", "1")), "EUR 0 → 1"),
        (event("order_partial_fill", None, order), "order O-9 partially_filled 0.25/1"),
    ]
    for e, expected in cases:
        assert describe(e) == expected
