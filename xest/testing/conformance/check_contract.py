"""Contract: every declared operation, against the connector's own simulator, returns the right
models with their invariants. Undeclared operations are checked to raise NotSupported, then
skipped with that reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from xest import errors
from xest.connector import OPERATIONS
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    PublicTrade,
    Quote,
    ServerTime,
    Status,
    Ticker,
    Trade,
)
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.harness import (
    Context,
    new_client_id,
    placeholder_args,
    wrong_secret,
)


def ok(problems: list[str]) -> None:
    """Fail listing every problem found."""
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def check_type(value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        pytest.fail(f"{what} returned {type(value).__name__}, expected {kind.__name__}")


def test_simulator_registered(xest_harness):
    assert xest_harness.sim_factory is not None, (
        f"{xest_harness.name} registers no simulator: implement the xest_simulators hook; "
        "the contract and fault checks run against it"
    )


def test_registered_cases_are_valid(xest_harness):
    problems = xest_harness.problems
    assert not problems, "\n".join(problems)


def test_undeclared_operations_raise_not_supported(xest_ctx: Context):
    undeclared = [op for op in OPERATIONS if not xest_ctx.h.declares(op)]
    for op in undeclared:
        try:
            xest_ctx.require(op)  # checks NotSupported, then skips
        except pytest.skip.Exception:
            continue
    if undeclared:
        return
    # Everything is declared: check the guard on the connector's own class instead, with each
    # operation taken away in turn (a connector overriding the guard would break it).
    cls = type(xest_ctx.connector)
    mark = xest_ctx.proxy.mark()
    for op in OPERATIONS:
        narrowed = type(
            f"{cls.__name__}Without_{op}", (cls,), {"capabilities": cls.capabilities - {op}}
        )
        connector = narrowed(xest_ctx.connector.transport, xest_ctx.connector.credentials)
        args, kwargs = placeholder_args(op)
        with pytest.raises(errors.NotSupported):
            getattr(connector, op)(*args, **kwargs)
    sent = xest_ctx.proxy.requests_since(mark)
    assert not sent, f"undeclared operations sent {sent} before raising NotSupported"


def test_status(xest_ctx: Context):
    xest_ctx.require("status")
    status = xest_ctx.call("status")
    check_type(status, ExchangeStatus, "status()")
    assert isinstance(status.status, Status)
    ok(inv.value_problems(status, "status()"))


def test_server_time_follows_the_simulator_clock(xest_harness, xest_env):
    # A simulator whose clock runs 42.5 s ahead proves the time is read, not assumed.
    offset = 42.5
    sim = xest_harness.start_sim(clock_offset=offset)
    ctx = None
    try:
        ctx = Context(xest_harness, sim)
        ctx.require("server_time")
        sent = time.time()
        reading = ctx.call("server_time")
        received = time.time()
        check_type(reading, ServerTime, "server_time()")
        ok(inv.value_problems(reading, "server_time()"))
        resolution = reading.resolution.total_seconds()
        assert resolution > 0, "ServerTime.resolution must be positive"
        got = reading.time.timestamp()
        assert sent + offset - resolution - 0.05 <= got <= received + offset + 0.05, (
            f"server_time() = {reading.time.isoformat()} but the simulator's clock read "
            f"{datetime.fromtimestamp(sent + offset, UTC).isoformat()} (+{offset} s from "
            "ours): the connector must return the exchange's clock"
            + (" (a timestamp read in the wrong unit?)" if abs(got - sent - offset) > 86400 else "")
        )
    finally:
        if ctx is not None:
            ctx.close()
        sim.stop()


def test_markets(xest_ctx: Context):
    xest_ctx.require("markets")
    markets = xest_ctx.call("markets")
    check_type(markets, list, "markets()")
    assert markets, "markets() returned no market"
    for m in markets:
        check_type(m, Market, "markets() item")
    ok(inv.value_problems(markets, "markets()"))
    symbols = [m.symbol for m in markets]
    assert len(set(symbols)) == len(symbols), "markets() lists a symbol twice"
    for m in markets:
        assert m.symbol == f"{m.base}/{m.quote}", f"{m.symbol}: symbol must be base/quote"
        assert m.id, f"{m.symbol}: the exchange's own id is missing"
        assert xest_ctx.connector.market(m.symbol) == m
        assert xest_ctx.connector.market(m.id).symbol == m.symbol
    with pytest.raises(errors.BadSymbol):
        xest_ctx.connector.market("NOPE/NOPE")


def test_ticker(xest_ctx: Context):
    xest_ctx.require("ticker")
    ticker = xest_ctx.call("ticker", xest_ctx.symbol)
    check_type(ticker, Ticker, "ticker()")
    assert ticker.symbol == xest_ctx.symbol
    ok(inv.value_problems(ticker, "ticker()") + inv.ticker_problems(ticker))
    with pytest.raises(errors.BadSymbol):
        xest_ctx.call("ticker", "NOPE/NOPE")


def test_tickers(xest_ctx: Context):
    xest_ctx.require("tickers")
    tickers = xest_ctx.call("tickers")
    check_type(tickers, dict, "tickers()")
    assert tickers, "tickers() returned nothing"
    problems = inv.value_problems(tickers, "tickers()")
    for key, t in tickers.items():
        check_type(t, Ticker, "tickers() value")
        if key != t.symbol:
            problems.append(f"tickers() key {key!r} holds the ticker of {t.symbol!r}")
        problems += inv.ticker_problems(t)
    if xest_ctx.h.declares("markets"):
        known = {m.symbol for m in xest_ctx.call("markets")}
        problems += inv.symbol_problems(tickers.values(), known)
    ok(problems)
    some = xest_ctx.call("tickers", [xest_ctx.symbol])
    assert set(some) == {xest_ctx.symbol}, f"tickers([{xest_ctx.symbol!r}]) returned {set(some)}"


def test_order_book(xest_ctx: Context):
    xest_ctx.require("order_book")
    book = xest_ctx.call("order_book", xest_ctx.symbol)
    check_type(book, OrderBook, "order_book()")
    assert book.symbol == xest_ctx.symbol
    assert book.bids and book.asks, "the simulator's book should have both sides"
    ok(inv.value_problems(book, "order_book()") + inv.book_problems(book))
    small = xest_ctx.call("order_book", xest_ctx.symbol, 5)
    ok(inv.book_problems(small, depth=5))


def test_candles(xest_ctx: Context):
    xest_ctx.require("candles")
    interval = xest_ctx.h.options.get("candle_interval", "1m")
    candles = xest_ctx.call("candles", xest_ctx.symbol, interval, limit=10)
    check_type(candles, list, "candles()")
    assert candles, "candles() returned none"
    for c in candles:
        check_type(c, Candle, "candles() item")
    ok(
        inv.value_problems(candles, "candles()")
        + inv.candle_problems(candles, interval, 10)
        + inv.symbol_problems(candles, {xest_ctx.symbol})
    )


def test_trades(xest_ctx: Context):
    xest_ctx.require("trades")
    trades = xest_ctx.call("trades", xest_ctx.symbol)
    check_type(trades, list, "trades()")
    for t in trades:
        check_type(t, PublicTrade, "trades() item")
    ok(
        inv.value_problems(trades, "trades()")
        + inv.trade_problems(trades)
        + inv.symbol_problems(trades, {xest_ctx.symbol})
    )


def test_balances(xest_ctx: Context):
    xest_ctx.require("balances")
    balances = xest_ctx.call("balances")
    check_type(balances, dict, "balances()")
    assert balances, "the simulator's demo account should hold something"
    for b in balances.values():
        check_type(b, Balance, "balances() value")
    ok(inv.value_problems(balances, "balances()") + inv.balance_problems(balances))


def test_private_call_with_a_wrong_secret_is_an_authentication_error(xest_ctx: Context):
    private = [op for op in ("balances", "open_orders") if xest_ctx.h.declares(op)]
    if not private:
        pytest.skip("declares neither balances nor open_orders")
    client = xest_ctx.open(secret=wrong_secret(xest_ctx.secret))
    try:
        xest_ctx.call(private[0], client=client)
    except errors.AuthenticationError:
        return
    pytest.fail(
        f"{private[0]}() signed with a wrong secret returned: the simulator does not verify "
        "signatures (or the connector does not sign), so a signing bug would pass unseen",
        pytrace=False,
    )


def test_place_find_cancel_order(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("place_order")
    amount, price = ctx.resting_buy()
    client_id = new_client_id()
    placed = ctx.call("place_order", ctx.symbol, "buy", "limit", amount, price, client_id=client_id)
    check_type(placed, Order, "place_order()")
    ok(inv.value_problems(placed, "place_order()") + inv.order_problems(placed))
    assert placed.symbol == ctx.symbol and placed.side == "buy" and placed.type == "limit"
    assert placed.amount == amount, f"placed {amount}, order says {placed.amount}"
    if placed.price is not None:
        assert placed.price == price, f"placed at {price}, order says {placed.price}"
    assert placed.status in (OrderStatus.PENDING, OrderStatus.OPEN), (
        f"a limit buy 20% under the market should rest, got {placed.status}"
    )
    assert placed.client_id in (None, client_id), f"client id {placed.client_id!r} != {client_id!r}"

    if ctx.h.declares("order"):
        found = ctx.call("order", placed.id, symbol=ctx.symbol)
        assert found.id == placed.id and not found.is_final
        by_client = ctx.call("order", client_id=client_id, symbol=ctx.symbol)
        assert by_client.id == placed.id, "order(client_id=...) must find the order placed"
    if ctx.h.declares("open_orders"):
        every = ctx.call("open_orders")
        assert placed.id in {o.id for o in every}, "open_orders() does not list the order placed"
        mine = ctx.call("open_orders", ctx.symbol)
        ok(
            inv.value_problems(every, "open_orders()")
            + [
                f"open_orders({ctx.symbol!r}) lists {o.symbol}"
                for o in mine
                if o.symbol != ctx.symbol
            ]
            + [f"open_orders() lists {o.id}, {o.status}" for o in every if o.is_final]
            + inv.symbol_problems(every, ctx.known_symbols())
        )

    if not ctx.h.declares("cancel_order"):
        pytest.skip("cancel_order is not declared: the order stays open")
    cancelled = ctx.call("cancel_order", placed.id, symbol=ctx.symbol)
    check_type(cancelled, Order, "cancel_order()")
    assert cancelled.id == placed.id
    if ctx.h.declares("order"):
        final = ctx.call("order", placed.id, symbol=ctx.symbol)
        assert final.status == OrderStatus.CANCELLED, f"after cancel: {final.status}"
    if ctx.h.declares("open_orders"):
        assert placed.id not in {o.id for o in ctx.call("open_orders")}
    with pytest.raises(errors.InvalidOrder):  # cancelling a final order is a clear error
        ctx.call("cancel_order", placed.id, symbol=ctx.symbol)


def test_validate_only_places_nothing(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("place_order")
    if not ctx.h.declares("open_orders"):
        pytest.skip("open_orders is not declared: cannot see what validate=True placed")
    amount, price = ctx.resting_buy()
    before = {o.id for o in ctx.call("open_orders")}
    try:
        ctx.call(
            "place_order",
            ctx.symbol,
            "buy",
            "limit",
            amount,
            price,
            client_id=new_client_id(),
            validate=True,
        )
    except errors.NotSupported:
        pytest.skip(f"{ctx.name} cannot validate an order without placing it (NotSupported)")
    after = {o.id for o in ctx.call("open_orders")}
    assert after <= before, f"place_order(validate=True) placed {sorted(after - before)}"


def test_unknown_order_is_order_not_found(xest_ctx: Context):
    ops = [op for op in ("order", "cancel_order") if xest_ctx.h.declares(op)]
    if not ops:
        xest_ctx.require("order")
    xest_ctx.symbol  # noqa: B018 -- markets loaded before the lookups
    for op in ops:
        with pytest.raises(errors.OrderNotFound):
            xest_ctx.call(op, "999999999", symbol=xest_ctx.symbol)


def test_order_history(xest_ctx: Context):
    ctx = xest_ctx
    if not (ctx.h.declares("closed_orders") or ctx.h.declares("my_trades")):
        ctx.require("closed_orders")
    for op in ("closed_orders", "my_trades"):
        if ctx.h.declares(op):
            result = ctx.call(op)
            check_type(result, list, f"{op}()")
            kind = Order if op == "closed_orders" else Trade
            for item in result:
                check_type(item, kind, f"{op}() item")
            ok(
                inv.value_problems(result, f"{op}()")
                + inv.symbol_problems(result, ctx.known_symbols())
            )
            if op == "closed_orders":
                ok([f"closed_orders() lists {o.id}, {o.status}" for o in result if not o.is_final])


def test_quote_accepted_once(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("quote")
    symbol, side, amount = ctx.quote_args()
    quote = ctx.call("quote", symbol, side, amount)
    check_type(quote, Quote, "quote()")
    ok(inv.value_problems(quote, "quote()") + inv.quote_problems(quote, _sim_now(ctx)))
    assert quote.symbol == symbol and quote.side == side
    if not ctx.h.declares("accept_quote"):
        ctx.require("accept_quote")
    order = ctx.call("accept_quote", quote)
    check_type(order, Order, "accept_quote()")
    ok(inv.value_problems(order, "accept_quote()") + inv.order_problems(order))
    with pytest.raises(errors.InvalidQuote):
        ctx.call("accept_quote", quote)


def test_quote_expires(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("quote")
    if not ctx.h.declares("accept_quote"):
        ctx.require("accept_quote")
    symbol, side, amount = ctx.quote_args()
    quote = ctx.call("quote", symbol, side, amount, valid_for=timedelta(seconds=1))
    left = quote.seconds_left(_sim_now(ctx))
    # The connector's idea of the server's time is only as fine as the exchange's clock.
    slack = ctx.h.cls.time_resolution.total_seconds() + 0.2
    if left + slack <= 3:
        time.sleep(max(left, 0) + slack)
        client = ctx.client
    elif hasattr(ctx.sim, "clock_offset"):
        # A long-lived quote: move the simulator's clock past its expiry instead of waiting,
        # and use a fresh client whose clock estimate starts from the moved clock.
        jump = left + slack + 1
        ctx.sim.clock_offset += jump
        try:
            client = ctx.open()
            if ctx.h.declares("server_time"):
                client.server_time()
            with pytest.raises(errors.QuoteExpired):
                ctx.call("accept_quote", quote, client=client)
        finally:
            ctx.sim.clock_offset -= jump
        return
    else:
        pytest.skip(f"the quote lives {left:.0f} s and the simulator's clock cannot be moved")
    with pytest.raises(errors.QuoteExpired):
        ctx.call("accept_quote", quote, client=client)


def _sim_now(ctx: Context) -> datetime:
    now = ctx.sim.now() if hasattr(ctx.sim, "now") else time.time()
    return datetime.fromtimestamp(now, UTC)
