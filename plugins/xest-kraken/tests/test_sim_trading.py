"""The connector against its simulator: balances, orders, quotes.

``xest.open("kraken", sim=True)`` wires the connector to the simulator; the tests call the
connector (``client.connector``) so they pin Kraken's own behaviour, and one test goes through
the facade's tracked orders and live quotes as a user would.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from kraken_helpers import connector, sim_client

from xest import errors
from xest.credentials import Credentials
from xest.models import OrderStatus, OrderType, Side, TimeInForce
from xest.testing.server import Fault

D = Decimal


def place(kraken, *args, **kwargs):
    """Place an order and read its state back (AddOrder answers with the id only)."""
    placed = kraken.place_order(*args, **kwargs)
    assert placed.status is OrderStatus.PENDING and placed.id
    return kraken.order(placed.id)


class Kraken:
    """The connector, with the simulator that serves it."""

    def __init__(self, client):
        self.client = client
        self.simulator = client.simulator
        self.url = client.url

    def __getattr__(self, name):
        return getattr(self.client.connector, name)


@pytest.fixture
def kraken():
    with sim_client() as client:
        yield Kraken(client)


def test_balances_of_the_demo_account(kraken):
    balances = kraken.balances()
    assert balances["USD"].free == D("100000") and balances["USD"].id == "ZUSD"
    assert balances["BTC"].total == D("2.5") and balances["DOGE"].id == "XXDG"
    assert "ETH2.S" in balances and "staked" in balances["ETH2.S"].note
    assert all(b.free >= 0 and b.locked >= 0 for b in balances.values())


def test_a_resting_limit_order_holds_funds_and_is_found_by_id_and_client_id(kraken):
    order = place(kraken, "BTC/USD", "buy", "limit", D("0.01"), D("20000.0"), client_id="rest-1")
    assert order.id and order.status is OrderStatus.OPEN and order.client_id == "rest-1"
    assert (order.symbol, order.side, order.type) == ("BTC/USD", Side.BUY, OrderType.LIMIT)
    assert order.price == D("20000.0") and order.filled == 0
    assert [o.id for o in kraken.open_orders()] == [order.id]
    assert kraken.open_orders("ETH/USD") == []
    # 0.01 x 20000 plus the maker fee is held.
    assert kraken.balances()["USD"].locked == D("200.32")
    assert kraken.order(order.id) == order
    assert kraken.order(client_id="rest-1").id == order.id
    cancelled = kraken.cancel_order(client_id="rest-1")
    assert cancelled.id == order.id and cancelled.status is OrderStatus.CANCELLED
    assert kraken.balances()["USD"].locked == 0
    assert kraken.closed_orders("BTC/USD")[-1].id == order.id


def test_a_limit_order_crossing_the_book_fills_at_the_book_price_with_the_taker_fee(kraken):
    ask = kraken.order_book("BTC/USD").best_ask
    before = kraken.balances()
    order = place(kraken, "BTC/USD", "buy", "limit", D("0.1"), ask.price + 50)
    assert order.status is OrderStatus.FILLED and order.filled == D("0.1")
    assert order.average_price == ask.price
    assert order.fee == (D("0.1") * ask.price * D("0.0026")).quantize(D("0.0001"))
    after = kraken.balances()
    assert after["BTC"].total == before["BTC"].total + D("0.1")
    assert after["USD"].total == before["USD"].total - D("0.1") * ask.price - order.fee
    trades = kraken.my_trades("BTC/USD")
    assert trades[-1].order_id == order.id and trades[-1].price == ask.price


def test_market_orders_buy_and_sell(kraken):
    bid = kraken.order_book("ETH/USD").best_bid
    sold = place(kraken, "ETH/USD", Side.SELL, OrderType.MARKET, D("1"))
    assert sold.status is OrderStatus.FILLED and sold.price is None
    assert sold.average_price == bid.price
    bought = place(kraken, "DOGE/USD", "buy", "market", D("1000"))
    assert bought.status is OrderStatus.FILLED and bought.fee_asset == "USD"
    assert kraken.balances()["DOGE"].total == D("251000")


def test_ioc_fills_what_it_can_and_cancels_the_rest(kraken):
    book = kraken.order_book("BTC/USD", depth=3)
    # Up to the second level only: the two best asks' volume, and not more.
    limit = book.asks[1].price
    available = book.asks[0].amount + book.asks[1].amount
    order = place(
        kraken, "BTC/USD", "buy", "limit", available + 1, limit, time_in_force=TimeInForce.IOC
    )
    assert order.status is OrderStatus.CANCELLED
    assert order.filled == available
    assert kraken.open_orders() == []


def test_validate_checks_without_placing(kraken):
    dry = kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.0"), validate=True)
    assert dry.id == "" and dry.status is OrderStatus.PENDING and dry.raw["validate"] is True
    assert "XBTUSD" in dry.raw["descr"]["order"]
    assert kraken.open_orders() == []
    with pytest.raises(errors.InsufficientFunds):
        kraken.place_order("BTC/USD", "buy", "limit", D("100"), D("29000.0"), validate=True)


def test_refusals_map_to_typed_errors(kraken):
    kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.0"), client_id="dup")
    with pytest.raises(errors.DuplicateOrder):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.0"), client_id="dup")
    with pytest.raises(errors.InsufficientFunds):
        kraken.place_order("BTC/USD", "sell", "market", D("1000"))
    with pytest.raises(errors.InvalidOrder, match="minimum"):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.00001"), D("20000.0"))
    # Off the tick: the base Connector rounds it onto the market's grid before sending.
    rounded = kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.05"))
    assert kraken.order(rounded.id).price == D("20000.0")
    with pytest.raises(errors.InvalidOrder, match="client order id"):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000"), client_id="x" * 30)
    with pytest.raises(errors.InvalidOrder, match="float"):
        kraken.place_order("BTC/USD", "buy", "limit", 0.01, D("20000"))
    with pytest.raises(errors.InvalidOrder, match="side"):
        kraken.place_order("BTC/USD", "hold", "limit", D("0.01"), D("20000"))
    with pytest.raises(errors.InvalidOrder, match="FOK"):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000"), time_in_force="FOK")
    with pytest.raises(errors.InvalidOrder, match="needs a price"):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"))


def test_unknown_and_final_orders(kraken):
    with pytest.raises(errors.OrderNotFound):
        kraken.order("OAAAAA-BBBBB-CCCCCC")
    with pytest.raises(errors.OrderNotFound):
        kraken.order(client_id="never-used")
    with pytest.raises(errors.OrderNotFound):
        kraken.cancel_order("OAAAAA-BBBBB-CCCCCC")
    filled = place(kraken, "BTC/USD", "buy", "market", D("0.001"))
    with pytest.raises(errors.InvalidOrder, match="already filled") as caught:
        kraken.cancel_order(filled.id)
    assert not isinstance(caught.value, errors.OrderNotFound)


def test_resting_orders_fill_when_the_market_moves_or_on_demand(kraken):
    sim = kraken.simulator
    low = place(kraken, "BTC/USD", "buy", "limit", D("0.02"), D("29000.0"))
    other = place(kraken, "BTC/USD", "buy", "limit", D("0.02"), D("25000.0"))
    sim.fill(other.id, D("0.005"))
    assert kraken.order(other.id).status is OrderStatus.PARTIALLY_FILLED
    sim.set_price("XBTUSD", D("28000"))
    done = kraken.order(low.id)
    assert done.status is OrderStatus.FILLED and done.average_price == D("29000.0")
    assert done.fee == (D("0.02") * D("29000") * D("0.0016")).quantize(D("0.0001"))  # maker
    assert kraken.order(other.id).filled == D("0.005")


def test_trading_restrictions_by_status(kraken):
    resting = place(kraken, "BTC/USD", "buy", "limit", D("0.01"), D("20000.0"))
    kraken.simulator.set_status("cancel_only")
    with pytest.raises(errors.OnMaintenance):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.0"))
    assert kraken.cancel_order(resting.id).status is OrderStatus.CANCELLED
    kraken.simulator.set_status("post_only")
    with pytest.raises(errors.OnMaintenance):
        kraken.place_order("BTC/USD", "buy", "market", D("0.01"))


def test_permissions_and_unfunded_accounts():
    with sim_client() as client:
        kraken = Kraken(client)
        key, secret = kraken.simulator.add_account(permissions={"query"})
        reader = connector(kraken.url, Credentials(key, secret))
        assert reader.balances() == {}
        with pytest.raises(errors.PermissionDenied):
            reader.place_order("BTC/USD", "buy", "market", D("0.01"))
        key, secret = kraken.simulator.add_account(balances={"ZUSD": "10"})
        poor = connector(kraken.url, Credentials(key, secret))
        with pytest.raises(errors.InsufficientFunds):
            poor.place_order("BTC/USD", "buy", "market", D("0.01"))


def test_histories_are_paged(kraken):
    for _ in range(56):
        kraken.place_order("DOGE/USD", "buy", "market", D("100"))
    assert len(kraken.closed_orders("DOGE/USD")) == 56
    trades = kraken.my_trades("DOGE/USD")
    assert len(trades) == 56 and len({t.id for t in trades}) == 56
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)
    assert kraken.my_trades(limit=3) == trades[-3:]
    assert kraken.my_trades(since=trades[10].timestamp, limit=2) == trades[11:13]
    orders = kraken.closed_orders("DOGE/USD")
    later = kraken.closed_orders("DOGE/USD", since=orders[49].updated)
    assert [o.id for o in later] == [o.id for o in orders[50:]]


def test_a_quote_from_the_book_accepted_as_a_limit_ioc_order(kraken):
    book = kraken.order_book("BTC/USD")
    amount = book.asks[0].amount + D("0.1")  # needs the second level
    quote = kraken.quote("BTC/USD", "buy", amount)
    assert quote.price == book.asks[1].price  # the worst level reached
    assert quote.cost == amount * quote.price
    assert D(quote.raw["vwap"]) < quote.price
    assert timedelta(seconds=9) < quote.expires_at - quote.created_at <= timedelta(seconds=10)
    order = kraken.accept_quote(quote)
    assert order.status is OrderStatus.FILLED and order.filled == amount
    assert order.average_price <= quote.price
    assert order.price == quote.price and order.client_id
    assert kraken.order(client_id=order.client_id).id == order.id


def test_quotes_refuse_thin_books_and_expire(kraken):
    with pytest.raises(errors.InvalidQuote):
        kraken.quote("BTC/USD", "sell", D("1000"))
    stale = kraken.quote("ETH/USD", "sell", D("1"), valid_for=timedelta(0))
    with pytest.raises(errors.QuoteExpired):
        kraken.accept_quote(stale)
    assert kraken.open_orders() == [] and kraken.closed_orders() == []


def test_a_lost_add_order_answer_leaves_an_order_findable_by_client_id(kraken):
    kraken.simulator.inject(Fault.lost_response(), path="/0/private/AddOrder")
    with pytest.raises(errors.NetworkError):
        kraken.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000.0"), client_id="lost-1")
    found = kraken.order(client_id="lost-1")
    assert found.status is OrderStatus.OPEN
    assert kraken.simulator.hits["/0/private/AddOrder"] == 1  # never retried blindly


def test_the_facade_tracks_kraken_orders_and_quotes():
    with sim_client() as client:
        tracked = client.place_order("BTC/USD", "buy", "market", D("0.01"))
        final = tracked.wait(timeout=10, poll=0.05)
        assert final.status is OrderStatus.FILLED and final.filled == D("0.01")
        resting = client.place_order("BTC/USD", "buy", "limit", D("0.01"), D("20000"))
        assert client.cancel_order(resting.snapshot.id).status is OrderStatus.CANCELLED
        quote = client.quote("ETH/USD", "sell", D("0.5"))
        order = quote.accept().wait(timeout=10, poll=0.05)
        assert order.status is OrderStatus.FILLED and order.average_price >= quote.snapshot.price
        with pytest.raises(errors.QuoteAlreadyExecuted):
            quote.accept()


def test_quote_order_finds_the_order_a_quote_made_and_only_that(kraken):
    quote = kraken.quote("BTC/USD", "buy", D("0.01"))
    with pytest.raises(errors.OrderNotFound):
        kraken.quote_order(quote)
    order = kraken.accept_quote(quote)
    assert kraken.quote_order(quote).id == order.id


def test_a_paging_limit_never_cuts_silently(kraken, monkeypatch, caplog):
    from xest_kraken import trading

    for _ in range(56):
        kraken.place_order("DOGE/USD", "buy", "market", D("100"))
    monkeypatch.setattr(trading, "MAX_PAGES", 1)  # 50 rows a call, as 2000 of 2100 would be
    with pytest.warns(errors.TruncatedWarning, match="read 50 of 56 rows.*since="):
        assert len(kraken.closed_orders()) == 50
    assert "read 50 of 56" in caplog.text


def test_history_on_a_delisted_pair_is_kept_and_flagged(kraken):
    kraken.place_order("DOGE/USD", "buy", "market", D("100"))
    resting = kraken.place_order("DOGE/USD", "buy", "limit", D("100"), D("0.01"))
    kraken.place_order("BTC/USD", "buy", "market", D("0.01"))
    names = kraken.client.connector.market_index()._names
    doge = names["DOGE/USD"]
    for name in [n for n, m in names.items() if m is doge]:
        del names[name]  # DOGE/USD is delisted now; its orders and fills stay in the history
    closed = kraken.closed_orders()
    gone = [o for o in closed if not o.listed]
    assert len(closed) == 2 and len(gone) == 1 and gone[0].symbol == doge.id
    assert [o.listed for o in closed if o.symbol == "BTC/USD"] == [True]
    (still_open,) = kraken.open_orders()
    assert still_open.id == resting.id and not still_open.listed
    trades = kraken.my_trades()
    assert sorted(t.listed for t in trades) == [False, True]
    assert {t.symbol for t in trades} == {doge.id, "BTC/USD"}


def test_each_fill_has_its_orders_side(kraken):
    bought = place(kraken, "BTC/USD", "buy", "market", D("0.01"))
    sold = place(kraken, "BTC/USD", "sell", "market", D("0.01"))
    sides = {t.order_id: t.side for t in kraken.my_trades("BTC/USD")}
    assert sides == {bought.id: Side.BUY, sold.id: Side.SELL}


@pytest.mark.parametrize(
    ("amount", "price", "says"),
    [("1" * 5000, None, "out of range"), ("0.01", "-5", "positive"), ("0.01", "1e40", "range")],
)
def test_the_connector_refuses_absurd_orders_before_sending(kraken, amount, price, says):
    before = kraken.simulator.hits["/0/private/AddOrder"]
    kind = "market" if price is None else "limit"
    with pytest.raises(errors.InvalidOrder, match=says):
        kraken.place_order("BTC/USD", "buy", kind, D(amount), None if price is None else D(price))
    assert kraken.simulator.hits["/0/private/AddOrder"] == before


def test_the_simulator_refuses_a_huge_price_instead_of_crashing(kraken):
    from xest_kraken import endpoints as ep

    params = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01"}
    for price in ("1e40", "1E+40", "0." + "0" * 30 + "1"):
        with pytest.raises(errors.ExchangeError, match="price"):
            kraken.client.connector._result(ep.ADD_ORDER, {**params, "price": price})
