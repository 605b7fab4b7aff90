"""Parsing Binance's documented response examples (``xest_binance/payloads``) into models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from xest_binance import parse
from xest_binance.conformance import payload, sample_quote

from xest.http import decode_json
from xest.models import OrderStatus, OrderType, Side

D = Decimal


def test_exchange_info_filters_become_market_limits():
    markets = {m.id: m for m in parse.markets(payload("exchange_info"))}
    eth = markets["ETHBTC"]
    assert (eth.symbol, eth.base, eth.quote, eth.active, eth.status) == (
        "ETH/BTC",
        "ETH",
        "BTC",
        True,
        "TRADING",
    )
    assert eth.price_step == D("0.000001")
    assert (eth.min_price, eth.max_price) == (D("0.000001"), D("100000"))
    assert (eth.amount_step, eth.min_amount, eth.max_amount) == (
        D("0.001"),
        D("0.001"),
        D("100000"),
    )
    assert (eth.market_min_amount, eth.market_max_amount) == (D("0.001"), D("100000"))
    assert eth.min_cost == D("10")  # NOTIONAL
    bnb = markets["BNBBTC"]
    assert bnb.active is False and bnb.status == "BREAK"
    assert bnb.max_price is None  # maxPrice 0 disables the rule
    assert bnb.min_cost == D("0.001")  # the older MIN_NOTIONAL filter
    assert bnb.market_min_amount is None and bnb.market_max_amount == D("1500")
    btc = markets["BTCUSDT"]
    assert btc.round_price(D("43250.017")) == D("43250.02")
    assert btc.round_amount(D("0.123456789")) == D("0.12345")


def test_ids_past_two_to_the_53_stay_exact():
    data = decode_json('[{"orderId": 9007199254740993, "price": "0.1"}]')
    assert data[0]["orderId"] == 2**53 + 1 and isinstance(data[0]["orderId"], int)
    orders = [parse.order("LTC/BTC", row) for row in payload("open_orders_big_ids")]
    assert orders[0].id == "9007199254740993"
    assert orders[0].status is OrderStatus.PARTIALLY_FILLED
    assert orders[0].remaining == D("0.6")
    status = parse.convert_order(sample_quote(), payload("convert_order_status"))
    assert status.id == "933256278426274426"


def test_new_order_full_response():
    order = parse.order("BTC/USDT", payload("order_full"))
    assert order.id == "28" and order.client_id == "6gCrw2kRUAF9CvJDGP16IP"
    assert (order.side, order.type, order.status) == (
        Side.SELL,
        OrderType.MARKET,
        OrderStatus.FILLED,
    )
    assert order.price is None  # a market order's "0.00000000"
    assert order.time_in_force is None
    assert order.fee == D("39.98300000") and order.fee_asset == "USDT"
    assert order.created == datetime(2017, 10, 11, 12, 32, 56, 595000, UTC)


def test_query_and_cancel_answers():
    order = parse.order("LTC/BTC", payload("query_order"))
    assert (order.id, order.status, order.price, order.amount) == (
        "1",
        OrderStatus.OPEN,
        D("0.1"),
        D("1.0"),
    )
    assert order.average_price is None
    cancelled = parse.order("LTC/BTC", payload("cancel_order"))
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.client_id == "myOrder1"  # the order's own id, not the cancel request's


def test_market_data():
    book = parse.order_book("ETH/BTC", payload("depth"))
    assert book.best_bid.price == D("4") and book.best_ask.amount == D("12")
    assert book.id == "1027024"
    (trade,) = [parse.public_trade("ETH/BTC", r) for r in payload("trades")]
    assert trade.side is Side.SELL and trade.id == "28457"  # buyer was the maker: taker sold
    (candle,) = [parse.candle("ETH/BTC", "1d", r) for r in payload("klines")]
    assert candle.open_time == datetime(2017, 7, 3, tzinfo=UTC)
    assert (candle.low, candle.high, candle.count) == (D("0.015758"), D("0.8"), 308)
    assert candle.vwap is not None and -candle.vwap.as_tuple().exponent <= 12
    ticker = parse.ticker("BNB/BTC", payload("ticker_24hr"))
    assert (ticker.bid, ticker.ask, ticker.last) == (D("4"), D("4.000002"), D("4.000002"))
    assert ticker.timestamp == datetime(2017, 7, 12, 14, 31, 39, 40000, UTC)


def test_balances_hide_zero_unless_asked():
    data = payload("account")
    assert set(parse.balances(data)) == {"BTC", "LTC"}
    everything = parse.balances(data, include_zero=True)
    assert everything["BNB"].total == 0
    assert everything["BTC"].free == D("4723846.89208129")


def test_my_trades():
    (trade,) = [parse.trade("BNB/BTC", r) for r in payload("my_trades")]
    assert (trade.id, trade.order_id, trade.side) == ("28457", "100234", Side.BUY)
    assert trade.cost == D("4.00000100") * D("12")


def test_convert_quote_sell_and_buy():
    sell = parse.quote("BTC/USDT", payload("convert_get_quote"), Side.SELL, None)
    assert (sell.id, sell.amount, sell.cost, sell.price) == (
        "12415572564",
        D("0.1"),
        D("3816.37"),
        D("38163.7"),
    )
    assert sell.expires_at == datetime(2021, 6, 10, 10, 4, 21, 670000, UTC)
    # Buying 0.1 BTC with USDT: from USDT, to BTC; price is USDT per BTC (inverseRatio).
    bought = {
        "quoteId": "7",
        "ratio": "0.0000262",
        "inverseRatio": "38163.7",
        "validTimestamp": 1623319461670,
        "toAmount": "0.1",
        "fromAmount": "3816.37",
    }
    buy = parse.quote("BTC/USDT", bought, Side.BUY, None)
    assert (buy.amount, buy.cost, buy.price) == (D("0.1"), D("3816.37"), D("38163.7"))


def test_convert_orders_follow_their_status():
    quote = sample_quote()
    accepted = parse.convert_order(quote, payload("convert_accept_quote"))
    assert accepted.status is OrderStatus.PENDING and accepted.filled == 0
    assert accepted.symbol == "BTC/USDT" and accepted.side is Side.SELL
    done = parse.convert_order(quote, payload("convert_order_status"))
    assert done.status is OrderStatus.FILLED
    assert (done.amount, done.filled) == (D("0.00054414"), D("0.00054414"))
    failed = parse.convert_order(quote, {"orderId": 5, "orderStatus": "FAIL"})
    assert failed.status is OrderStatus.REJECTED and failed.is_final


def test_milliseconds_are_exact():
    assert parse.ms(1499827319559) == datetime(2017, 7, 12, 2, 41, 59, 559000, UTC)
    assert parse.to_ms(parse.ms(1499827319559)) == 1499827319559


def test_many_millisecond_times_equal_one_by_one():
    values = [0, 1499040000000, 1499040000999, 4102444800123, "1499040000001"]
    assert parse.ms_many(values) == [parse.ms(v) for v in values]
    assert parse.ms_many(values[:4]) == [parse.ms(v) for v in values[:4]]  # the int fast path


def test_bulk_candles_and_trades_equal_the_one_by_one_parsers():
    kline = [
        1499040000000,
        "0.0163",
        "0.8",
        "0.0157",
        "0.0158",
        "148976.1",
        1499644799999,
        "2434.19",
        308,
        "1756.8",
        "28.4",
        "0",
    ]
    rows = [kline, [1499040060000, *kline[1:5], "0", *kline[6:]]]
    assert parse.candles("ETH/BTC", "1m", rows) == [parse.candle("ETH/BTC", "1m", r) for r in rows]
    trades = [
        {
            "id": 28457,
            "price": "4.00000100",
            "qty": "12.0",
            "time": 1499865549590,
            "isBuyerMaker": True,
        },
        {"id": 28458, "price": "4.1", "qty": "1.5", "time": 1499865549591, "isBuyerMaker": False},
    ]
    assert parse.public_trades("ETH/BTC", trades) == [
        parse.public_trade("ETH/BTC", t) for t in trades
    ]


@pytest.mark.parametrize(
    ("quote_volumes", "volumes"),
    [
        (["2434.19", "1", "7"], ["148976.1", "3", "8"]),  # past 12 places: rounded
        (["5.0000000000000000", "1", "2.5"], ["2", "8", "0.5"]),  # exact, kept as divided
        (["1E+30", "1", "3"], ["1", "3", "0"]),  # too large for 12 places; no trades
        (["0", "0", "0"], ["0", "0", "0"]),
    ],
)
def test_many_vwaps_equal_one_by_one_digit_for_digit(quote_volumes, volumes):
    q, v = list(map(D, quote_volumes)), list(map(D, volumes))
    made = parse.ratios(q, v)
    one_by_one = [parse.ratio(a, b) if b > 0 else None for a, b in zip(q, v, strict=True)]
    assert [None if x is None else x.as_tuple() for x in made] == [
        None if x is None else x.as_tuple() for x in one_by_one
    ]


def test_evenly_spaced_milliseconds_equal_one_by_one():
    values = [1499040000123 + 60_000 * i for i in range(30)]
    assert parse.ms_many(values) == [parse.ms(v) for v in values]
