"""History lists longer than one Binance answer are read page after page (forward, by id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from xest_binance import trading
from xest_binance.simulator import BinanceSimulator

import xest


@pytest.fixture
def conn(monkeypatch):
    monkeypatch.setattr(trading, "HISTORY_PAGE", 3)  # pages of 3 rows: a few orders suffice
    with BinanceSimulator() as sim:
        key, secret = sim.demo_credentials()
        with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as client:
            yield client.connector, sim


def test_my_trades_and_closed_orders_page_forward(conn):
    connector, sim = conn
    since = datetime.now(UTC) - timedelta(minutes=1)
    for _ in range(7):
        connector.place_order("BTC/USDT", "buy", "market", "0.001")
    before = sim.hits["/api/v3/myTrades"]
    trades = connector.my_trades("BTC/USDT", since=since, limit=5)
    assert len(trades) == 5 and sim.hits["/api/v3/myTrades"] - before == 2
    every = connector.my_trades("BTC/USDT", since=since, limit=100)
    assert len({t.id for t in every}) == len(every) >= 7
    orders = connector.closed_orders("BTC/USDT", since=since)
    assert len(orders) == 7 and len({o.id for o in orders}) == 7
    assert [o.created for o in orders] == sorted(o.created for o in orders)
