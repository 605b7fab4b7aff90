"""Quotes accepted across commands, Kraken's read-back after placement, testnets, completion."""

from __future__ import annotations

import os

import pytest

import xest
from xest import errors, registry
from xest.schemas import parse as jdoc


def _need(exchange: str) -> None:
    if exchange not in registry.simulators():
        pytest.skip(f"the {exchange} plugin registers no simulator")


@pytest.fixture
def binance_sim(monkeypatch):
    _need("binance")
    with registry.simulator_factory("binance")() as sim:
        key, secret = sim.demo_credentials()
        monkeypatch.setenv("XEST_BINANCE_KEY", key)
        monkeypatch.setenv("XEST_BINANCE_SECRET", secret)
        yield sim


def test_quote_accepted_by_id_in_a_later_command_once(xest_cli, binance_sim):
    url = ("--url", binance_sim.url)
    asked = xest_cli("quote", "binance", "BTC/USDT", "buy", "0.01", "--json", *url)
    assert asked.code == 0, asked.err
    quote_id = jdoc(asked.out)["id"]

    # Each command opens its own client: the quote is found, and executed, once.
    accepted = xest_cli("quote", "accept", "binance", quote_id, "-y", "--json", *url)
    assert accepted.code == 0, accepted.err
    data = jdoc(accepted.out)
    assert data["quote"]["state"] == "executed" and data["order"]["status"] == "filled"
    hits = binance_sim.hits["/sapi/v1/convert/acceptQuote"]

    again = xest_cli("quote", "accept", "binance", quote_id, "-y", *url)
    assert again.code == 5 and "already" in again.err
    assert binance_sim.hits["/sapi/v1/convert/acceptQuote"] == hits  # refused locally

    unknown = xest_cli("quote", "accept", "binance", "123", "-y", *url)
    assert unknown.code == 6 and "xest quote binance" in unknown.err


def test_executed_quote_refused_from_another_client(binance_sim):
    key, secret = binance_sim.demo_credentials()
    with xest.open("binance", url=binance_sim.url, key=key, secret=secret) as first:
        quote = first.quote("BTC/USDT", "buy", "0.01")
        with xest.open("binance", url=binance_sim.url, key=key, secret=secret) as second:
            other = second.require_account().find_quote(quote.id)
            assert other is not None and other.price == quote.price
            quote.accept()
            with pytest.raises(errors.QuoteAlreadyExecuted):
                second.accept_quote(quote.id)


def test_kraken_placement_shows_the_real_state_after_one_placement(xest_cli, monkeypatch):
    _need("kraken")
    with registry.simulator_factory("kraken")() as sim:
        key, secret = sim.demo_credentials()
        monkeypatch.setenv("XEST_KRAKEN_KEY", key)
        monkeypatch.setenv("XEST_KRAKEN_SECRET", secret)
        result = xest_cli(
            "order",
            "kraken",
            "BTC/USD",
            "buy",
            "0.01",
            "--limit",
            "31000",
            "-y",
            "--json",
            "--url",
            sim.url,
        )
        assert result.code == 0, result.err
        order = jdoc(result.out)
        assert order["status"] == "filled" and order["filled"] == order["amount"]
        assert order["created"] is not None
        assert sim.hits["/0/private/AddOrder"] == 1


# -- testnets ----------------------------------------------------------------------------------


def test_binance_testnet_is_wired_in():
    if "binance" not in registry.connectors():
        pytest.skip("no binance plugin")
    with xest.open("binance", testnet=True) as client:
        assert client.url == "https://testnet.binance.vision"


def test_an_exchange_without_a_testnet_says_so(xest_cli):
    if "kraken" not in registry.connectors():
        pytest.skip("no kraken plugin")
    with pytest.raises(errors.ConfigError, match="kraken has no public test network"):
        xest.open("kraken", testnet=True)
    result = xest_cli("status", "kraken", "--testnet")
    assert result.code == 3 and "no public test network" in result.err and "--sim" in result.err
    both = xest_cli("status", "kraken", "--testnet", "--sim")
    assert both.code == 2


def test_accounts_may_point_at_a_testnet_or_a_url(monkeypatch, tmp_path, binance_sim):
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.tester]\nexchange = "binance"\ntestnet = true\nkey = "k"\nsecret = "s"\n'
        '[accounts.local]\nexchange = "binance"\nurl = "' + binance_sim.url + '"\n'
        'key_env = "XEST_BINANCE_KEY"\nsecret_env = "XEST_BINANCE_SECRET"\n'
    )
    os.chmod(config, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    with xest.open("binance", "tester") as client:
        assert client.url == "https://testnet.binance.vision"
    with xest.open("binance", "local") as client:
        assert client.url == binance_sim.url
        assert client.balances()["USDT"].free > 0


# -- completion ----------------------------------------------------------------------------------


def _complete(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete

    from xest.cli import cli

    completer = ShellComplete(cli, {}, "xest", "_XEST_COMPLETE")
    return [item.value for item in completer.get_completions(args, incomplete)]


def test_completion_of_exchanges_accounts_and_symbols(xest_cli, monkeypatch, tmp_path):
    _need("kraken")
    assert "kraken" in _complete(["status"], "kr")
    assert _complete(["ticker"], "bi") == ["binance"]
    config = tmp_path / "config.toml"
    config.write_text('[accounts.alice]\nexchange = "kraken"\nkey = "k"\nsecret = "s"\n')
    os.chmod(config, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    assert _complete(["balance", "kraken", "--account"], "al") == ["alice"]
    assert _complete(["ticker", "kraken"], "BTC") == []  # no markets listed yet: no network
    assert xest_cli("markets", "kraken", "--sim").code == 0
    symbols = _complete(["ticker", "kraken"], "btc/")
    assert "BTC/USD" in symbols and all(s.startswith("BTC/") for s in symbols)
