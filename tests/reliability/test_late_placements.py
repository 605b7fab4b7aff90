"""Issue 15.1 replayed: market orders that reach the exchange late (held 2.5 s on the way, with
a 0.5 s read timeout) are placed exactly once, on both simulators, many at a time."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest

import xest
from xest import registry
from xest.http.limiter import RateLimiter

pytestmark = pytest.mark.slow

PLACE = {"kraken": ("BTC/USD", "/0/private/AddOrder"), "binance": ("BTC/USDT", "/api/v3/order")}


@pytest.mark.parametrize("exchange", sorted(PLACE))
def test_late_market_orders_are_never_doubled(exchange):
    if exchange not in registry.simulators():
        pytest.skip(f"no {exchange} simulator installed")
    symbol, path = PLACE[exchange]
    sim = registry.simulator_factory(exchange)().start()
    held = Counter()
    serve = sim._serve_one

    def hold_placements(h):
        if h.command == "POST" and h.path.split("?")[0] == path and held["placements"] < 16:
            held["placements"] += 1  # (about) every order's first attempt
            time.sleep(2.5)  # on its way: it reaches the exchange after the client gave up
        return serve(h)

    sim._serve_one = hold_placements
    key, secret = sim.demo_credentials()
    limiter = RateLimiter(exchange, sim.url.split("://")[1], {})
    client = xest.open(
        exchange,
        url=sim.url,
        key=key,
        secret=secret,
        cache=False,
        limiter=limiter,
        read_timeout=0.5,
    )
    if exchange == "kraken":
        client.connector.order_validity = timedelta(seconds=5)
    try:
        with ThreadPoolExecutor(8) as pool:
            orders = list(
                pool.map(
                    lambda i: client.place_order(symbol, "buy", "market", Decimal("0.001")),
                    range(16),
                )
            )
        listed = client.connector.closed_orders(symbol) + client.connector.open_orders(symbol)
        counts = Counter(o.client_id for o in listed)
        assert all(counts[o.client_id] == 1 for o in orders), counts
        assert len({o.client_id for o in orders}) == 16
    finally:
        client.close()
        sim.stop()
