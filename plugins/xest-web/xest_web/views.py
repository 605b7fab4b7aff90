"""What each page shows, as JSON-able dicts read from the agents' state (never from an exchange).

Numbers travel as strings (Decimals keep their digits); times as UNIX seconds, so the page can
tell ages and tick clocks against the hub's clock. Nothing here reads a credential: an account
is shown by its name only.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from xest_web.hub import AccountEntry, ExchangeEntry, Hub

VIEWS = ("exchanges", "account", "quotes", "orders", "market")
_HISTORY = 12  # status changes shown per exchange


def num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return "0" if value == 0 else f"{value.normalize():f}"


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def clock(exchange: ExchangeEntry) -> dict[str, Any]:
    """The exchange's clock as the agent estimates it: offset from ours and the error bound.

    The page ticks it: server time = the hub's time (extrapolated) + offset.
    """
    estimate = exchange.agent.now()
    error = estimate.error
    return {
        "offset": round(estimate.offset, 4),
        "error": round(error, 4) if math.isfinite(error) else None,
        "resolution": exchange.client.clock.resolution,
    }


def exchanges_view(hub: Hub) -> dict[str, Any]:
    rows = []
    for entry in hub.exchanges.values():
        state = entry.agent.state()
        history = [
            {"at": ts(e.at), "old": str(e.old), "new": str(e.new)}
            for e in entry.agent.events("status")[-_HISTORY:]
        ]
        rows.append(
            {
                "name": entry.name,
                "status": str(state.status),
                "message": state.reported.message if state.reported else "",
                "since": ts(state.since),
                "checked": ts(state.checked),
                "stale": state.stale,
                "missed": state.missed,
                "last_error": state.last_error,
                "clock": clock(entry),
                "history": list(reversed(history)),
                "simulated": entry.simulator is not None,
                "accounts": [a.name for a in hub.accounts.values() if a.exchange is entry],
            }
        )
    return {"exchanges": rows, "problems": list(hub.problems)}


def order_row(order: Any) -> dict[str, Any]:
    snapshot = order.snapshot
    return {
        "id": snapshot.id,
        "symbol": snapshot.symbol,
        "side": str(snapshot.side),
        "type": str(snapshot.type),
        "status": str(snapshot.status),
        "amount": num(snapshot.amount),
        "filled": num(snapshot.filled),
        "price": num(snapshot.price),
        "average_price": num(snapshot.average_price),
        "created": ts(snapshot.created),
        "final": snapshot.is_final,
        "lost": bool(getattr(order, "lost", False)),
        "path": [str(o.status) for o in order.history],
    }


def account_view(hub: Hub, entry: AccountEntry) -> dict[str, Any]:
    agent = entry.agent
    balances = agent.balances
    rows = []
    for asset, b in sorted((balances or {}).items()):
        if b.free == 0 and b.locked == 0:
            continue
        rows.append(
            {"asset": asset, "free": num(b.free), "locked": num(b.locked), "total": num(b.total)}
        )
    stale = "balances" in agent.tasks and agent.is_stale("balances")
    with entry.lock:
        fills = list(entry.fills)
        fills_at = entry.fills_at
    return {
        "account": entry.key,
        "exchange": entry.exchange.name,
        "name": entry.name,
        "balances": rows,
        "balances_at": ts(agent.balances_at),
        "balances_stale": stale,
        "balances_known": balances is not None,
        "open_orders": [order_row(o) for o in agent.open_orders],
        "fills": [
            {
                "id": t.id,
                "order_id": t.order_id,
                "symbol": t.symbol,
                "side": str(t.side),
                "price": num(t.price),
                "amount": num(t.amount),
                "fee": num(t.fee),
                "fee_asset": t.fee_asset,
                "at": ts(t.timestamp),
            }
            for t in fills
        ],
        "fills_at": fills_at,
        "fills_supported": "fills" in agent.tasks,
        "clock": clock(entry.exchange),
    }


def quote_row(quote: Any) -> dict[str, Any]:
    order = quote.order
    snapshot = quote.snapshot
    return {
        "id": quote.id,
        "symbol": snapshot.symbol,
        "side": str(snapshot.side),
        "amount": num(snapshot.amount),
        "price": num(snapshot.price),
        "cost": num(snapshot.cost),
        "expires_at": ts(snapshot.expires_at),
        "state": str(quote.state),
        "error": str(quote.error) if quote.error is not None else None,
        "order": order_row(order) if order is not None else None,
    }


def quotes_view(hub: Hub, entry: AccountEntry) -> dict[str, Any]:
    with entry.lock:
        quotes = list(entry.quotes.values())
    return {
        "account": entry.key,
        "quotes": [quote_row(q) for q in reversed(quotes)],
        "clock": clock(entry.exchange),
    }


def orders_view(hub: Hub, entry: AccountEntry) -> dict[str, Any]:
    return {
        "account": entry.key,
        "orders": [order_row(o) for o in entry.all_orders()],
        "clock": clock(entry.exchange),
    }


def market_view(hub: Hub, exchange: ExchangeEntry, symbol: str) -> dict[str, Any]:
    found = hub.watches.peek(exchange.name, symbol)
    ticker = None if found is None else found.sourced("ticker")
    book = None if found is None else found.sourced("book")
    t = None if ticker is None else ticker.value
    b = None if book is None else book.value
    latest = [s.at for s in (ticker, book) if s is not None]
    return {
        "exchange": exchange.name,
        "symbol": symbol,
        "ticker": None
        if t is None
        else {
            "bid": num(t.bid),
            "ask": num(t.ask),
            "last": num(t.last),
            "high": num(t.high),
            "low": num(t.low),
            "volume": num(t.volume),
        },
        "book": None
        if b is None
        else {
            "bids": [[num(lv.price), num(lv.amount)] for lv in b.bids],
            "asks": [[num(lv.price), num(lv.amount)] for lv in b.asks],
        },
        "source": None if book is None else book.source,
        "at": ts(max(latest)) if latest else None,
        "clock": clock(exchange),
    }
