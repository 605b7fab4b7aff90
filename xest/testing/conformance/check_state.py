"""Invariants against the simulator's own state, independent of the author's cases.

The simulator's inspection API (:mod:`xest.testing.state`) says what it holds; these checks
compare the connector's answers with it: market data of the pair asked, timestamps on the
simulator's clock, balances (free, locked and total apart), orders as placed and as filled,
and private reads that follow every change. ``check_signing`` proves the simulator honest.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

from xest import errors
from xest.models import Balance, Order, OrderStatus
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.harness import (
    Context,
    foundation,
    new_client_id,
)
from xest.testing.conformance.inspection import (
    fail,
    inspect,
    market_key,
    sim_now,
    sound,
)

MINUTE = timedelta(minutes=1)
PLACEMENT = "test_placement_reaches_the_simulator_as_asked"
# How far a public trade may sit from the pair's mid and still be that pair's.
TRADE_BAND = Decimal("0.05")


# -- market data ---------------------------------------------------------------------------------


def _symbols(ctx: Context, prices: dict[str, Any]) -> list[str]:
    """The market under test and one more (calls are few: exchanges' limiters are strict)."""
    symbols = [ctx.symbol]
    if ctx.h.declares("markets"):
        seen = {ctx.symbol}
        for m in ctx.call("markets"):
            listed = any(k in prices for k in (m.id, *m.ids.values()))
            if m.active and listed and m.symbol not in seen and len(symbols) < 2:
                symbols.append(m.symbol)
                seen.add(m.symbol)
    return symbols


def _whose(prices: dict[str, Any], bid: Decimal | None, ask: Decimal | None) -> str:
    for key, p in prices.items():
        if p.bid == bid and p.ask == ask:
            return f" (they are {key}'s: data of the wrong pair served)"
    return ""


def test_market_data_is_the_pair_asked_on_the_simulator_clock(xest_ctx: Context):
    ctx = xest_ctx
    ops = [op for op in ("ticker", "order_book", "trades") if ctx.h.declares(op)]
    if not ops:
        ctx.require("ticker")
    prices = inspect(ctx, "inspect_prices")
    problems: list[str] = []
    for symbol in _symbols(ctx, prices):
        key = market_key(ctx, symbol, prices)
        want = prices[key]
        now = sim_now(ctx)
        if "ticker" in ops:
            t = sound(ctx.call("ticker", symbol), "ticker()")
            if t.symbol != symbol:
                problems.append(f"ticker({symbol!r}) is labelled {t.symbol!r}")
            if (t.bid, t.ask) != (want.bid, want.ask) and (t.bid, t.ask) != (None, None):
                problems.append(
                    f"ticker({symbol!r}) bid {t.bid} / ask {t.ask} are not the simulator's "
                    f"{key} prices (bid {want.bid}, ask {want.ask}){_whose(prices, t.bid, t.ask)}"
                )
            problems += inv.time_problems(t, "ticker()", now, MINUTE, "the simulator's clock")
        if "order_book" in ops:
            b = sound(ctx.call("order_book", symbol), "order_book()")
            problems += inv.book_problems(b)
            bid = b.bids[0].price if b.bids else None
            ask = b.asks[0].price if b.asks else None
            if b.symbol != symbol:
                problems.append(f"order_book({symbol!r}) is labelled {b.symbol!r}")
            if (bid, ask) != (want.bid, want.ask):
                problems.append(
                    f"order_book({symbol!r}) best bid {bid} / ask {ask} are not the simulator's "
                    f"{key} book (bid {want.bid}, ask {want.ask}){_whose(prices, bid, ask)}"
                )
            problems += inv.time_problems(b, "order_book()", now, MINUTE, "the simulator's clock")
        if "trades" in ops and symbol == ctx.symbol:
            trades = sound(ctx.call("trades", symbol), "trades()")
            far = [t for t in trades if abs(t.price - want.mid) > want.mid * TRADE_BAND]
            if far:
                problems.append(
                    f"trades({symbol!r}) has prices like {far[0].price}, far from the "
                    f"simulator's {key} mid {want.mid}: data of the wrong pair served"
                )
            problems += [
                f"trades({symbol!r}) holds a trade of {t.symbol}"
                for t in trades[:1]
                if t.symbol != symbol
            ]
            latest = max((t.timestamp for t in trades if t.timestamp), default=None)
            if latest is not None:
                problems += inv.time_problems(
                    latest, "trades() latest timestamp", now, MINUTE, "the simulator's clock"
                )
    if ctx.h.declares("candles"):
        interval = ctx.h.options.get("candle_interval", "1m")
        candles = sound(ctx.call("candles", ctx.symbol, interval, limit=3), "candles()")
        if candles:
            span = _interval(interval) + MINUTE
            problems += inv.time_problems(
                candles[-1].open_time,
                "the latest Candle.open_time",
                sim_now(ctx),
                span,
                f"the simulator's clock (within {interval} and a minute)",
            )
    fail(problems)


def _interval(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2678400}
    number, unit = text[:-1], text[-1:]
    return (
        timedelta(seconds=int(number or 1) * units.get(unit, 86400))
        if number.isdigit()
        else timedelta(days=31)
    )


# -- balances and orders -------------------------------------------------------------------------


def _by_code(balances: dict[str, Balance], sim: dict[str, Any]) -> dict[str, Balance]:
    """The connector's balances keyed by the simulator's asset codes."""
    out = {}
    for key, b in balances.items():
        for code in (b.id, b.asset, key):
            if code in sim:
                out[code] = b
                break
    return out


def balance_problems(
    ctx: Context, where: str, before: tuple[dict, dict] | None = None
) -> tuple[list[str], dict[str, Balance], dict]:
    sim = inspect(ctx, "inspect_balances")
    got = sound(ctx.call("balances"), "balances()")
    mine = _by_code(got, sim)
    problems = []
    if before is not None and mine == before[0] and sim != before[1]:
        return (
            [
                f"{where}: balances() is stale: the simulator's balances changed, balances() "
                "returned the same as before: a private read must never be cached or memoised"
            ],
            mine,
            sim,
        )
    for code, s in sim.items():
        b = mine.get(code)
        if b is None:
            if s.total:
                problems.append(f"{where}: balances() has no {code}, the simulator holds {s.total}")
            continue
        if (b.free, b.locked, b.total) != (s.free, s.locked, s.total):
            hint = ""
            if b.free == s.total and s.locked:
                hint = ": locked funds counted as free"
            elif b.locked == s.total and s.free:
                hint = ": free funds counted as locked"
            elif b.total != s.total:
                hint = ": the total is wrong"
            problems.append(
                f"{where}: balances()[{b.asset!r}] free {b.free}, locked {b.locked}, total "
                f"{b.total}; the simulator holds free {s.free}, locked {s.locked}, total "
                f"{s.total}{hint}"
            )
    return problems, mine, sim


def test_balances_match_the_simulator(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("balances")
    problems, mine, sim = balance_problems(ctx, "at rest")
    if ctx.h.declares("place_order"):
        amount, price = ctx.resting_buy()
        order = ctx.call("place_order", ctx.symbol, "buy", "limit", amount, price)
        try:
            found, _, _ = balance_problems(ctx, "with a resting buy", (mine, sim))
            problems += found
        finally:
            if ctx.h.declares("cancel_order"):
                ctx.call("cancel_order", order.id, symbol=ctx.symbol)
    fail(problems)


def test_private_reads_are_never_stale(xest_ctx: Context):
    """Two reads around a change the simulator makes: the second must show it."""
    ctx = xest_ctx
    ctx.require("balances")
    before = sound(ctx.call("balances"), "balances()")
    sim = inspect(ctx, "inspect_balances")
    mine = _by_code(before, sim)
    if not mine:
        pytest.fail(f"{ctx.name}: balances() matches none of the simulator's assets {sorted(sim)}")
    code = sorted(mine)[0]
    amount = Decimal("1.5")
    inspect(ctx, "credit", code, amount)
    after = _by_code(ctx.call("balances"), inspect(ctx, "inspect_balances"))
    old, new = mine[code], after.get(code)
    if new is None or new.free != old.free + amount:
        pytest.fail(
            f"balances() is stale: after the simulator credited {amount} {code} (free "
            f"{old.free} -> {old.free + amount}), balances() says free "
            f"{new.free if new else 'nothing'}: a private read must never be cached or memoised",
            pytrace=False,
        )


def _sim_order(ctx: Context, placed: Order, before: set[str]) -> Any:
    orders = inspect(ctx, "inspect_orders")
    for o in orders:
        if o.id == placed.id:
            return o
    new = [o for o in orders if o.id not in before]
    if new:
        return new[-1]
    pytest.fail(
        f"place_order() returned order {placed.id!r} but the simulator holds no new order",
        pytrace=False,
    )


def test_placement_reaches_the_simulator_as_asked(xest_ctx: Context):
    """What place_order sent is what was asked: pair, side, amount, price, client order id."""
    ctx = xest_ctx
    ctx.require("place_order")
    with foundation(ctx.h, PLACEMENT):
        amount, price = ctx.resting_buy()
        client_id = new_client_id()
        before = {o.id for o in inspect(ctx, "inspect_orders")}
        key = market_key(ctx, ctx.symbol, inspect(ctx, "inspect_prices"))
        sent_from = len(ctx.proxy.requests)
        try:
            placed = ctx.call(
                "place_order", ctx.symbol, "buy", "limit", amount, price, client_id=client_id
            )
        except errors.XestError as exc:
            wrong = _wrong_pair_sent(ctx, list(ctx.proxy.requests)[sent_from:], key)
            pytest.fail(
                wrong or f"place_order() of a resting limit buy raised {type(exc).__name__}: {exc}",
                pytrace=False,
            )
        sound(placed, "place_order()")
        held = _sim_order(ctx, placed, before)
        m = ctx.call("market", ctx.symbol)
        problems = []
        if held.side != "buy":
            problems.append(f"place_order() sent side={held.side}, expected side=buy")
        if held.market not in (m.id, *m.ids.values(), key):
            problems.append(f"place_order({ctx.symbol!r}) sent pair {held.market}, expected {key}")
        if held.amount != amount:
            problems.append(f"place_order() sent amount {held.amount}, expected {amount}")
        if held.price is not None and held.price != price:
            problems.append(f"place_order() sent price {held.price}, expected {price}")
        if held.client_id != client_id:
            problems.append(
                f"place_order(client_id={client_id!r}) reached the simulator with client order "
                f"id {held.client_id!r}: without it a lost answer cannot be reconciled"
            )
        if placed.id != held.id:
            problems.append(
                f"place_order() returned id {placed.id!r}, the simulator's is {held.id!r}"
            )
        if placed.amount != held.amount:
            problems.append(
                f"place_order() returned amount {placed.amount}, the simulator's is {held.amount}"
            )
        try:
            fail(problems)
        finally:
            if ctx.h.declares("cancel_order") and held.status == "open":
                ctx.call("cancel_order", held.id, symbol=ctx.symbol)


def _wrong_pair_sent(ctx: Context, sent: list[Any], key: str) -> str | None:
    """When a placement failed: did its request name another market than the one asked?"""
    from xest.testing.conformance.requests import sent_params

    writes = [r for r in sent if r.method != "GET"] or sent
    if not writes:
        return None
    r = writes[-1]
    words = {v.lower() for v in sent_params(r).values()} | set(r.path.lower().split("/"))
    m = ctx.call("market", ctx.symbol)
    ours = {str(i).lower() for i in (m.id, *m.ids.values(), key)}
    others = [k for k in inspect(ctx, "inspect_prices") if k.lower() in words]
    if others and not ours & words:
        return f"place_order({ctx.symbol!r}) sent pair {others[0]}, expected {key}"
    return None


def _read_order(ctx: Context, order_id: str) -> Order:
    if ctx.h.declares("order"):
        return ctx.call("order", order_id, symbol=ctx.symbol)
    for o in ctx.call("open_orders"):
        if o.id == order_id:
            return o
    pytest.fail(f"open_orders() does not list order {order_id}, which the simulator holds open")


def test_a_fill_shows_in_the_order_and_the_balances(xest_ctx: Context):
    """The simulator fills part of a resting order between two reads: amount, filled and
    remaining match the simulator's, and balances move by the fill (free, locked and total)."""
    ctx = xest_ctx
    ctx.require("place_order")
    if not (ctx.h.declares("order") or ctx.h.declares("open_orders")):
        ctx.require("order")
    amount, price = ctx.resting_buy()
    m = ctx.call("market", ctx.symbol)
    step = m.amount_step or Decimal("0.00000001")
    amount = max(amount, 2 * (m.min_amount or step))
    part = ((amount / 2) / step).to_integral_value(ROUND_DOWN) * step
    placed = ctx.call("place_order", ctx.symbol, "buy", "limit", amount, price)
    has_balances = ctx.h.declares("balances")
    problems: list[str] = []
    try:
        o0 = sound(_read_order(ctx, placed.id), "order()")
        b0 = (
            _by_code(ctx.call("balances"), inspect(ctx, "inspect_balances")) if has_balances else {}
        )
        s0 = inspect(ctx, "inspect_balances") if has_balances else {}
        inspect(ctx, "fill_order", placed.id, part)
        o1 = _read_order(ctx, placed.id)
        held = inspect(ctx, "inspect_order", placed.id)
        if o1.filled == o0.filled and held.filled != o0.filled:
            problems.append(
                f"order() is stale: after the simulator filled {part} of order {placed.id}, it "
                f"still says filled {o1.filled}: a private read must never be cached"
            )
        if o1.amount != held.amount:
            hint = (
                ": the remaining amount reported as the amount"
                if o1.amount == held.remaining
                else ""
            )
            problems.append(
                f"order {placed.id}: amount {o1.amount}, the simulator's is {held.amount} "
                f"({held.filled} filled, {held.remaining} remaining){hint}"
            )
        if o1.filled != held.filled:
            problems.append(
                f"order {placed.id}: filled {o1.filled}, the simulator's is {held.filled}"
            )
        if o1.amount - o1.filled != held.remaining:
            problems.append(
                f"order {placed.id}: amount - filled = {o1.amount - o1.filled}, the simulator "
                f"has {held.remaining} remaining"
            )
        if o1.status != OrderStatus.PARTIALLY_FILLED:
            problems.append(f"order {placed.id}: status {o1.status} after a partial fill")
        if has_balances:
            s1 = inspect(ctx, "inspect_balances")
            b1 = _by_code(ctx.call("balances"), s1)
            for code in sorted(set(s0) | set(s1)):
                for part_name in ("free", "locked", "total"):
                    want = _amount(s1.get(code), part_name) - _amount(s0.get(code), part_name)
                    got = _amount(b1.get(code), part_name) - _amount(b0.get(code), part_name)
                    if want != got:
                        locked = _amount(s1.get(code), "locked") - _amount(s0.get(code), "locked")
                        hint = (
                            ": balances() is stale"
                            if b1 == b0
                            else ": locked funds counted as free"
                            if part_name == "free" and got == want + locked
                            else ""
                        )
                        problems.append(
                            f"after a fill of {part} {ctx.symbol}, balances() {code} {part_name} "
                            f"moved by {got}, the simulator's by {want}{hint}"
                        )
    finally:
        if ctx.h.declares("cancel_order"):
            ctx.call("cancel_order", placed.id, symbol=ctx.symbol)
    fail(problems)


def _amount(b: Any, part: str) -> Decimal:
    return Decimal(0) if b is None else getattr(b, part)


def test_order_timestamps_follow_the_simulator_clock(xest_ctx: Context):
    ctx = xest_ctx
    ctx.require("place_order")
    amount, price = ctx.resting_buy()
    placed = ctx.call("place_order", ctx.symbol, "buy", "limit", amount, price)
    try:
        now = sim_now(ctx)
        problems = inv.time_problems(placed, "place_order()", now, MINUTE, "the simulator's clock")
        if ctx.h.declares("order"):
            found = ctx.call("order", placed.id, symbol=ctx.symbol)
            problems += inv.time_problems(found, "order()", now, MINUTE, "the simulator's clock")
    finally:
        if ctx.h.declares("cancel_order"):
            ctx.call("cancel_order", placed.id, symbol=ctx.symbol)
    fail(problems)


def test_server_time_and_quotes_follow_the_simulator_clock(xest_ctx: Context):
    ctx = xest_ctx
    problems = []
    if ctx.h.declares("server_time"):
        reading = ctx.call("server_time")
        problems += inv.time_problems(
            reading, "server_time()", sim_now(ctx), MINUTE, "the simulator's clock"
        )
    if ctx.h.declares("quote"):
        symbol, side, amount = ctx.quote_args()
        q = ctx.call("quote", symbol, side, amount)
        now = sim_now(ctx)
        if q.created_at is not None:
            problems += inv.time_problems(
                q.created_at, "Quote.created_at", now, MINUTE, "the simulator's clock"
            )
        problems += inv.time_problems(
            q.expires_at, "Quote.expires_at", now, timedelta(hours=1), "the simulator's clock"
        )
    if not (ctx.h.declares("server_time") or ctx.h.declares("quote")):
        ctx.require("server_time")
    fail(problems)
