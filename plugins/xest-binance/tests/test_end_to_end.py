"""Every operation through the public API against the Binance simulator."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from xest_binance.simulator import BinanceSimulator

import xest
from xest import errors
from xest.models import OrderStatus, Side, Status

D = Decimal


@pytest.fixture
def sim():
    server = BinanceSimulator(quote_lifetime=0.4).start()
    yield server
    server.stop()


@pytest.fixture
def client(sim):
    key, secret = sim.demo_credentials()
    with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as c:
        yield c


@pytest.fixture
def conn(client):
    """The connector itself: the facade wraps trading in the account agent's registry."""
    return client.connector


def test_open_with_sim_true_uses_the_registered_simulator():
    with xest.open("binance", sim=True, cache=False) as c:
        assert isinstance(c.simulator, BinanceSimulator)
        assert c.balances()["USDT"].free == D("100000")


def test_two_demo_accounts_hold_different_balances(sim):
    accounts = sim.demo_accounts()
    assert accounts["alice"] == sim.demo_credentials()
    totals = []
    for key, secret in (accounts["alice"], accounts["bob"]):
        with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as c:
            totals.append(c.balances()["BTC"].total)
    assert totals == [D("2"), D("0.05")]


def test_status_and_maintenance(client, sim):
    assert client.status().status is Status.ONLINE
    sim.set_status(1)
    status = client.status()
    assert status.status is Status.MAINTENANCE and status.message == "system_maintenance"


def test_server_time_feeds_the_clock(client, sim):
    reading = client.server_time()
    assert abs(reading.time.timestamp() - sim.now()) < 1
    assert reading.resolution == timedelta(milliseconds=1)
    assert client.clock.now().error < 1


def test_markets_and_rounding(client):
    markets = {m.symbol: m for m in client.markets()}
    assert {"BTC/USDT", "ETH/USDT", "ETH/BTC", "BNB/USDT", "XRP/USDT"} <= set(markets)
    btc = markets["BTC/USDT"]
    assert (btc.id, btc.price_step, btc.amount_step, btc.min_cost) == (
        "BTCUSDT",
        D("0.01"),
        D("0.00001"),
        D("5"),
    )
    assert btc.market_max_amount == D("120") and btc.market_min_amount is None
    assert markets["BNB/USDT"].min_cost == D("5")  # from the older MIN_NOTIONAL filter
    assert markets["XRP/USDT"].active is False
    assert client.market("BTCUSDT") == btc  # the exchange's own id works too
    with pytest.raises(errors.BadSymbol):
        client.market("DOGE/EUR")


def test_market_data(client, sim):
    ticker = client.ticker("BTC/USDT")
    assert ticker.bid < ticker.ask and ticker.last == D("43250")
    tickers = client.tickers(["BTC/USDT", "ETH/BTC"])
    assert set(tickers) == {"BTC/USDT", "ETH/BTC"}
    assert sim.hits["/api/v3/ticker/24hr"] == 2  # one call for both symbols
    assert len(client.tickers()) == 5
    book = client.order_book("BTC/USDT", 10)
    assert len(book.bids) == len(book.asks) == 10
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert book.best_bid.price < book.best_ask.price
    candles = client.candles("ETH/USDT", "1h", limit=3)
    assert len(candles) == 3 and all(c.low <= min(c.open, c.close) for c in candles)
    assert candles[1].open_time - candles[0].open_time == timedelta(hours=1)
    again = client.candles("ETH/USDT", "1h", since=candles[0].open_time, limit=3)
    assert [c.open for c in again] == [c.open for c in candles]  # deterministic history
    trades = client.trades("BTC/USDT", limit=5)
    assert len(trades) == 5 and all(t.symbol == "BTC/USDT" for t in trades)
    with pytest.raises(errors.BadRequest, match="candles"):
        client.candles("ETH/USDT", "7m")


def test_balances_hide_zero_unless_asked(client, sim):
    key, secret = sim.add_account({"USDT": "10", "BTC": "0"})
    with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as other:
        assert set(other.balances()) == {"USDT"}
        everything = other.connector.balances(include_zero=True)
        assert everything["BTC"].total == 0
    assert client.balances()["BTC"].free == D("2")


def test_limit_order_rests_is_found_and_cancelled(client, sim, conn):
    order = conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="rest-1")
    assert order.status is OrderStatus.OPEN and int(order.id) > 2**53
    assert client.balances()["USDT"].locked == D("400")
    assert [o.id for o in client.open_orders("BTC/USDT")] == [order.id]
    assert conn.order(order.id, symbol="BTC/USDT").client_id == "rest-1"
    assert conn.order(client_id="rest-1").id == order.id  # found among open orders
    cancelled = conn.cancel_order(order.id)  # symbol found among open orders
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.client_id == "rest-1"
    assert client.balances()["USDT"].locked == 0
    with pytest.raises(errors.OrderNotFound):
        conn.cancel_order(order.id, symbol="BTC/USDT")
    with pytest.raises(errors.BadRequest, match="symbol="):
        conn.order(order.id)  # no longer open: Binance needs the symbol
    assert [o.id for o in client.closed_orders("BTC/USDT")] == [order.id]


def test_market_orders_fill_and_show_in_trades(client, conn):
    sold = conn.place_order("BTC/USDT", Side.SELL, "market", D("0.01"))
    assert sold.status is OrderStatus.FILLED and sold.filled == D("0.01")
    assert sold.average_price == D("43249.99") and sold.fee_asset == "USDT"
    bought = conn.place_order("ETH/BTC", "buy", "limit", D("1"), D("0.06"), time_in_force="IOC")
    assert bought.status is OrderStatus.FILLED and bought.average_price < D("0.06")
    trades = client.my_trades("BTC/USDT")
    assert [t.order_id for t in trades] == [sold.id] and trades[0].side is Side.SELL
    everywhere = client.my_trades()  # scans the markets the account holds both assets of
    assert {t.order_id for t in everywhere} == {sold.id, bought.id}
    assert {o.id for o in client.closed_orders()} == {sold.id, bought.id}


def test_resting_order_fills_when_the_price_moves(client, sim, conn):
    order = conn.place_order("ETH/USDT", "sell", "limit", D("1"), D("2300"))
    sim.set_price("ETHUSDT", "2400")
    filled = conn.order(order.id, symbol="ETH/USDT")
    assert filled.status is OrderStatus.FILLED and filled.average_price == D("2300")
    partial = conn.place_order("ETH/USDT", "sell", "limit", D("2"), D("2500"))
    sim.fill_order(partial.id, "0.5")
    assert conn.order(partial.id, symbol="ETH/USDT").status is OrderStatus.PARTIALLY_FILLED


def test_bad_orders_fail_locally_with_no_round_trip(client, sim, conn):
    client.markets()
    before = sim.hits["/api/v3/order"]
    # The base Connector cuts the amount down to LOT_SIZE's step (0.000011 → 0.00001), then
    # refuses what the filters refuse, before anything is sent.
    with pytest.raises(errors.InvalidOrder, match="below BTC/USDT's minimum of 5"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.000011"), D("40000"))
    with pytest.raises(errors.InvalidOrder, match="smaller than BTC/USDT's amount step"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.000001"), D("400000"))
    with pytest.raises(errors.InvalidOrder, match="below BTC/USDT's minimum"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.0001"), D("40000"))
    with pytest.raises(errors.InvalidOrder, match="not trading"):
        conn.place_order("XRP/USDT", "buy", "limit", D("10"), D("0.5"))
    with pytest.raises(errors.InvalidOrder, match="GTD"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), time_in_force="GTD")
    with pytest.raises(errors.InvalidOrder, match="client order id"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="a b")
    with pytest.raises(errors.InvalidOrder, match="client id"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="a#b")
    with pytest.raises(errors.InvalidOrder, match="float"):
        conn.place_order("BTC/USDT", "buy", "limit", 0.01, D("40000"))
    assert sim.hits["/api/v3/order"] == before


def test_off_grid_orders_are_rounded_onto_the_filters(client, sim, conn):
    placed = conn.place_order("BTC/USDT", "buy", "limit", D("0.0100019"), D("40000.004"))
    assert (placed.amount, placed.price) == (D("0.01"), D("40000.00"))
    assert placed.client_id  # every placement carries a client id, to look a lost one up


def test_exchange_refusals_are_typed(client, conn):
    with pytest.raises(errors.InsufficientFunds):
        conn.place_order("BTC/USDT", "buy", "limit", D("10"), D("40000"))
    conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="dup")
    with pytest.raises(errors.DuplicateOrder):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="dup")


def test_validate_only_sends_to_the_test_endpoint(client, sim, conn):
    checked = conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), validate=True)
    assert checked.id == "" and checked.status is OrderStatus.PENDING
    assert sim.hits["/api/v3/order/test"] == 1 and sim.hits["/api/v3/order"] == 0
    assert client.open_orders() == []
    with pytest.raises(errors.InsufficientFunds):
        conn.place_order("BTC/USDT", "buy", "limit", D("5"), D("40000"), validate=True)


def test_quote_accepted_once(client, sim, conn):
    before = client.balances()
    quote = conn.quote("BTC/USDT", "buy", D("0.01"))
    assert quote.amount == D("0.01") and quote.side is Side.BUY
    assert quote.price > D("43250")
    assert abs(quote.cost - quote.amount * quote.price) < D("0.001")
    order = conn.accept_quote(quote)
    assert order.status is OrderStatus.FILLED and int(order.id) > 2**53
    assert order.symbol == "BTC/USDT" and order.filled == D("0.01")
    after = client.balances()
    assert after["BTC"].free == before["BTC"].free + D("0.01")
    assert after["USDT"].free == before["USDT"].free - quote.cost
    with pytest.raises(errors.QuoteAlreadyExecuted):
        conn.accept_quote(quote)


def test_sell_quote_and_expiry(client, sim, conn):
    quote = conn.quote("ETH/USDT", "sell", D("1.5"), valid_for=timedelta(seconds=30))
    assert quote.amount == D("1.5") and quote.price < D("2250")
    assert quote.raw["fromAmount"] == "1.5"
    time.sleep(0.5)  # the simulator's quotes live 0.4 s here
    with pytest.raises(errors.QuoteExpired):
        conn.accept_quote(quote)
    with pytest.raises(errors.InvalidQuote, match="2 minutes"):
        conn.quote("ETH/USDT", "sell", D("1"), valid_for=timedelta(minutes=5))


def test_quote_beyond_the_account_is_insufficient_funds(client, conn):
    with pytest.raises(errors.InsufficientFunds, match="quote"):
        conn.quote("BTC/USDT", "buy", D("1000"))


def test_convert_order_followed_until_final(sim):
    slow = BinanceSimulator(convert_settle_delay=0.3).start()
    try:
        key, secret = slow.demo_credentials()
        with xest.open("binance", url=slow.url, key=key, secret=secret, cache=False) as c:
            c.connector.convert_poll_interval = 0.05
            order = c.connector.accept_quote(c.connector.quote("BTC/USDT", "sell", D("0.1")))
            assert order.status is OrderStatus.FILLED
            assert slow.hits["/sapi/v1/convert/orderStatus"] >= 2
            c.connector.convert_timeout = 0
            pending = c.connector.accept_quote(c.connector.quote("BTC/USDT", "sell", D("0.1")))
            assert pending.status is OrderStatus.PENDING and not pending.is_final
    finally:
        slow.stop()


def test_private_calls_need_credentials(sim):
    with xest.open("binance", url=sim.url, cache=False) as anonymous:
        assert anonymous.ticker("BTC/USDT").symbol == "BTC/USDT"
        with pytest.raises(errors.AuthenticationError, match="needs an account"):
            anonymous.balances()


def test_trading_through_the_facade(client, sim):
    placed = client.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"))
    assert placed.status is OrderStatus.OPEN
    assert client.cancel_order(placed.id).status is OrderStatus.CANCELLED
    quote = client.quote("BTC/USDT", "sell", D("0.01"))
    assert client.accept_quote(quote).status is OrderStatus.FILLED


def test_ping(client, sim):
    assert client.connector.ping() is None
    assert sim.hits["/api/v3/ping"] == 1


def test_faults_a_lost_order_answer_is_not_retried_and_the_order_can_be_found(client, sim, conn):
    from xest.testing.server import Fault

    client.markets()
    sim.inject(Fault.lost_response(), path="/api/v3/order")
    with pytest.raises(errors.ExchangeUnavailable, match="may have been executed"):
        conn.place_order("BTC/USDT", "buy", "limit", D("0.01"), D("40000"), client_id="lost-1")
    assert sim.hits["/api/v3/order"] == 1  # never sent twice
    found = conn.order(client_id="lost-1", symbol="BTC/USDT")
    assert found.status is OrderStatus.OPEN
    sim.inject(Fault.http(503, "<html>busy</html>"), path="/api/v3/time")
    assert client.server_time().time is not None  # a read is retried past a 503


def test_plugin_registers_the_simulator_and_conformance_cases():
    from xest import registry

    assert isinstance(registry.simulator_factory("binance")(), BinanceSimulator)
    assert registry.connector_class("binance").__module__ == "xest_binance.connector"
    kit = registry.kits()["binance"]
    operations = {case.operation for case in kit.cases("recorded_cases")}
    assert operations >= set(registry.connector_class("binance").capabilities)
    assert {case.error.__name__ for case in kit.cases("error_cases")} >= {
        "InvalidNonce",
        "AuthenticationError",
        "InsufficientFunds",
        "OrderNotFound",
        "BadSymbol",
        "InvalidOrder",
        "RateLimited",
        "QuoteExpired",
        "QuoteAlreadyExecuted",
    }


def test_quote_order_finds_the_convert_order_a_quote_made(conn):
    quote = conn.quote("BTC/USDT", "buy", Decimal("0.01"))
    with pytest.raises(errors.OrderNotFound):
        conn.quote_order(quote)
    order = conn.accept_quote(quote)
    assert conn.quote_order(quote).id == order.id
