"""Kraken's WebSocket v2 streams against the simulator: the watched book stays the simulator's
own book through lost updates, wrong checksums, drops and a stale feed."""

from __future__ import annotations

import random
import zlib
from decimal import Decimal

import pytest
from xest_kraken.stream import checksum, checksum_text

import xest
from xest import errors
from xest.streams.check import same_book, wait_for

PAIR, SYMBOL, DEPTH = "XXBTZUSD", "BTC/USD", 10


@pytest.fixture
def kraken():
    with xest.open("kraken", sim=True, cache=False) as client:
        yield client


def _mirrors(client, stream) -> bool:
    bids, asks = client.simulator.own_book(PAIR)
    return same_book(stream.latest, bids, asks, DEPTH)


def test_checksum_prints_levels_as_kraken_documents():
    # Kraken's example: price "45285.2" and qty "0.00100000" → "452852100000".
    assert checksum_text(Decimal("45285.2"), 1) + checksum_text(Decimal("0.001"), 8) == (
        "452852100000"
    )
    asks = [(Decimal("45285.2"), Decimal("0.001"))]
    bids = [(Decimal("45283.5"), Decimal("0.1"))]
    expected = zlib.crc32(b"452852100000" + b"45283510000000") & 0xFFFFFFFF
    assert checksum(bids, asks, 1, 8) == expected


def test_book_snapshot_then_updates_mirror_the_simulator(kraken):
    rng = random.Random(3)
    with kraken.stream_book(SYMBOL, DEPTH) as stream:
        first = stream.get(timeout=10)
        assert len(first.bids) == DEPTH and first.best_bid.price < first.best_ask.price
        for _ in range(300):
            kraken.simulator.book_step(PAIR, rng)
        assert wait_for(lambda: _mirrors(kraken, stream))
        assert stream.resyncs == 0


@pytest.mark.parametrize("fault", ["gap", "bad_checksum", "drop", "stale"])
def test_book_recovers_from_fault_and_says_so(kraken, fault):
    rng = random.Random(fault)
    sim = kraken.simulator
    # The simulator's heartbeat is every second; the stale fault silences it for 2 s.
    with kraken.stream_book(SYMBOL, DEPTH, stale_after=1.5) as stream:
        stream.get(timeout=10)
        with stream.listen() as events:
            for i in range(60):
                if i == 20:
                    sim.ws.inject(fault, seconds=2.0) if fault == "stale" else sim.ws.inject(fault)
                sim.book_step(PAIR, rng)
            wanted = {
                "gap": "resync",
                "bad_checksum": "resync",
                "drop": "disconnected",
                "stale": "stale",
            }[fault]
            event = events.wait_for(lambda e: e.kind == wanted, timeout=10)
            assert event.data["source"] == "stream"
            for _ in range(30):
                sim.book_step(PAIR, rng)
            assert wait_for(lambda: _mirrors(kraken, stream), timeout=15)
        if fault in ("gap", "bad_checksum"):
            assert event.data["reason"] == "checksum"


def test_a_book_known_wrong_is_never_served(kraken):
    """Every book the stream hands out passes the checksum of the state it claims."""
    rng = random.Random(11)
    sim = kraken.simulator
    seen = []
    with kraken.stream_book(SYMBOL, DEPTH) as stream:
        stream.get(timeout=10)
        for i in range(200):
            if i % 25 == 5:
                sim.ws.inject(rng.choice(["gap", "bad_checksum"]))
            sim.book_step(PAIR, rng)
            book = stream.latest
            if book is not None:
                seen.append(book)
        assert wait_for(lambda: _mirrors(kraken, stream), timeout=15)
        assert stream.resyncs >= 1
    market = kraken.market(SYMBOL)
    for book in seen:
        bids = [(lv.price, lv.amount) for lv in book.bids]
        asks = [(lv.price, lv.amount) for lv in book.asks]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert not bids or not asks or bids[0][0] < asks[0][0]
    assert market.symbol == SYMBOL


def test_ticker_follows_the_price(kraken):
    with kraken.stream_ticker(SYMBOL) as stream:
        stream.get(timeout=10)
        kraken.simulator.set_price(PAIR, 41000)
        ticker = stream.get(timeout=10)
        assert Decimal(40900) < ticker.bid < ticker.ask < Decimal(41100)


def test_orders_stream_reports_placement_and_cancel(kraken):
    with kraken.stream_orders() as stream:
        assert stream.wait_live(10)
        order = kraken.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        seen = stream.get(timeout=10)
        assert seen.id == order.id and seen.status == "open"
        kraken.cancel_order(order.id)
        assert stream.get(timeout=10).status == "cancelled"


def test_balances_stream_sees_a_fill(kraken):
    with kraken.stream_balances() as stream:
        first = {stream.get(timeout=10).asset for _ in range(3)}
        assert first
        order = kraken.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        kraken.simulator.fill(order.id)
        assert wait_for(lambda: any(b.asset in ("BTC", "USD") for b in _drain(stream)), 10)


def _drain(stream):
    out = []
    while True:
        try:
            out.append(stream.get(timeout=0.05))
        except TimeoutError:
            return out


def test_no_private_stream_without_credentials():
    with xest.open("kraken", sim=True, key=None) as client:
        client.connector.credentials = None
        with pytest.raises(errors.AuthenticationError, match="credentials"):
            client.stream_orders()


def test_unknown_symbol_is_a_bad_symbol(kraken):
    with pytest.raises(errors.BadSymbol):
        kraken.stream_book("NOPE/USD")


def test_market_agent_streams_falls_back_to_polling_and_back(kraken):
    agent = kraken.market_agent(
        SYMBOL, depth=DEPTH, interval=0.1, stream_options={"stale_after": 0.3}
    ).start()
    assert wait_for(lambda: agent.source("book") == "stream" and agent.book is not None)
    with agent.listen("source") as events:
        kraken.simulator.ws.inject("stale", seconds=1.5)
        to_poll = events.wait_for(lambda e: e.new == "poll", timeout=10)
        assert to_poll.data["task"] in ("book", "ticker")
        back = events.wait_for(lambda e: e.new == "stream", timeout=15)
        assert back.old == "poll"
    assert agent.requests >= 1
    assert any(e.kind == "stream_stale" for e in agent.events())
    agent.stop()


def test_market_agent_poll_forces_polling(kraken):
    agent = kraken.market_agent(SYMBOL, interval=0.05, poll=True).start()
    assert agent.stream("book") is None
    assert wait_for(lambda: agent.requests >= 4)
    assert agent.source("book") == "poll" and agent.book is not None
    agent.stop()


def test_account_agent_follows_orders_from_the_stream_and_falls_back(kraken):
    account = kraken.account.start()
    assert wait_for(lambda: account.orders_source == "stream")
    order = kraken.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
    kraken.simulator.fill(order.id)
    assert order.wait(timeout=10).status == "filled"
    assert account.streamed_updates >= 1
    with account.listen("source") as events:
        kraken.simulator.inject_stream("drop")
        assert events.wait_for(lambda e: e.new == "poll", timeout=10).data["task"] == "orders"
        assert events.wait_for(lambda e: e.new == "stream", timeout=15)


def test_trades_stream_reports_a_fill(kraken):
    with kraken.stream_trades(SYMBOL) as stream:
        assert stream.wait_live(10)
        order = kraken.place_order(SYMBOL, "buy", "limit", "0.01", "20000")
        kraken.simulator.fill(order.id)
        trade = stream.get(timeout=10)
        assert (trade.symbol, trade.price, trade.amount) == (
            SYMBOL,
            Decimal(20000),
            Decimal("0.01"),
        )


def _watch(*args):
    from click.testing import CliRunner

    from xest.cli import cli

    return CliRunner().invoke(cli, ["--sim", "watch", "kraken", "--symbol", SYMBOL, *args])


def test_watch_shows_the_streamed_book():
    result = _watch("--iterations", "3", "--refresh", "0.3", "--depth", "3")
    assert result.exit_code == 0, result.output
    frame = result.output.split("BTC/USD  (")[-1]
    assert frame.startswith("stream, stream live")
    assert "29998.5" in frame and "30001.5" in frame  # the simulator's best bid and ask


def test_watch_poll_forces_polling():
    result = _watch("--poll", "--iterations", "2", "--refresh", "0.3")
    assert result.exit_code == 0, result.output
    frame = result.output.split("BTC/USD  (")[-1]
    assert frame.startswith("poll, ") and "stream" not in frame.split("\n")[0]


def _feed(depth=2):
    from xest_kraken.stream import BookFeed

    from xest.models import Market

    market = Market(
        symbol=SYMBOL,
        id=PAIR,
        base="BTC",
        quote="USD",
        price_step=Decimal("0.1"),
        amount_step=Decimal("0.00000001"),
    )
    return BookFeed(None, market, depth=depth)


def _msg(type_, bids, asks, crc):
    rows = lambda levels: [{"price": Decimal(p), "qty": Decimal(q)} for p, q in levels]  # noqa: E731
    return {
        "channel": "book",
        "type": type_,
        "data": [{"symbol": SYMBOL, "bids": rows(bids), "asks": rows(asks), "checksum": crc}],
    }


def _crc(bids, asks):
    D = Decimal
    return checksum([(D(p), D(q)) for p, q in bids], [(D(p), D(q)) for p, q in asks], 1, 8)


def test_book_feed_truncates_to_depth_and_verifies_every_checksum():
    from xest.streams import Resync

    feed = _feed(depth=2)
    feed.subscribed = 2  # as if subscribed at depth 2: levels out of scope are not announced
    bids, asks = [("100.0", "1"), ("99.0", "2")], [("101.0", "1"), ("102.0", "1")]
    [book] = feed.handle(_msg("snapshot", bids, asks, _crc(bids, asks)))
    assert [lv.price for lv in book.bids] == [Decimal(100), Decimal(99)]
    # A new best bid pushes 99.0 out of scope: the checksum is over the truncated book.
    after = [("100.5", "3"), ("100.0", "1")]
    [book] = feed.handle(_msg("update", [("100.5", "3")], [], _crc(after, asks)))
    assert [lv.price for lv in book.bids] == [Decimal("100.5"), Decimal(100)]
    with pytest.raises(Resync) as caught:
        list(feed.handle(_msg("update", [("100.0", "5")], [], 12345)))
    assert caught.value.reason == "checksum" and not feed.synced()
    assert feed.book.bids == {} and feed.book.asks == {}  # nothing wrong kept, nothing served
