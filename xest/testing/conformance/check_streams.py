"""Streams: for a connector that declares streams (``Connector.streams``), against its
simulator's streams on loopback.

| check | what must hold |
| --- | --- |
| undeclared stream kinds | NotSupported, before any connection |
| book: snapshot, updates | first book sorted, uncrossed; then the simulator's own book |
| book: gap, bad checksum | a ``resync`` event, then the simulator's book again |
| book: drop, stale feed | a reconnect (``disconnected``/``stale``), then the book again |
| ticker | a ticker of the symbol arrives |
| no private stream without credentials | AuthenticationError, no connection made |
| orders stream | a placed (resting) order is reported, then its cancellation |

What the simulator offers for these checks (skipped, with the reason, when missing):
``stream_urls()`` (the connector's stream endpoints on loopback), ``own_book(id)`` (its book
of a market, by the exchange's id, as (bids, asks) of (price, qty) best first),
``book_step(id, rng)`` (one random change to that book, published), ``inject_stream(fault)``
and ``stream_faults`` (the faults it can inject: ``drop``, ``gap``, ``stale``,
``bad_checksum``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from xest import errors
from xest.streams import PRIVATE_STREAMS, STREAM_KINDS
from xest.streams.check import same_book, wait_for
from xest.testing.conformance.harness import Context

DEPTH = 10
STEPS = 120
WAIT = 20.0  # generous: a loaded machine still converges well within it
EXPECTED_EVENT = {
    "gap": "resync",
    "bad_checksum": "resync",
    "drop": "disconnected",
    "stale": "stale",
}


def _streams(ctx: Context) -> frozenset[str]:
    declared = frozenset(ctx.h.cls.streams)
    if not declared:
        pytest.skip(f"{ctx.name} declares no streams")
    return declared


def _wire(ctx: Context, client: Any = None) -> Any:
    """The client with its streams pointed at the simulator's."""
    client = client or ctx.client
    urls = getattr(ctx.sim, "stream_urls", None)
    if urls is None:
        pytest.fail(
            f"{ctx.name} declares streams but its simulator has no stream_urls(): the suite "
            "needs the streams on loopback (see xest.streams.simserver)"
        )
    client.connector.use_stream_urls(urls())
    return client


def _needs(ctx: Context, *names: str) -> None:
    missing = [n for n in names if not hasattr(ctx.sim, n)]
    if missing:
        pytest.skip(f"{ctx.name}'s simulator has no {', '.join(missing)} (see check_streams)")


def _book_stream(ctx: Context) -> tuple[Any, str]:
    if "book" not in _streams(ctx):
        pytest.skip(f"{ctx.name} declares no book stream")
    _needs(ctx, "own_book", "book_step")
    client = _wire(ctx)
    market = ctx.market()
    stream = client.stream_book(ctx.symbol, DEPTH, stale_after=2.0)
    return stream, market.id


def _mirrors(ctx: Context, stream: Any, market_id: str) -> bool:
    bids, asks = ctx.sim.own_book(market_id)
    return same_book(stream.latest, bids, asks, DEPTH)


def _drive(ctx: Context, market_id: str, rng: random.Random, steps: int) -> None:
    for _ in range(steps):
        ctx.sim.book_step(market_id, rng)


def test_undeclared_streams_are_not_supported(xest_ctx: Context) -> None:
    declared = frozenset(xest_ctx.h.cls.streams)
    for kind in STREAM_KINDS:
        if kind in declared:
            continue
        with pytest.raises(errors.NotSupported):
            xest_ctx.client.stream(kind, xest_ctx.symbol if kind not in PRIVATE_STREAMS else None)


def test_book_snapshot_then_updates(xest_ctx: Context) -> None:
    stream, market_id = _book_stream(xest_ctx)
    with stream:
        first = stream.get(timeout=WAIT)
        prices = [lv.price for lv in first.bids], [lv.price for lv in first.asks]
        assert prices[0] == sorted(prices[0], reverse=True), "bids must be best (highest) first"
        assert prices[1] == sorted(prices[1]), "asks must be best (lowest) first"
        assert not (prices[0] and prices[1]) or prices[0][0] < prices[1][0], "crossed book"
        _drive(xest_ctx, market_id, random.Random(1), STEPS)
        assert wait_for(lambda: _mirrors(xest_ctx, stream, market_id), WAIT), (
            f"the streamed {xest_ctx.symbol} book is not the simulator's after {STEPS} changes"
        )


@pytest.mark.parametrize("fault", ["gap", "bad_checksum", "drop", "stale"])
def test_book_recovers_from_stream_fault(xest_ctx: Context, fault: str) -> None:
    _needs(xest_ctx, "inject_stream")
    if fault not in getattr(xest_ctx.sim, "stream_faults", ()):
        pytest.skip(f"{xest_ctx.name}'s simulator does not inject {fault!r} stream faults")
    stream, market_id = _book_stream(xest_ctx)
    rng = random.Random(fault)
    with stream, stream.listen() as events:
        stream.get(timeout=WAIT)
        _drive(xest_ctx, market_id, rng, 10)
        options = {"seconds": 3.0} if fault == "stale" else {}
        xest_ctx.sim.inject_stream(fault, **options)
        _drive(xest_ctx, market_id, rng, 30)
        wanted = EXPECTED_EVENT[fault]
        try:
            events.wait_for(lambda e: e.kind == wanted, timeout=WAIT)
        except TimeoutError:
            pytest.fail(f"after a {fault} fault the stream emitted no {wanted!r} event")
        _drive(xest_ctx, market_id, rng, 30)
        assert wait_for(lambda: _mirrors(xest_ctx, stream, market_id), WAIT), (
            f"after a {fault} fault the streamed book did not come back to the simulator's"
        )


def test_ticker_stream(xest_ctx: Context) -> None:
    if "ticker" not in _streams(xest_ctx):
        pytest.skip(f"{xest_ctx.name} declares no ticker stream")
    client = _wire(xest_ctx)
    with client.stream_ticker(xest_ctx.symbol) as stream:
        ticker = None
        if hasattr(xest_ctx.sim, "book_step"):
            # Some exchanges push a ticker only when the top of the book moves: move it.
            market_id, rng = xest_ctx.market().id, random.Random(2)
            for _ in range(400):
                xest_ctx.sim.book_step(market_id, rng)
                try:
                    ticker = stream.get(timeout=0.05)
                    break
                except TimeoutError:
                    continue
        ticker = ticker or stream.get(timeout=WAIT)
        assert ticker.symbol == xest_ctx.symbol


def test_no_private_stream_without_credentials(xest_ctx: Context) -> None:
    private = _streams(xest_ctx) & PRIVATE_STREAMS
    if not private:
        pytest.skip(f"{xest_ctx.name} declares no private stream")
    client = _wire(xest_ctx, xest_ctx.open())
    client.connector.credentials = None
    before = getattr(getattr(xest_ctx.sim, "ws", None), "connections", None)
    for kind in sorted(private):
        with pytest.raises(errors.AuthenticationError):
            client.stream(kind)
    after = getattr(getattr(xest_ctx.sim, "ws", None), "connections", None)
    assert before == after, "a private stream without credentials still connected"


def test_orders_stream_reports_an_order(xest_ctx: Context) -> None:
    if "orders" not in _streams(xest_ctx):
        pytest.skip(f"{xest_ctx.name} declares no orders stream")
    for op in ("place_order", "cancel_order"):
        if not xest_ctx.h.declares(op):
            pytest.skip(f"{xest_ctx.name} does not declare {op}")
    client = _wire(xest_ctx)
    amount, price = xest_ctx.resting_buy()
    with client.stream_orders() as stream:
        assert stream.wait_live(WAIT), "the orders stream never subscribed"
        order = xest_ctx.call("place_order", xest_ctx.symbol, "buy", "limit", amount, price)
        try:
            seen = _next_for(stream, order.id)
            assert seen.status in ("open", "pending"), f"a resting order streamed as {seen.status}"
        finally:
            xest_ctx.call("cancel_order", order.id, symbol=xest_ctx.symbol)
        assert _next_for(stream, order.id, final=True).status == "cancelled"


def _next_for(stream: Any, order_id: str, final: bool = False) -> Any:
    while True:
        try:
            order = stream.get(timeout=WAIT)
        except TimeoutError:
            pytest.fail(f"the orders stream did not report order {order_id}")
        if order.id == order_id and (order.is_final or not final):
            return order
