"""``xest sim``: simulators that outlive a command, found by ``--sim``, driven by controls."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from xest import registry
from xest.cli import sim_state
from xest.schemas import parse as jdoc

# Per exchange: a symbol, a limit price far below the market (the order rests), an amount.
RESTING = {
    "kraken": ("BTC/USD", "20000", "0.01"),
    "binance": ("BTC/USDT", "30000", "0.01"),
}


def _need(exchange: str) -> None:
    if exchange not in registry.simulators():
        pytest.skip(f"the {exchange} plugin registers no simulator")


@pytest.fixture
def started(xest_cli):
    """``started("kraken")`` runs ``xest sim start kraken``; every simulator stops after."""
    names = []

    def start(exchange: str) -> sim_state.RunningSim:
        _need(exchange)
        result = xest_cli("sim", "start", exchange, "--json")
        assert result.code == 0, result.err
        names.append(exchange)
        [row] = jdoc(result.out)
        found = sim_state.find(exchange)
        assert found is not None and found.url == row["url"] and found.pid == row["pid"]
        return found

    yield start
    if names:
        assert xest_cli("sim", "stop", *names).code == 0


@pytest.mark.parametrize("exchange", ["kraken", "binance"])
def test_two_step_order_flow_against_a_running_simulator(xest_cli, started, exchange):
    found = started(exchange)
    symbol, limit, amount = RESTING[exchange]
    placed = xest_cli("--sim", "order", exchange, symbol, "buy", amount, "--limit", limit, "-y")
    assert placed.code == 0, placed.err
    assert "no " not in placed.err  # no "state ends with the command" note: one is running
    order_id = re.search(r"order id\s+(\S+)", placed.out).group(1)

    # The next command (another process would do the same) sees the order...
    listed = xest_cli("--sim", "orders", exchange, "--json")
    assert listed.code == 0, listed.err
    [order] = [o for o in jdoc(listed.out) if o["id"] == order_id]
    assert order["status"] == "open" and order["remaining"] == order["amount"]

    # ...a control fills half of it...
    half = str(Decimal(amount) / 2)
    filled = xest_cli("sim", "fill", exchange, order_id, half)
    assert filled.code == 0, filled.err
    status = jdoc(xest_cli("--sim", "order-status", exchange, order_id, "--json").out)
    assert status["status"] == "partially_filled" and Decimal(status["filled"]) == Decimal(half)

    # ...and the next one cancels it; a second cancel is refused (exit 5).
    cancelled = xest_cli("--sim", "cancel", exchange, order_id, "--json")
    assert cancelled.code == 0, cancelled.err
    assert jdoc(cancelled.out)["status"] == "cancelled"
    again = xest_cli("--sim", "cancel", exchange, order_id)
    assert again.code == 5 and "already cancelled" in again.err

    # Two demo accounts: bob's orders are not alice's.
    bobs = xest_cli("--sim", "orders", exchange, "--account", "bob", "--json")
    assert bobs.code == 0 and all(o["id"] != order_id for o in jdoc(bobs.out))
    nobody = xest_cli("--sim", "balance", exchange, "--account", "carol")
    assert nobody.code == 3 and "alice, bob" in nobody.err
    assert found.credentials("bob")[1] not in nobody.err


def test_the_running_simulator_keeps_its_keys_private(xest_cli, started):
    found = started("kraken")
    keys_file = sim_state.sim_dir() / "kraken.keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    public = (sim_state.sim_dir() / "kraken.json").read_text()
    status = xest_cli("sim", "status")
    listed = xest_cli("sim", "status", "--json")
    balance = xest_cli("--sim", "balance", "kraken", "--debug")
    for name in found.accounts:
        _, key, secret = found.credentials(name)
        for text in (public, status.out, listed.out, balance.out, balance.err):
            assert key not in text and secret not in text
    assert "alice, bob" in status.out


def test_controls_move_price_status_and_clock(xest_cli, started):
    started("kraken")
    assert xest_cli("sim", "price", "kraken", "BTC/USD", "31000").code == 0
    [ticker] = jdoc(xest_cli("--sim", "ticker", "kraken", "BTC/USD", "--json").out)
    assert abs(Decimal(ticker["bid"]) - 31000) < 50

    assert xest_cli("sim", "maintenance", "kraken", "on").code == 0
    [row] = jdoc(xest_cli("--sim", "status", "kraken", "--json").out)
    assert row["status"] == "maintenance"
    assert xest_cli("sim", "maintenance", "kraken", "off").code == 0

    skew = xest_cli("sim", "skew", "kraken", "-5")  # a negative number is a value
    assert skew.code == 0, skew.err
    [clock] = jdoc(xest_cli("--sim", "time", "kraken", "--json", "--samples", "1").out)
    assert clock["offset_ms"] == pytest.approx(-5000, abs=1100)

    missing = xest_cli("sim", "fill", "kraken", "NO-SUCH-ORDER")
    assert missing.code == 6 and "NO-SUCH-ORDER" in missing.err


def test_controls_without_a_running_simulator_say_how_to_start_one(xest_cli):
    _need("kraken")
    result = xest_cli("sim", "price", "kraken", "BTC/USD", "1")
    assert result.code == 6
    assert "`xest sim start kraken`" in result.err


def test_without_a_running_simulator_sim_says_once_that_state_ends(xest_cli):
    _need("kraken")
    result = xest_cli("--sim", "balance", "kraken")
    assert result.code == 0, result.err
    assert result.err.count("for this command only") == 1
    assert "xest sim start kraken" in result.err
    quiet = xest_cli("--sim", "balance", "kraken", "--json")
    assert quiet.err == ""


def test_sim_and_url_together_is_a_usage_error(xest_cli):
    result = xest_cli("--sim", "status", "kraken", "--url", "http://127.0.0.1:1")
    assert result.code == 2
    assert "--sim and --url cannot be used together" in result.err
    assert "sim=True" not in result.err


def test_foreground_simulator_announces_itself_and_cleans_up():
    _need("binance")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xest", "sim", "binance", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = jdoc(proc.stdout.readline())
        found = sim_state.find("binance")
        assert found is not None and found.url == announced["url"]
        assert announced["accounts"] == ["alice", "bob"]
        second = subprocess.run(
            [sys.executable, "-m", "xest", "sim", "binance"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2 and "already runs" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while sim_state.find("binance") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim_state.find("binance") is None
    assert not (sim_state.sim_dir() / "binance.keys.json").exists()
