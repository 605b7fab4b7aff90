"""Validated bulk constructors: the models a payload brings by the thousand (book levels,
public trades, candles), checked column by column instead of field by field.

The rules are the models' own (:func:`xest.models.to_decimal`, the non-negative amounts, aware
UTC times, unified symbols): every number is a finite Decimal made from the exchange's string,
int or Decimal, never a float. A column is converted and checked in one pass in C (``map``,
``min``, ``max``); the instances are then filled without running attrs' per-field converters a
second time. When any value of a column is not plainly valid, the rows go through the models'
ordinary constructors instead, which raise the same error, with the same message, as ever.

Use them through :mod:`xest.models` (``price_levels``, ``public_trades``, ``candles``).
"""

from __future__ import annotations

import decimal
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, repeat
from operator import add, attrgetter, is_
from typing import Any, cast

import attrs

from xest.models import Candle, PriceLevel, PriceLevels, PublicTrade, Side, to_utc

__all__ = ["candles", "price_levels", "public_trades", "steady_times", "to_decimals"]

_NUMBER_TYPES = frozenset({str, int, Decimal})  # exactly these: bool and float are refused
_SECONDS_TYPES = frozenset({int, Decimal})
_SIDE_TYPES = frozenset({Side, type(None)})
_DECIMAL_TYPE = {Decimal}
_INT_TYPE = {int}
_DATETIME_TYPE = {datetime}
_NONE_TYPES = frozenset({type(None), str})  # an optional column's possible blanks
_tzinfo = attrgetter("tzinfo")
_ZERO = Decimal(0)
_by_price = attrgetter("price")

# ``Decimal(text)`` made by a context method (about a fifth cheaper than the constructor) that
# can only be exact: unbounded precision and exponents, and every signal of a changed value
# trapped, so a number it cannot take as it is raises (ArithmeticError) and the column falls
# back to the ordinary constructors. It also refuses what the constructor forgives (spaces,
# underscores): those fall back too. Flags it sets are never read, so sharing it across threads
# is safe.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[
        decimal.InvalidOperation,
        decimal.Inexact,
        decimal.Rounded,
        decimal.Clamped,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Subnormal,
    ],
)
_exact_decimal = _EXACT.create_decimal


class _Fallback(Exception):
    """A column holds a value the fast path does not vouch for."""


def _decimals(values: list[Any], non_negative: bool) -> list[Decimal]:
    """One column as finite Decimals, or _Fallback."""
    if not values:
        return []
    column: list[Decimal] | None = None
    try:
        text: str | None = "".join(values)  # all strings (the usual column), else TypeError
    except TypeError:
        text = None
        types = set(map(type, values))
        if types == _DECIMAL_TYPE:
            column = values  # already Decimals (derived by the connector): checked below
        elif not types <= _NUMBER_TYPES:
            raise _Fallback from None
    if column is None:
        try:
            column = list(map(_exact_decimal, values))
        except ArithmeticError:  # not a number at all, or not one taken exactly: see _EXACT
            raise _Fallback from None
    # Every spelling of a non-finite Decimal (inf, Infinity, NaN, sNaN, any case) has an "n",
    # and every negative number a "-": one scan of the text vouches for the usual column
    # (exchanges' plain decimals) without comparing Decimals.
    if text is not None and not ("n" in text or "N" in text or (non_negative and "-" in text)):
        return column
    try:
        # Ordering a NaN raises; an infinity ends up at one end.
        low, high = min(column), max(column)
    except ArithmeticError:
        raise _Fallback from None
    if not (low.is_finite() and high.is_finite()) or (non_negative and low < _ZERO):
        raise _Fallback
    return column


def _optional_decimals(values: list[Any]) -> list[Decimal | None]:
    if _NONE_TYPES.isdisjoint(map(type, values)) or ("" not in values and None not in values):
        return cast("list[Decimal | None]", _decimals(values, False))  # a list, unchanged
    present = [v for v in values if v is not None and v != ""]
    converted = iter(_decimals(present, False))
    return [None if v is None or v == "" else next(converted) for v in values]


def _times(values: list[Any]) -> list[datetime]:
    """UNIX seconds (int or Decimal) as aware UTC datetimes, as :func:`to_utc` makes them."""
    types = set(map(type, values))
    if types == _DATETIME_TYPE and all(map(is_, map(_tzinfo, values), repeat(UTC))):
        return values  # made by the connector (from milliseconds), already aware UTC
    if not types <= _SECONDS_TYPES:
        raise _Fallback
    if types == _INT_TYPE:
        steady = steady_times(values, 1)
        if steady is not None:
            return steady
    return list(map(datetime.fromtimestamp, map(float, values), repeat(UTC)))


def steady_times(values: list[int], per_second: int = 1) -> list[datetime] | None:
    """Integer times evenly spaced (as candles' open times are), in units of
    ``1 / per_second`` s (1: seconds, 1000: milliseconds), as aware UTC datetimes equal to
    those made one by one; None when they are not evenly spaced or fewer than two.

    The ends are made from the clock (and raise what it raises for a time out of range), the
    rest by adding one exact step at a time: a third of the cost of making each."""
    if 1_000_000 % per_second:
        raise ValueError(f"per_second must divide 1000000, got {per_second}")
    count = len(values)
    if count < 2 or set(map(type, values)) != _INT_TYPE:
        return None
    first, step = values[0], values[1] - values[0]
    if step == 0 or values != list(range(first, first + step * count, step)):
        return None
    unit = 1_000_000 // per_second  # microseconds in one unit
    start = _from_units(first, per_second, unit)
    _from_units(values[-1], per_second, unit)  # out of range raises here, as one by one
    gap = timedelta(microseconds=step * unit)
    return list(accumulate(repeat(gap, count - 1), add, initial=start))


def _from_units(value: int, per_second: int, unit: int) -> datetime:
    seconds, rest = divmod(value, per_second)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=rest * unit)


def _symbol(symbol: str) -> None:
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise _Fallback


def _fill(cls: type, count: int, columns: dict[str, Iterable[Any]]) -> list[Any]:
    """``count`` instances of the frozen attrs class ``cls``, every field from ``columns``."""
    names = _field_names(cls)
    if set(columns) != names:
        raise TypeError(f"{cls.__name__} needs {sorted(names)}, got {sorted(columns)}")
    made: list[Any] = list(map(object.__new__, repeat(cls, count)))
    for name, values in columns.items():
        # The slot's own setter: what attrs' frozen __init__ uses after converting.
        deque(map(cls.__dict__[name].__set__, made, values), maxlen=0)
    return made


_names: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _names.get(cls)
    if names is None:
        names = _names[cls] = frozenset(f.name for f in attrs.fields(cls))
    return names


# -- the constructors --------------------------------------------------------------------------


def to_decimals(values: Iterable[Any], non_negative: bool = False) -> list[Decimal]:
    """Many exchange numbers as finite Decimals, by :func:`xest.models.to_decimal`'s rules."""
    from xest.models import to_decimal

    values = list(values)
    try:
        return _decimals(values, non_negative)
    except _Fallback:
        column = [to_decimal(v) for v in values]  # raises what to_decimal raises
        negative = [v for v in column if v < _ZERO] if non_negative else []
        if negative:
            raise ValueError(f"expected a number >= 0, got {negative[0]}") from None
        return column


def price_levels(rows: Sequence[Sequence[Any]], descending: bool | None = None) -> PriceLevels:
    """``[price, amount, ...]`` rows as PriceLevels; sorted by price when ``descending`` is
    given (True for bids, False for asks; stable, as ``sorted``), else kept in the given order."""
    try:
        prices = _decimals([row[0] for row in rows], True)
        amounts = _decimals([row[1] for row in rows], True)
    except _Fallback:
        levels = [PriceLevel(row[0], row[1]) for row in rows]  # raises the model's error
        if descending is not None:
            levels.sort(key=_by_price, reverse=descending)
        return PriceLevels(levels)
    if descending is not None and prices != sorted(prices, reverse=descending):
        # Exchanges send books sorted: checking costs one pass, sorting only when needed.
        order = sorted(range(len(prices)), key=prices.__getitem__, reverse=descending)
        prices = [prices[i] for i in order]
        amounts = [amounts[i] for i in order]
    return PriceLevels(_fill(PriceLevel, len(prices), {"price": prices, "amount": amounts}))


def public_trades(
    symbol: str,
    prices: list[Any],
    amounts: list[Any],
    sides: list[Side | None],
    timestamps: list[Any],
    ids: list[str],
    raws: list[Any],
) -> list[PublicTrade]:
    """Public trades of one market, given as columns of equal length."""
    count = len(prices)
    if not count == len(amounts) == len(sides) == len(timestamps) == len(ids) == len(raws):
        raise ValueError("public_trades: every column needs one value per trade")
    try:
        _symbol(symbol)
        if not set(map(type, sides)) <= _SIDE_TYPES or not set(map(type, ids)) <= {str}:
            raise _Fallback
        columns = {
            "symbol": repeat(symbol, count),
            "price": _decimals(prices, True),
            "amount": _decimals(amounts, True),
            "side": sides,
            "timestamp": _times([t for t in timestamps if t is not None])
            if None not in timestamps
            else [None if t is None else to_utc(t) for t in timestamps],
            "id": ids,
            "raw": raws,
        }
        return _fill(PublicTrade, count, columns)
    except _Fallback:
        return [
            PublicTrade(symbol=symbol, price=p, amount=a, side=s, timestamp=t, id=i, raw=r)
            for p, a, s, t, i, r in zip(prices, amounts, sides, timestamps, ids, raws, strict=True)
        ]


def candles(
    symbol: str,
    interval: str,
    open_times: list[Any],
    opens: list[Any],
    highs: list[Any],
    lows: list[Any],
    closes: list[Any],
    volumes: list[Any],
    vwaps: list[Any],
    counts: list[int | None],
    raws: list[Any],
) -> list[Candle]:
    """Candles of one market and interval, given as columns of equal length."""
    columns_in = (open_times, opens, highs, lows, closes, volumes, vwaps, counts, raws)
    count = len(open_times)
    if any(len(column) != count for column in columns_in):
        raise ValueError("candles: every column needs one value per candle")
    try:
        _symbol(symbol)
        if not set(map(type, counts)) <= {int, type(None)}:
            raise _Fallback
        columns = {
            "symbol": repeat(symbol, count),
            "interval": repeat(interval, count),
            "open_time": _times(open_times),
            "open": _decimals(opens, False),
            "high": _decimals(highs, False),
            "low": _decimals(lows, False),
            "close": _decimals(closes, False),
            "volume": _decimals(volumes, True),
            "vwap": _optional_decimals(vwaps),
            "count": counts,
            "raw": raws,
        }
        return _fill(Candle, count, columns)
    except _Fallback:
        return [
            Candle(
                symbol=symbol,
                interval=interval,
                open_time=t,
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                vwap=w,
                count=n,
                raw=r,
            )
            for t, o, h, lo, c, v, w, n, r in zip(*columns_in, strict=True)
        ]
