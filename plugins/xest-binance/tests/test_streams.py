"""Binance's streams against the simulator: the watched book (REST snapshot + diff events,
update ids checked) stays the simulator's own book through gaps, drops and a stale feed."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from xest_binance.stream import DepthFeed

import xest
from xest import errors
from xest.streams import Resync
from xest.streams.check import same_book, wait_for

SYMBOL_ID, SYMBOL, DEPTH = "BTCUSDT", "BTC/USDT", 10


@pytest.fixture
def binance():
    with xest.open("binance", sim=True, cache=False) as client:
        yield client


def _mirrors(client, stream) -> bool:
    bids, asks = client.simulator.own_book(SYMBOL_ID)
    return same_book(stream.latest, bids, asks, DEPTH)


def test_book_snapshot_then_diffs_mirror_the_simulator(binance):
    rng = random.Random(5)
    with binance.stream_book(SYMBOL, DEPTH) as stream:
        first = stream.get(timeout=10)
        assert len(first.bids) == DEPTH and first.raw["update_id"] > 2**53
        for _ in range(300):
            binance.simulator.book_step(SYMBOL_ID, rng)
        assert wait_for(lambda: _mirrors(binance, stream))
        assert stream.resyncs == 0


@pytest.mark.parametrize("fault", ["gap", "drop", "stale"])
def test_book_recovers_from_fault_and_says_so(binance, fault):
    rng = random.Random(fault)
    sim = binance.simulator
    with binance.stream_book(
        SYMBOL,
        DEPTH,
    ) as stream:
        stream.feed.stale_after = 0.5
        stream.get(timeout=10)
        with stream.listen() as events:
            for i in range(60):
                if i == 20:
                    sim.ws.inject(fault, seconds=2.0) if fault == "stale" else sim.ws.inject(fault)
                sim.book_step(SYMBOL_ID, rng)
            wanted = {"gap": "resync", "drop": "disconnected", "stale": "stale"}[fault]
            event = events.wait_for(lambda e: e.kind == wanted, timeout=10)
            assert event.data["source"] == "stream"
            for _ in range(30):
                sim.book_step(SYMBOL_ID, rng)
            assert wait_for(lambda: _mirrors(binance, stream), timeout=15)
        if fault == "gap":
            assert event.data["reason"] == "gap" and event.data["got"] > event.data["expected"]


class _Connector:
    """Answers depth snapshots from a list, as a connector's REST call would."""

    def __init__(self, *snapshots):
        self.snapshots = list(snapshots)

    def request(self, endpoint, params, cache=None):
        assert cache is False  # a cached snapshot could predate the stream
        return self.snapshots.pop(0)


def _feed(*snapshots):
    from xest.models import Market

    market = Market(symbol=SYMBOL, id=SYMBOL_ID, base="BTC", quote="USDT")
    return DepthFeed(_Connector(*snapshots), market, depth=5)


def _event(first, last, bids=(), asks=()):
    return {"e": "depthUpdate", "s": SYMBOL_ID, "U": first, "u": last, "b": bids, "a": asks}


def test_depth_procedure_drops_covered_events_and_detects_a_gap():
    snap = {"lastUpdateId": 100, "bids": [["10", "1"], ["9", "2"]], "asks": [["11", "1"]]}
    feed = _feed(snap)
    [book] = list(feed.opened())
    assert book.best_bid.price == Decimal(10)
    assert list(feed.handle(_event(95, 100, [["10", "5"]]))) == []  # covered by the snapshot
    [book] = list(feed.handle(_event(99, 102, [["10", "0"]])))  # straddles: applied
    assert book.best_bid.price == Decimal(9)
    [book] = list(feed.handle(_event(103, 103, asks=[["12", "3"]])))
    assert [lv.price for lv in book.asks] == [Decimal(11), Decimal(12)]
    with pytest.raises(Resync) as caught:
        list(feed.handle(_event(105, 106)))  # 104 never came
    assert caught.value.reason == "gap"
    assert not feed.synced()  # the book is gone, not served


def test_ticker_follows_the_price(binance):
    with binance.stream_ticker(SYMBOL) as stream:
        assert stream.wait_live(10)
        binance.simulator.set_price(SYMBOL_ID, 41000)
        ticker = stream.get(timeout=10)
        assert Decimal(40990) < ticker.bid < ticker.ask < Decimal(41010)


def test_orders_stream_reports_placement_and_cancel(binance):
    with binance.stream_orders() as stream:
        assert stream.wait_live(10)
        order = binance.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        seen = stream.get(timeout=10)
        assert seen.id == order.id and seen.status == "open"
        binance.cancel_order(order.id, symbol=SYMBOL)
        assert stream.get(timeout=10).status == "cancelled"


def test_balances_stream_sees_a_lock(binance):
    with binance.stream_balances() as stream:
        assert stream.wait_live(10)
        binance.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        balance = stream.get(timeout=10)
        assert balance.asset == "USDT" and balance.locked == Decimal(200)


def test_user_stream_with_a_wrong_secret_is_an_authentication_error():
    with xest.open("binance", sim=True) as client:
        client.connector.credentials = xest.credentials.Credentials(
            client.connector.credentials.key, "0" * 64
        )
        stream = client.stream_orders()
        with pytest.raises(errors.AuthenticationError, match="-1022"):
            stream.get(timeout=10)


def test_no_private_stream_without_credentials(binance):
    binance.connector.credentials = None
    with pytest.raises(errors.AuthenticationError, match="credentials"):
        binance.stream_balances()


def test_account_agent_follows_orders_from_the_stream(binance):
    account = binance.account.start()
    assert wait_for(lambda: account.orders_source == "stream")
    order = binance.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
    binance.simulator.fill_order(order.id)
    assert order.wait(timeout=10).status == "filled"
    assert account.streamed_updates >= 1


def test_trades_stream_reports_a_fill(binance):
    with binance.stream_trades(SYMBOL) as stream:
        assert stream.wait_live(10)
        order = binance.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        binance.simulator.fill_order(order.id)
        trade = stream.get(timeout=10)
        assert (trade.symbol, trade.price, trade.amount) == (
            SYMBOL,
            Decimal(20000),
            Decimal("0.01"),
        )
        assert trade.side == "sell"  # a resting buy filled as maker: a sell hit it


def test_depth_serves_only_levels_inside_the_snapshot_horizon():
    from xest_binance.stream import SNAPSHOT_LIMIT

    bids = [[str(10_000 - i), "1"] for i in range(SNAPSHOT_LIMIT)]
    asks = [[str(20_000 + i), "1"] for i in range(SNAPSHOT_LIMIT)]
    feed = _feed({"lastUpdateId": 10, "bids": bids, "asks": asks})
    [book] = list(feed.opened())
    assert len(book.bids) == 5
    # Remove all but 3 known bids: what lies below the snapshot's last level is not known.
    removed = [[str(10_000 - i), "0"] for i in range(3, SNAPSHOT_LIMIT)]
    with pytest.raises(Resync) as caught:
        list(feed.handle(_event(11, 11 + len(removed), removed)))
    assert caught.value.reason == "horizon" and not feed.synced()
