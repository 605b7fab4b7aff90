"""``xest balance/orders/my-trades`` with the simulator's demo account, a named account from the
config file, and the environment's default account; no secret ever in the output."""

from __future__ import annotations

import os

import pytest

from xest.schemas import parse as jdoc

ALICE_KEY = "alice-key-7f3a9c"
ALICE_SECRET = "alice-secret-5be2d81f09"


@pytest.fixture
def alice(sim, monkeypatch, tmp_path):
    """A config account ``alice`` on fakex whose secrets live in environment variables."""
    sim.add_account(ALICE_KEY, ALICE_SECRET, {"EUR": "42.5", "BTC": "0"})
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.alice]\nexchange = "fakex"\nkey_env = "ALICE_KEY"\nsecret_env = "ALICE_SECRET"\n'
    )
    os.chmod(config, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    monkeypatch.setenv("ALICE_KEY", ALICE_KEY)
    monkeypatch.setenv("ALICE_SECRET", ALICE_SECRET)
    return sim


def test_balance_of_the_demo_account(xest_cli, fake):
    result = xest_cli("balance", "fakex", "--sim")
    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines()[1:]]
    assert rows == [["BTC", "0.5", "0.1", "0.6", "-"], ["USD", "1000.50", "0", "1000.50", "-"]]
    data = jdoc(xest_cli("balance", "fakex", "--sim", "--json").out)
    assert data["USD"]["free"] == "1000.50" and data["BTC"]["locked"] == "0.1"


def test_balance_of_a_named_account(xest_cli, alice):
    result = xest_cli("balance", "fakex", "--url", alice.url, "--account", "alice")
    assert result.code == 0, result.err
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == ["EUR"]  # BTC 0 hidden
    every = xest_cli("balance", "fakex", "--url", alice.url, "--account", "alice", "--all")
    assert [line.split()[0] for line in every.out.splitlines()[1:]] == ["BTC", "EUR"]
    for text in (result.out, result.err, every.out):
        assert ALICE_SECRET not in text and ALICE_KEY not in text


def test_default_account_from_the_environment(xest_cli, sim, fake, monkeypatch):
    key, secret = sim.demo_credentials()
    monkeypatch.setenv("XEST_FAKEX_KEY", key)
    monkeypatch.setenv("XEST_FAKEX_SECRET", secret)
    result = xest_cli("balance", "fakex", "--url", sim.url, "--json")
    assert result.code == 0, result.err
    assert jdoc(result.out)["USD"]["free"] == "1000.50"


def test_no_credentials_is_a_clear_error(xest_cli, sim):
    result = xest_cli("balance", "fakex", "--url", sim.url)
    assert result.code == 3
    assert (
        result.err.startswith("error: ")
        and "needs an account" in result.err
        and "XEST_FAKEX_KEY" in result.err
    )
    assert len(result.err.strip().splitlines()) == 1


def test_unknown_account(xest_cli, alice):
    result = xest_cli("balance", "fakex", "--url", alice.url, "--account", "zed")
    assert result.code == 3
    assert "no account named 'zed'" in result.err and "alice" in result.err


def test_missing_env_secret_names_the_variable(xest_cli, alice, monkeypatch):
    monkeypatch.delenv("ALICE_SECRET")
    result = xest_cli("orders", "fakex", "--url", alice.url, "--account", "alice")
    assert result.code == 3
    assert "$ALICE_SECRET" in result.err


def test_wrong_secret_does_not_leak(xest_cli, alice, monkeypatch):
    monkeypatch.setenv("ALICE_SECRET", "wrong-secret-zz9")
    result = xest_cli("balance", "fakex", "--url", alice.url, "--account", "alice", "--debug")
    assert result.code == 3
    assert "AuthenticationError" in result.err
    assert "wrong-secret-zz9" not in result.err + result.out
    assert ALICE_KEY not in result.err + result.out


def test_open_orders(xest_cli, fake):
    result = xest_cli("orders", "fakex", "--sim")
    assert result.code == 0, result.err
    [row] = [line.split() for line in result.out.splitlines()[1:]]
    assert row[:9] == ["O-1", "c-1", "BTC/USD", "sell", "limit", "70000", "0.1", "0", "open"]
    [order] = jdoc(xest_cli("orders", "fakex", "--sim", "--json").out)
    assert order["id"] == "O-1" and order["status"] == "open"


def test_no_open_orders_says_so(xest_cli, sim, monkeypatch):
    sim.orders.clear()
    key, secret = sim.demo_credentials()
    monkeypatch.setenv("XEST_FAKEX_KEY", key)
    monkeypatch.setenv("XEST_FAKEX_SECRET", secret)
    result = xest_cli("orders", "fakex", "--url", sim.url)
    assert result.code == 0
    assert "no open orders" in result.out


def test_my_trades(xest_cli, fake):
    result = xest_cli("my-trades", "fakex", "--sim")
    assert result.code == 0, result.err
    [row] = [line.split() for line in result.out.splitlines()[1:]]
    assert row[2:8] == ["T-1", "O-0", "BTC/USD", "buy", "60000", "0.5"]
    assert "no trades" in xest_cli("my-trades", "fakex", "ETH/USD", "--sim").out
    [trade] = jdoc(xest_cli("my-trades", "fakex", "--sim", "--json").out)
    assert trade["price"] == "60000" and trade["timestamp"].startswith("2023-11-14T22:13:20")
