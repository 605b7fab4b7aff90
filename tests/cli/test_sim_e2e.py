"""End to end against the real connectors' simulators (``--sim kraken`` / ``--sim binance``):
every read command, the agents through maintenance and back, several accounts side by side, and
Ctrl-C on a real ``xest watch`` process. Skipped when a plugin registers no simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

import xest
from xest import registry
from xest.models import Status
from xest.schemas import parse as jdoc

SYMBOLS = {"kraken": "BTC/USD", "binance": "BTC/USDT"}
MAINTENANCE = {
    "kraken": (lambda sim: sim.set_status("maintenance"), lambda sim: sim.set_status("online")),
    "binance": (lambda sim: sim.set_status(1), lambda sim: sim.set_status(0)),
}


@pytest.fixture(params=sorted(SYMBOLS))
def exchange(request):
    if request.param not in registry.simulators():
        pytest.skip(f"the {request.param} plugin registers no simulator")
    return request.param


def test_every_read_command(xest_cli, exchange):
    symbol = SYMBOLS[exchange]
    runs = {
        "status": ("status", exchange),
        "time": ("time", exchange),
        "markets": ("markets", exchange),
        "ticker": ("ticker", exchange, symbol),
        "book": ("book", exchange, symbol, "--depth", "3"),
        "candles": ("candles", exchange, symbol, "1h", "--limit", "3"),
        "trades": ("trades", exchange, symbol, "--limit", "5"),
        "balance": ("balance", exchange),
        "orders": ("orders", exchange),
        "my-trades": ("my-trades", exchange),
    }
    data = {}
    for name, args in runs.items():
        result = xest_cli(*args, "--sim", "--json")
        assert result.code == 0, f"{name}: {result.err}"
        data[name] = jdoc(result.out)
        table = xest_cli(*args, "--sim")
        assert table.code == 0 and table.out.strip(), f"{name}: {table.err}"
    assert data["status"][0]["status"] == "online"
    assert data["time"][0]["error_ms"] < 1500
    assert symbol in {m["symbol"] for m in data["markets"]}
    assert Decimal(data["ticker"][0]["bid"]) < Decimal(data["ticker"][0]["ask"])
    assert len(data["book"]["bids"]) == 3
    assert len(data["candles"]) == 3
    assert 0 < len(data["trades"]) <= 5
    assert data["balance"] and all(Decimal(b["free"]) >= 0 for b in data["balance"].values())


def test_watch_one_frame(xest_cli, exchange):
    result = xest_cli("watch", exchange, "--sim", "--iterations", "1", "--json")
    assert result.code == 0, result.err
    frame = jdoc(result.out)
    assert frame["status"] == "online" and frame["account"] == "alice"
    assert frame["balances"]


def test_exchange_agent_through_maintenance(exchange):
    sim = registry.simulator_factory(exchange)().start()
    down, up = MAINTENANCE[exchange]
    try:
        with xest.open(exchange, url=sim.url, cache=False) as client:
            agent = client.exchange.configure(status_interval=0.02, time_interval=0.05)
            with agent.listen("status") as events:
                agent.start()
                assert events.get(timeout=10).new is Status.ONLINE
                down(sim)
                changed = events.wait_for(lambda e: e.new is not Status.ONLINE, timeout=10)
                assert changed.new is Status.MAINTENANCE
                up(sim)
                back = events.wait_for(lambda e: e.new is Status.ONLINE, timeout=10)
                assert back.old is Status.MAINTENANCE
            state = agent.state()
            assert state.status is Status.ONLINE and state.error < 1.5
    finally:
        sim.stop()


def test_several_accounts_side_by_side(exchange):
    sim = registry.simulator_factory(exchange)().start()
    try:
        demo_key, demo_secret = sim.demo_credentials()
        if exchange == "kraken":
            other_key, other_secret = sim.add_account(balances={"ZUSD": "123.45"})
        else:
            other_key, other_secret = sim.add_account({"USDT": "123.45"})
        with (
            xest.open(exchange, url=sim.url, key=demo_key, secret=demo_secret) as demo,
            xest.open(exchange, url=sim.url, key=other_key, secret=other_secret) as other,
        ):
            agents = [demo.account, other.account]
            for agent in agents:
                for task in agent.tasks:
                    agent.set_interval(task, 0.05)
                agent.start()
            deadline = time.monotonic() + 10
            while any(a.balances is None for a in agents) and time.monotonic() < deadline:
                time.sleep(0.02)
            demo_balances, other_balances = (a.balances for a in agents)
            assert all(a.running for a in agents)
            assert {b.total for b in other_balances.values() if b.total} == {Decimal("123.45")}
            assert len([b for b in demo_balances.values() if b.total]) > 1
        assert not any(a.running for a in agents)
    finally:
        sim.stop()


def test_ctrl_c_on_a_real_watch_process(tmp_path, exchange):
    env = {
        **os.environ,
        "XEST_CACHE_DIR": str(tmp_path / "cache"),
        "XEST_CONFIG": str(tmp_path / "config.toml"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "xest", "watch", exchange, "--sim", "--refresh", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        seen = ""
        while "Ctrl-C to quit" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "Ctrl-C to quit" in seen, proc.stderr.read() if proc.poll() is not None else seen
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err


def test_reads_against_a_separate_simulator_process(xest_cli, exchange, tmp_path, monkeypatch):
    """`xest sim` in its own process, and the read commands pointed at it with --url and the
    demo account's keys in XEST_<EXCHANGE>_KEY/_SECRET (a server run by someone else)."""
    env = {**os.environ, "XEST_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "xest", "sim", exchange, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        url = next(w for w in first.split() if w.startswith("http://127.0.0.1:")).rstrip(",")
        symbol = SYMBOLS[exchange]
        reads = [
            ("status", exchange),
            ("time", exchange, "--samples", "1"),
            ("ticker", exchange, symbol),
            ("book", exchange, symbol, "--depth", "2"),
        ]
        # The account reads need the other process's demo keys: only knowable when fixed.
        factory = registry.simulator_factory(exchange)
        key, secret = factory().demo_credentials()
        fixed_keys = (key, secret) == factory().demo_credentials()
        if fixed_keys:
            monkeypatch.setenv(f"XEST_{exchange.upper()}_KEY", key)
            monkeypatch.setenv(f"XEST_{exchange.upper()}_SECRET", secret)
            reads += [("balance", exchange), ("orders", exchange)]
        for args in reads:
            result = xest_cli(*args, "--url", url)
            assert result.code == 0, f"{args}: {result.err}"
        frame = jdoc(xest_cli("watch", exchange, "--url", url, "--iterations", "1", "--json").out)
        assert frame["status"] == "online"
        assert frame.get("account") == ("default" if fixed_keys else None)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
