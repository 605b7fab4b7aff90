"""``xest markets/ticker/book/candles/trades`` against the fake exchange's simulator."""

from __future__ import annotations

from xest.schemas import parse as jdoc


def test_markets_table_and_quote_filter(xest_cli, fake):
    result = xest_cli("markets", "fakex", "--sim")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["SYMBOL", "ID"]
    assert [line.split()[0] for line in lines[1:]] == ["BTC/USD", "ETH/BTC", "ETH/USD"]
    assert "0.0001" in lines[1]  # plain decimals, not 1E-4

    only_btc = xest_cli("--sim", "markets", "fakex", "--quote", "btc")
    assert [line.split()[0] for line in only_btc.out.splitlines()[1:]] == ["ETH/BTC"]


def test_markets_json(xest_cli, fake):
    result = xest_cli("markets", "fakex", "--sim", "--json", "--base", "ETH")
    markets = jdoc(result.out)
    assert {m["symbol"] for m in markets} == {"ETH/USD", "ETH/BTC"}
    assert markets[0]["price_step"] in ("0.00001", "0.01")  # Decimals travel as strings


def test_ticker_several_symbols(xest_cli, fake):
    result = xest_cli("ticker", "fakex", "BTC/USD", "ETH/USD", "--sim")
    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines()[1:]]
    assert [r[:4] for r in rows] == [
        ["BTC/USD", "64999.9", "65000.1", "65000.0"],
        ["ETH/USD", "3199.99", "3200.01", "3200.00"],
    ]
    data = jdoc(xest_cli("--json", "ticker", "fakex", "BTC/USD", "--sim").out)
    assert data[0]["bid"] == "64999.9" and data[0]["symbol"] == "BTC/USD"


def test_book_depth(xest_cli, fake):
    result = xest_cli("book", "fakex", "BTC/USD", "--depth", "2", "--sim")
    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines()[1:]]
    assert rows == [["0.5", "64999", "65001", "0.25"], ["0.5", "64998", "65002", "0.25"]]
    assert "spread 2" in result.err
    book = jdoc(xest_cli("book", "fakex", "BTC/USD", "--depth", "3", "--sim", "--json").out)
    assert len(book["bids"]) == 3 and book["asks"][0] == {"price": "65001", "amount": "0.25"}


def test_book_refuses_a_bad_depth(xest_cli, fake):
    result = xest_cli("book", "fakex", "BTC/USD", "--depth", "0", "--sim")
    assert result.code == 2
    assert "--depth" in result.err


def test_candles_and_trades(xest_cli, fake):
    candles = xest_cli("candles", "fakex", "BTC/USD", "1m", "--limit", "2", "--sim")
    assert candles.code == 0, candles.err
    rows = candles.out.splitlines()[1:]
    assert len(rows) == 2 and rows[0].startswith("2023-11-14 22:13:20.000Z")
    assert rows[0].split()[2:] == ["100", "110", "90", "105", "12.5"]

    trades = jdoc(xest_cli("trades", "fakex", "BTC/USD", "--sim", "--json").out)
    assert trades == [
        {
            "symbol": "BTC/USD",
            "price": "65000",
            "amount": "0.01",
            "side": "buy",
            "timestamp": None,
            "id": "",
        }
    ]


def test_errors_are_one_line_with_exit_code(xest_cli, fake):
    bad_symbol = xest_cli("ticker", "fakex", "NOPE/USD", "--sim")
    assert bad_symbol.code == 6
    assert bad_symbol.err.strip().splitlines() == [
        "error: fakex: 'NOPE/USD' is not a market on fakex; see `xest markets fakex` for the "
        "symbols"
    ]
    bad_interval = xest_cli("candles", "fakex", "BTC/USD", "7m", "--sim")
    assert bad_interval.code == 5
    assert len(bad_interval.err.strip().splitlines()) == 1 and "7m" in bad_interval.err
    assert "Traceback" not in bad_interval.err
    debug = xest_cli("candles", "fakex", "BTC/USD", "7m", "--sim", "--debug")
    assert debug.code == 5 and "Traceback" in debug.err


def test_unknown_exchange(xest_cli, fake):
    result = xest_cli("ticker", "nosuchex", "BTC/USD")
    assert result.code == 6  # not found
    assert "no connector for 'nosuchex'" in result.err


def test_unsupported_operation_is_a_clear_error(xest_cli, fake, monkeypatch):
    from xest.connector import Connector

    class NoBook(fake.FakeConnector):
        capabilities = fake.FakeConnector.capabilities - {"order_book"}
        order_book = Connector.order_book

    from xest import registry

    monkeypatch.setattr(registry, "connectors", lambda: {"fakex": NoBook})
    result = xest_cli("book", "fakex", "BTC/USD", "--sim")
    assert result.code == 5
    assert "does not support order_book()" in result.err


def test_unified_symbols_in_any_case(xest_cli, fake):
    result = xest_cli("ticker", "fakex", "btc/usd", "Eth/Usd", "--sim", "--json")
    assert result.code == 0, result.err
    assert [t["symbol"] for t in jdoc(result.out)] == ["BTC/USD", "ETH/USD"]
    assert xest_cli("book", "fakex", "btc/usd", "--sim").code == 0
    exchange_id = xest_cli("ticker", "fakex", "BTCUSD", "--sim", "--json")  # ids pass as given
    assert jdoc(exchange_id.out)[0]["symbol"] == "BTC/USD"
