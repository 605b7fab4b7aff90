"""Parsing Kraken's documented examples into xest models (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from xest_kraken import parse
from xest_kraken.conformance import payload

from xest import errors
from xest.models import OrderStatus, OrderType, Side

D = Decimal


@pytest.fixture(scope="module")
def markets():
    return {m.id: m for m in parse.markets(payload("asset_pairs")["result"])}


@pytest.fixture(scope="module")
def lookup(markets):
    names = {}
    for m in markets.values():
        for name in (m.id, m.symbol, *m.ids.values()):
            names[name] = m

    def find(name):
        if name not in names:
            raise errors.BadSymbol(name)
        return names[name]

    return find


def test_pairs_get_unified_symbols_and_keep_kraken_names(markets):
    btc = markets["XXBTZUSD"]
    assert btc.symbol == "BTC/USD"
    assert (btc.base, btc.quote, btc.base_id, btc.quote_id) == ("BTC", "USD", "XXBT", "ZUSD")
    assert btc.ids == {"altname": "XBTUSD", "wsname": "XBT/USD"}
    assert markets["XETHXXBT"].symbol == "ETH/BTC"
    assert markets["XBTUSDT"].symbol == "BTC/USDT"
    assert markets["XDGUSD"].symbol == "DOGE/USD"


def test_precisions_and_minimums(markets):
    eth = markets["XETHXXBT"]
    assert eth.price_step == D("0.00001")  # tick_size
    assert eth.amount_step == D("0.00000001")  # lot_decimals 8
    assert eth.cost_step == D("0.000001")  # cost_decimals 6
    assert eth.min_amount == D("0.01")  # ordermin
    assert eth.min_cost == D("0.00002")  # costmin
    assert eth.active and eth.status == "online"


def test_price_step_falls_back_to_pair_decimals_and_status_decides_active():
    entry = dict(payload("asset_pairs")["result"]["XXBTZUSD"])
    del entry["tick_size"]
    entry["status"] = "cancel_only"
    m = parse.market("XXBTZUSD", entry)
    assert m.price_step == D("0.1")  # pair_decimals 1
    assert not m.active and m.status == "cancel_only"


def test_dark_pool_pairs_are_not_markets():
    entry = payload("asset_pairs")["result"]["XXBTZUSD"]
    found = parse.markets({"XXBTZUSD": entry, "XXBTZUSD.d": {**entry, "altname": "XBTUSD.d"}})
    assert [m.id for m in found] == ["XXBTZUSD"]


def test_ticker(markets):
    t = parse.ticker(markets["XXBTZUSD"], payload("ticker")["result"]["XXBTZUSD"])
    assert (t.bid, t.ask, t.last) == (D("30300.00000"), D("30300.10000"), D("30303.20000"))
    assert (t.open, t.high, t.low) == (D("30502.80000"), D("31631.00000"), D("29868.30000"))
    assert t.volume == D("4412.73601799")  # last 24 hours, not today
    assert t.vwap == D("30689.13205")
    assert t.quote_volume == D("4412.73601799") * D("30689.13205")


def test_order_book_sorted_best_first_with_the_latest_level_time(markets):
    book = parse.order_book(markets["XXBTZUSD"], payload("depth")["result"]["XXBTZUSD"])
    assert [lv.price for lv in book.bids] == [D("30297.00000"), D("30296.70000"), D("30289.80000")]
    assert [lv.price for lv in book.asks] == [D("30384.10000"), D("30387.90000"), D("30393.70000")]
    assert book.timestamp == datetime.fromtimestamp(1688671674, UTC)


def test_candles(markets):
    rows = payload("ohlc")["result"]["XXBTZUSD"]
    candles = parse.candles(markets["XXBTZUSD"], "1m", rows)
    assert len(candles) == 4
    first = candles[0]
    assert first.open_time == datetime(2023, 7, 6, 19, 20, tzinfo=UTC)
    assert (first.open, first.high, first.low, first.close) == (
        D("30306.1"),
        D("30306.2"),
        D("30305.7"),
        D("30305.7"),
    )
    assert (first.vwap, first.volume, first.count) == (D("30306.1"), D("3.39243896"), 23)


def test_public_trades_keep_fractional_seconds(markets):
    rows = payload("trades")["result"]["XXBTZUSD"]
    trades = parse.public_trades(markets["XXBTZUSD"], rows)
    assert trades[0].side is Side.BUY and trades[1].side is Side.SELL
    assert trades[0].id == "61044952"
    assert trades[0].timestamp == datetime(2023, 7, 6, 18, 53, 17, 827737, tzinfo=UTC)


def test_balance_ex_numbers_free_and_locked():
    balances = parse.balances(payload("balance_ex")["result"])
    assert balances["USD"].free == D("17185.45")
    assert balances["USD"].locked == D("8249.76")
    assert balances["USD"].total == D("25435.21")
    assert balances["BTC"].id == "XXBT"


def test_balance_ex_with_strings_and_sub_balances():
    balances = parse.balances(
        {
            "ZUSD": {"balance": "100.0000", "hold_trade": "0.0000"},
            "USD.M": {"balance": "5.0000", "hold_trade": "0.0000"},
            "ETH2.S": {"balance": "1.5", "hold_trade": "0"},
        }
    )
    assert set(balances) == {"USD", "USD.M", "ETH2.S"}
    assert balances["USD.M"].note and not balances["USD"].note


def test_open_orders(lookup):
    rows = payload("open_orders")["result"]["open"]
    first = parse.order("OQCLML-BW3P3-BUCMWZ", rows["OQCLML-BW3P3-BUCMWZ"], lookup)
    assert first.symbol == "BTC/USD"
    assert (first.side, first.type) == (Side.BUY, OrderType.LIMIT)
    assert first.status is OrderStatus.PARTIALLY_FILLED
    assert (first.amount, first.filled, first.remaining) == (D("1.25"), D("0.375"), D("0.875"))
    assert first.price == D("30010.0") and first.average_price == D("30010.0")
    assert first.created == datetime(2023, 7, 6, 18, 2, 39, 897400, tzinfo=UTC)
    second = parse.order("OB5VMB-B4U2U-DK2WRW", rows["OB5VMB-B4U2U-DK2WRW"], lookup)
    assert second.status is OrderStatus.OPEN and second.average_price is None


def test_closed_and_queried_orders(lookup):
    closed = payload("closed_orders")["result"]["closed"]
    cancelled = parse.order("O37652-RJWRT-IMO74O", closed["O37652-RJWRT-IMO74O"], lookup)
    assert cancelled.symbol == "BTC/GBP"  # descr.pair is the altname XBTGBP
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.type is OrderType.LIMIT  # stop-loss-limit rests as a limit order
    assert cancelled.raw["descr"]["ordertype"] == "stop-loss-limit"
    assert cancelled.updated == datetime(2023, 6, 30, 18, 10, 10, 48200, tzinfo=UTC)
    queried = payload("query_orders")["result"]
    market_sell = parse.order("OMMDB2-FSB6Z-7W3HPO", queried["OMMDB2-FSB6Z-7W3HPO"], lookup)
    assert market_sell.type is OrderType.MARKET and market_sell.price is None
    assert market_sell.status is OrderStatus.FILLED
    assert market_sell.average_price == D("30000.0")
    assert market_sell.fee == D("7.5") and market_sell.fee_asset == "BTC"  # oflags fcib


def test_trades_history(lookup):
    rows = payload("trades_history")["result"]["trades"]
    trade = parse.trade("THVRQM-33VKH-UCI7BS", rows["THVRQM-33VKH-UCI7BS"], lookup)
    assert trade.symbol == "BTC/USD"  # pair is the canonical XXBTZUSD here
    assert trade.order_id == "OQCLML-BW3P3-BUCMWZ"
    assert (trade.price, trade.amount, trade.cost) == (D("30010.00000"), D("0.02"), D("600.2"))
    assert trade.fee == D("0") and trade.fee_asset == "USD"


def test_order_type_folding():
    assert parse.order_type("limit") is OrderType.LIMIT
    assert parse.order_type("take-profit-limit") is OrderType.LIMIT
    assert parse.order_type("iceberg") is OrderType.LIMIT
    assert parse.order_type("market") is OrderType.MARKET
    assert parse.order_type("stop-loss") is OrderType.MARKET


def test_bulk_candles_equal_the_row_by_row_path():
    from xest.models import Candle, Market

    m = Market(symbol="BTC/USD", id="XXBTZUSD", base="BTC", quote="USD")
    rows = [
        [1688671200, "30306.1", "30306.2", "30305.7", "30305.7", "30306.1", "3.39243896", 23],
        [1688671260, "30305.7", "30307", "30305.7", "30306", "0.0", "0.00000000", 0],
    ]
    expected = [
        Candle(
            symbol="BTC/USD",
            interval="1m",
            open_time=r[0],
            open=r[1],
            high=r[2],
            low=r[3],
            close=r[4],
            vwap=r[5],
            volume=r[6],
            count=r[7],
            raw=r,
        )
        for r in rows
    ]
    assert parse.candles(m, "1m", rows) == expected
    with pytest.raises(ValueError, match=">= 0"):
        parse.candles(m, "1m", [[*rows[0][:6], "-1", 3]])


def test_bulk_book_sorts_best_first_and_keeps_the_newest_time():
    from xest.models import Market

    m = Market(symbol="BTC/USD", id="XXBTZUSD", base="BTC", quote="USD")
    entry = {
        "bids": [["100.0", "1", 5], ["101.0", "2", 9], ["99.5", "3", 1]],
        "asks": [["102.0", "1", 7], ["101.5", "1", 8]],
    }
    book = parse.order_book(m, entry)
    assert [lv.price for lv in book.bids] == [Decimal("101.0"), Decimal("100.0"), Decimal("99.5")]
    assert [lv.price for lv in book.asks] == [Decimal("101.5"), Decimal("102.0")]
    assert book.timestamp == datetime.fromtimestamp(9, UTC)
