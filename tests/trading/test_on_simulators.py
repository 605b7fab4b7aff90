"""The trading flows against the real connectors' simulators (skipped when not installed).

The thousand-lost-answers run is bench/bench_trading.py; here a short one keeps the suite fast.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

import xest
from xest import errors, registry
from xest.http.limiter import RateLimiter
from xest.models import OrderStatus, QuoteState
from xest.testing.server import Fault

SETUP = {
    "kraken": ("BTC/USD", "/0/private/AddOrder", "/0/private/AddOrder", "fill", "1000.0"),
    "binance": (
        "BTC/USDT",
        "/api/v3/order",
        "/sapi/v1/convert/acceptQuote",
        "fill_order",
        "1000.00",
    ),
}


@pytest.fixture(params=sorted(SETUP))
def venue(request):
    exchange = request.param
    if exchange not in registry.simulators():
        pytest.skip(f"no {exchange} simulator installed")
    symbol, place, accept, fill, rest = SETUP[exchange]
    sim = registry.simulator_factory(exchange)(clock_offset=20.0).start()
    key, secret = sim.demo_credentials()
    # The client's rate limiter off: these tests are about reconciliation, not budgets.
    limiter = RateLimiter(exchange, sim.url.split("://")[1], {})
    client = xest.open(exchange, url=sim.url, key=key, secret=secret, cache=False, limiter=limiter)
    client.account.lookup_delay = 0.0
    yield client, sim, symbol, place, accept, getattr(sim, fill), Decimal(rest)
    client.close()
    sim.stop()


def test_a_quote_executes_once_under_many_threads(venue):
    client, sim, symbol, _, accept, _, _ = venue
    quote = client.quote(symbol, "buy", Decimal("0.01"), valid_for=timedelta(seconds=30))
    before = sim.hits[accept]
    barrier, results = threading.Barrier(8), []

    def go():
        barrier.wait()
        try:
            results.append(client.accept_quote(quote))
        except errors.QuoteAlreadyExecuted as exc:
            results.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(not isinstance(r, Exception) for r in results) == 1 and len(results) == 8
    assert sim.hits[accept] - before == 1 and quote.state is QuoteState.EXECUTED


def test_an_expired_quote_is_refused_before_any_request(venue):
    client, sim, symbol, _, accept, _, _ = venue
    quote = client.quote(symbol, "sell", Decimal("0.01"), valid_for=timedelta(seconds=10))
    assert 0 < quote.seconds_left() <= 10.5  # the exchange's clock, 20 s ahead of ours
    sim.clock_offset += 15
    client.clock.forget_before(time.monotonic())
    before = sim.hits[accept]
    with pytest.raises(errors.QuoteExpired):
        quote.accept()
    assert sim.hits[accept] == before


def test_lost_answers_leave_each_order_exactly_once(venue):
    client, sim, symbol, place, _, _, rest = venue
    lookups = []
    real = client.connector.order
    client.connector.order = lambda *a, **kw: lookups.append(kw.get("client_id")) or real(*a, **kw)
    placed = []
    for i in range(20):
        sim.inject(Fault.lost_response(), path=place)
        placed.append(client.place_order(symbol, "buy", "limit", Decimal("0.01"), rest + i))
    listed = client.connector.open_orders(symbol)
    counts = Counter(o.client_id for o in listed)
    assert all(counts[o.client_id] == 1 for o in placed)
    assert len({o.id for o in placed}) == 20
    assert [o.client_id for o in placed] == lookups  # each lost answer was looked up


def test_a_limit_order_is_followed_through_a_partial_fill(venue):
    client, _, symbol, _, _, fill, rest = venue
    order = client.place_order(symbol, "buy", "limit", Decimal("0.02"), rest)
    kinds = []
    order.subscribe(lambda e: kinds.append(e.kind))
    fill(order.id, Decimal("0.01"))
    order.refresh()
    assert order.status is OrderStatus.PARTIALLY_FILLED
    fill(order.id, Decimal("0.01"))
    assert order.wait(timeout=10, poll=0.02).status is OrderStatus.FILLED
    assert kinds[:1] == ["order_partial_fill"] and kinds[-1] == "order_filled"


def test_a_lost_quote_acceptance_is_found_through_quote_order(venue):
    client, sim, symbol, _, accept, _, _ = venue
    quote = client.quote(symbol, "buy", Decimal("0.01"), valid_for=timedelta(seconds=30))
    sim.inject(Fault.lost_response(), path=accept)
    before = sim.hits[accept]
    order = quote.accept()
    assert sim.hits[accept] - before == 1, "a lost acceptance must not be sent again"
    assert quote.state is QuoteState.EXECUTED
    assert order.id  # the order the exchange made, found after the lost answer
    assert quote.order is not None and quote.order.id == order.id
    assert client.connector.quote_order(quote.snapshot).id == order.id
    with pytest.raises(errors.QuoteAlreadyExecuted):
        quote.accept()


def _count_sends(client):
    sends = []
    real = client.connector.place_order
    client.connector.place_order = lambda *a, **kw: sends.append(a) or real(*a, **kw)
    return sends


def _short_window(client):
    connector = client.connector
    if hasattr(connector, "recv_window"):
        connector.recv_window = 2000  # Binance: timestamp + 2 s
    else:
        connector.order_validity = timedelta(seconds=2)  # Kraken: AddOrder deadline


def test_a_market_order_reaching_the_exchange_late_is_placed_once(venue):
    """Issue 15.1: held on the way past the read timeout and past the first look-ups, the
    placement lands inside its validity window; only look-ups follow, never a second send."""
    client, sim, symbol, place, _, _, _ = venue
    _short_window(client)
    client.connector.transport.read_timeout = 0.3
    sim.inject(Fault.slow(1.5), path=place)
    order = client.place_order(symbol, "buy", "market", Decimal("0.01"))
    # Kraken refuses the held request on arrival (its nonce is older than the look-ups'), and
    # it is sent again once its deadline passed; Binance executes it, and it is found.
    listed = client.connector.closed_orders(symbol) + client.connector.open_orders(symbol)
    assert [o.client_id for o in listed].count(order.client_id) == 1
    assert client.connector.order(client_id=order.client_id, symbol=symbol).id == order.id


def test_a_garbled_answer_to_a_placement_is_reconciled_not_failed(venue):
    """Issue 15.2: executed, then half a JSON body: the order is found and tracked."""
    client, sim, symbol, place, _, _, _ = venue
    sends = _count_sends(client)
    for kind in ("market", "limit"):
        sim.inject(Fault.truncated(), path=place)
        price = None if kind == "market" else Decimal("1000")
        order = client.place_order(symbol, "buy", kind, Decimal("0.01"), price)
        assert len(sends) == (1 if kind == "market" else 2)
        assert order.id and client.connector.order(order.id, symbol=symbol).id == order.id
        assert client.account.registry.find(order.id) is order
