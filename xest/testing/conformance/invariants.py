"""The invariants every model a connector returns must hold, as readable problem lists.

Each function returns the problems it found (empty when all is well) so a failing check can
name every defect at once: a float where money goes, a naive datetime, an unsorted book.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from xest.models import Balance, Candle, Order, OrderBook, PublicTrade, Quote, Ticker, Trade

# More decimals than any exchange uses (ETH wei has 18): the value went through a float.
MAX_DECIMALS = 18


def value_problems(value: Any, where: str = "result") -> list[str]:
    """Floats, float-born Decimals and naive or non-UTC datetimes anywhere inside ``value``."""
    found: list[str] = []
    _walk(value, where, found, depth=0)
    return found


def _walk(value: Any, where: str, found: list[str], depth: int) -> None:
    if depth > 8:
        return
    if isinstance(value, bool | enum.Enum | str | int | timedelta) or value is None:
        return
    if isinstance(value, float):
        found.append(f"{where} is the float {value!r}: money and amounts must be Decimal")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            found.append(f"{where} is {value}, not a finite Decimal")
        elif value.as_tuple().exponent < -MAX_DECIMALS:  # type: ignore[operator]
            found.append(
                f"{where} = {value} has {-value.as_tuple().exponent} decimals: it went through "  # type: ignore[operator]
                "a float; build Decimals from the exchange's strings"
            )
    elif isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            found.append(f"{where} is a naive datetime ({value!r}): datetimes must be aware UTC")
        elif offset:
            found.append(f"{where} is not in UTC ({value.isoformat()})")
    elif attrs.has(type(value)):
        name = type(value).__name__
        if "raw" in attrs.fields_dict(type(value)) and value.raw is None:
            found.append(f"{where} ({name}) does not keep the raw payload it was parsed from")
        for field in attrs.fields(type(value)):
            if field.name != "raw":
                _walk(getattr(value, field.name), f"{name}.{field.name}", found, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(item, f"{where}[{key!r}]", found, depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _walk(item, f"{where}[{i}]", found, depth + 1)


def book_problems(book: OrderBook, depth: int | None = None) -> list[str]:
    found = []
    bids = [level.price for level in book.bids]
    asks = [level.price for level in book.asks]
    if any(a <= b for a, b in itertools.pairwise(bids)):
        found.append(f"{book.symbol} book: bids not sorted best (highest) first: {bids[:6]}")
    if any(a >= b for a, b in itertools.pairwise(asks)):
        found.append(f"{book.symbol} book: asks not sorted best (lowest) first: {asks[:6]}")
    if bids and asks and max(bids) >= min(asks):
        found.append(f"{book.symbol} book is crossed: bid {max(bids)} >= ask {min(asks)}")
    if any(level.amount <= 0 for level in (*book.bids, *book.asks)):
        found.append(f"{book.symbol} book has a level with amount <= 0")
    if depth is not None and (len(bids) > depth or len(asks) > depth):
        found.append(f"{book.symbol} book: asked depth {depth}, got {len(bids)}/{len(asks)}")
    return found


def candle_problems(candles: list[Candle], interval: str, limit: int | None) -> list[str]:
    found = []
    for c in candles:
        if not c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high:
            found.append(
                f"candle {c.open_time.isoformat()}: need low <= open, close <= high, got "
                f"o={c.open} h={c.high} l={c.low} c={c.close}"
            )
        if c.interval != interval:
            found.append(f"candle interval {c.interval!r}, asked {interval!r}")
    times = [c.open_time for c in candles]
    if times != sorted(times) or len(set(times)) != len(times):
        found.append("candles not in ascending open_time order without duplicates")
    if limit is not None and len(candles) > limit:
        found.append(f"asked at most {limit} candles, got {len(candles)}")
    return found


def ticker_problems(t: Ticker) -> list[str]:
    found = []
    if t.bid is not None and t.ask is not None and t.bid > t.ask:
        found.append(f"{t.symbol} ticker: bid {t.bid} above ask {t.ask}")
    if t.low is not None and t.high is not None and t.low > t.high:
        found.append(f"{t.symbol} ticker: low {t.low} above high {t.high}")
    return found


def balance_problems(balances: Mapping[str, Balance]) -> list[str]:
    found = []
    for asset, b in balances.items():
        if not isinstance(b, Balance):
            found.append(f"balances[{asset!r}] is a {type(b).__name__}, not a Balance")
            continue
        if asset != b.asset:
            found.append(f"balances key {asset!r} holds the balance of {b.asset!r}")
        if b.free < 0 or b.locked < 0:
            found.append(f"{asset}: negative balance free={b.free} locked={b.locked}")
        if b.total != b.free + b.locked:
            found.append(f"{asset}: total {b.total} != free + locked")
    return found


def order_problems(o: Order) -> list[str]:
    found = []
    if o.filled > o.amount:
        found.append(
            f"order {o.id}: filled {o.filled} exceeds amount {o.amount} (the remaining amount "
            "reported as the amount?)"
        )
    if not o.id:
        found.append("order without an id")
    return found


def quote_problems(q: Quote, now: datetime) -> list[str]:
    found = []
    if q.price <= 0 or q.amount <= 0:
        found.append(f"quote {q.id}: price {q.price} and amount {q.amount} must be positive")
    elif abs(q.cost - q.amount * q.price) > q.cost * Decimal("0.01"):
        found.append(f"quote {q.id}: cost {q.cost} is not amount x price ({q.amount * q.price})")
    if q.expires_at <= now:
        unit = " (a timestamp read in the wrong unit?)" if q.expires_at.year < 2000 else ""
        found.append(
            f"quote {q.id} already expired when received ({q.expires_at.isoformat()}){unit}"
        )
    if not q.id:
        found.append("quote without an id")
    return found


def trade_problems(trades: Iterable[PublicTrade | Trade]) -> list[str]:
    found = []
    times = [t.timestamp for t in trades if t.timestamp is not None]
    if times != sorted(times):
        found.append("trades not in ascending time order")
    for t in trades:
        if t.price <= 0 or t.amount <= 0:
            found.append(f"trade {t.id}: price {t.price} and amount {t.amount} must be positive")
    return found


def symbol_problems(values: Iterable[Any], symbols: set[str]) -> list[str]:
    return [
        f"{type(v).__name__} for {v.symbol!r}, which is not in markets()"
        for v in values
        if getattr(v, "symbol", None) is not None and v.symbol not in symbols
    ]


def datetimes_in(value: Any, where: str, depth: int = 0) -> list[tuple[str, datetime]]:
    """Every aware datetime inside ``value`` (models' ``raw`` payloads left out), with where."""
    if depth > 8 or value is None or isinstance(value, str | bytes | int | float | Decimal):
        return []
    if isinstance(value, datetime):
        return [(where, value)] if value.utcoffset() is not None else []
    found: list[tuple[str, datetime]] = []
    if attrs.has(type(value)):
        name = type(value).__name__
        for field in attrs.fields(type(value)):
            if field.name != "raw":
                found += datetimes_in(getattr(value, field.name), f"{name}.{field.name}", depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found += datetimes_in(item, f"{where}[{key!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += datetimes_in(item, f"{where}[{i}]", depth + 1)
    return found


def time_problems(
    value: Any, where: str, reference: datetime, window: timedelta, what: str
) -> list[str]:
    """Datetimes in ``value`` further than ``window`` from ``reference`` (``what`` names it)."""
    found = []
    for place, stamp in datetimes_in(value, where):
        off = abs((stamp - reference).total_seconds())
        if off > window.total_seconds():
            found.append(
                f"{place} = {stamp.isoformat()} is {_span(off)} away from {what} "
                f"({reference.isoformat(timespec='seconds')}): a timestamp read in the wrong "
                "unit (seconds vs milliseconds) or from the wrong field"
            )
    return found


def era_problems(value: Any, where: str, era: tuple[datetime, datetime]) -> list[str]:
    """Datetimes in ``value`` outside the era (a day either side) of the payload they came from."""
    low, high = era[0] - timedelta(days=1), era[1] + timedelta(days=1)
    return [
        f"{place} = {stamp.isoformat()} is outside the recorded payload's era "
        f"({low.date()} .. {high.date()}): a timestamp read in the wrong unit (seconds vs "
        "milliseconds) or from the wrong field"
        for place, stamp in datetimes_in(value, where)
        if not low <= stamp <= high
    ]


def _span(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
