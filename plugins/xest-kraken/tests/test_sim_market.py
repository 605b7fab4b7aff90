"""The connector against its simulator, through the public API: exchange and market data."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kraken_helpers import connector, sim_client
from xest_kraken import KrakenConnector
from xest_kraken.endpoints import DEPTH
from xest_kraken.signing import signature
from xest_kraken.simulator import KrakenSimulator

from xest import errors, registry
from xest.connector import OPERATIONS, Connector
from xest.credentials import Credentials
from xest.models import Status
from xest.testing.conformance.harness import placeholder_args


@pytest.fixture
def kraken():
    with sim_client() as client:
        yield client


def test_registered_and_every_declared_operation_is_implemented():
    assert registry.connector_class("kraken") is KrakenConnector
    for op in KrakenConnector.capabilities:
        method = getattr(KrakenConnector, op)
        assert getattr(method, "__wrapped__", method) is not getattr(Connector, op), op
    sim = registry.simulator_factory("kraken")(port=0)
    assert isinstance(sim, KrakenSimulator)
    assert sim.demo_credentials()[0]


def test_an_operation_taken_away_raises_not_supported_without_a_request(kraken):
    for op in OPERATIONS:
        narrowed = type("Narrowed", (KrakenConnector,), {"capabilities": {*OPERATIONS} - {op}})
        connector = narrowed(kraken.connector.transport, kraken.connector.credentials)
        before = sum(kraken.simulator.hits.values())
        args, kwargs = placeholder_args(op)
        with pytest.raises(errors.NotSupported, match=op):
            getattr(connector, op)(*args, **kwargs)
        assert sum(kraken.simulator.hits.values()) == before


def test_status_follows_the_simulator(kraken):
    assert kraken.status().status is Status.ONLINE
    kraken.simulator.set_status("maintenance")
    status = kraken.connector.status()
    assert status.status is Status.MAINTENANCE and status.updated is not None
    with pytest.raises(ValueError):
        kraken.simulator.set_status("sleeping")


def test_server_time_honours_the_simulated_clock():
    with KrakenSimulator(clock_offset=3600) as sim:
        reading = connector(sim.url).server_time()
    ahead = (reading.time - datetime.now(UTC)).total_seconds()
    assert 3598 <= ahead <= 3601
    assert reading.resolution == timedelta(seconds=1)


def test_markets_have_unified_symbols_precisions_and_minimums(kraken):
    markets = {m.symbol: m for m in kraken.markets()}
    assert {"BTC/USD", "ETH/USD", "ETH/BTC", "BTC/USDT", "DOGE/USD", "DOT/USD"} <= set(markets)
    btc = markets["BTC/USD"]
    assert (btc.id, btc.ids["altname"], btc.ids["wsname"]) == ("XXBTZUSD", "XBTUSD", "XBT/USD")
    assert btc.price_step == Decimal("0.1") and btc.amount_step == Decimal("1E-8")
    assert btc.min_amount == Decimal("0.0001") and btc.min_cost == Decimal("0.5")
    doge = markets["DOGE/USD"]
    assert doge.id == "XDGUSD" and doge.price_step == Decimal("1E-7") and doge.base_id == "XXDG"
    assert kraken.market("XBTUSD") is kraken.market("BTC/USD")  # any Kraken name resolves
    with pytest.raises(errors.BadSymbol):
        kraken.market("NOPE/USD")


def test_ticker_and_tickers(kraken):
    t = kraken.ticker("BTC/USD")
    assert t.symbol == "BTC/USD" and t.id == "XXBTZUSD"
    assert t.bid < t.ask and t.low <= t.high
    several = kraken.tickers(["BTC/USD", "ETH/BTC", "DOGE/USD"])
    assert set(several) == {"BTC/USD", "ETH/BTC", "DOGE/USD"}
    everything = kraken.tickers()
    assert len(everything) == len(kraken.markets())


def test_order_book_is_sorted_and_limited(kraken):
    book = kraken.order_book("ETH/USD", depth=10)
    assert len(book.bids) == len(book.asks) == 10
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    assert book.best_bid.price < book.best_ask.price
    assert book.timestamp is not None


@pytest.mark.parametrize("interval", ["1m", "1h", "1d", "1w"])
def test_candles_are_consistent(kraken, interval):
    candles = kraken.candles("BTC/USD", interval, limit=50)
    assert len(candles) == 50
    for c in candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.interval == interval
    times = [c.open_time for c in candles]
    assert times == sorted(times)


def test_candles_since_and_bad_interval(kraken):
    since = datetime.now(UTC) - timedelta(minutes=10)
    candles = kraken.candles("BTC/USD", "1m", since=since)
    assert candles and all(c.open_time > since for c in candles)
    assert len(candles) <= 11
    with pytest.raises(errors.BadRequest):
        kraken.candles("BTC/USD", "2m")


def test_public_trades(kraken):
    trades = kraken.trades("BTC/USD", limit=5)
    assert len(trades) == 5
    assert all(t.symbol == "BTC/USD" and t.amount > 0 for t in trades)
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)
    recent = kraken.trades("BTC/USD", since=datetime.now(UTC) - timedelta(seconds=30))
    assert all(t.timestamp > datetime.now(UTC) - timedelta(seconds=31) for t in recent)


def test_unknown_pair_is_bad_symbol_from_the_exchange():
    with KrakenSimulator() as sim:
        c = connector(sim.url)
        with pytest.raises(errors.BadSymbol, match="EQuery:Unknown asset pair"):
            c.request(DEPTH, {"pair": "NOPE"})


def test_auth_errors_key_signature_nonce():
    with KrakenSimulator() as sim:
        key, secret = sim.demo_credentials()
        with pytest.raises(errors.AuthenticationError, match="Invalid key"):
            connector(sim.url, Credentials("unknown", secret)).balances()
        other = "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBrZXkncw=="
        with pytest.raises(errors.AuthenticationError, match="Invalid signature") as caught:
            connector(sim.url, Credentials(key, other)).balances()
        assert other not in str(caught.value) and key not in str(caught.value)
        # The same nonce twice: the second call is refused.
        assert _post(sim, key, secret, 5_000_000_000_000)["error"] == []
        assert _post(sim, key, secret, 5_000_000_000_000)["error"] == ["EAPI:Invalid nonce"]
        assert _post(sim, key, secret, 4_000_000_000_000)["error"] == ["EAPI:Invalid nonce"]
        assert _post(sim, key, secret, 5_000_000_000_001)["error"] == []


def _post(sim, key, secret, nonce):
    body = f"nonce={nonce}"
    request = urllib.request.Request(
        sim.url + "/0/private/Balance",
        data=body.encode(),
        headers={
            "API-Key": key,
            "API-Sign": signature("/0/private/Balance", nonce, body, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def test_maintenance_makes_private_calls_unavailable(kraken):
    kraken.simulator.set_status("maintenance")
    with pytest.raises(errors.ExchangeUnavailable):
        kraken.balances()


def test_demo_accounts_are_two_distinct_funded_users():
    import xest

    with KrakenSimulator() as sim:
        accounts = sim.demo_accounts()
        assert set(accounts) >= {"alice", "bob"}
        assert accounts["alice"] == sim.demo_credentials()
        assert accounts["alice"][0] != accounts["bob"][0]
        totals = []
        for key, secret in (accounts["alice"], accounts["bob"]):
            client = xest.open("kraken", url=sim.url, key=key, secret=secret, cache=False)
            try:
                totals.append(client.balances()["BTC"].total)
            finally:
                client.close()
        assert totals == [Decimal("2.5"), Decimal("0.15")]
