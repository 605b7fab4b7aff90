"""Binance symbol filters: read from exchangeInfo into :class:`xest.models.Market`, and checked
before an order is sent so a bad amount fails locally, naming the filter, with no round trip.

The rules are Binance's (``filters`` in the spot API docs):

- PRICE_FILTER: ``price >= minPrice``, ``price <= maxPrice``, ``(price - minPrice) % tickSize
  == 0``; a zero bound or tick disables that rule.
- LOT_SIZE (every order) and MARKET_LOT_SIZE (market orders): the same three rules on the
  quantity with ``minQty``, ``maxQty``, ``stepSize``.
- MIN_NOTIONAL / NOTIONAL: ``price * quantity`` at least ``minNotional`` (and at most
  ``maxNotional``); for market orders only when the filter applies to them, and then against an
  average price xest does not know, so market orders are left to the exchange there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from xest import errors
from xest.http import plain_decimal as _plain
from xest.models import Market, OrderType, Side


def by_type(filters: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {f["filterType"]: f for f in filters if "filterType" in f}


def _positive(value: Any) -> Decimal | None:
    """A filter bound as Decimal, or None when Binance disables it with zero."""
    if value is None:
        return None
    number = Decimal(str(value))
    return number if number > 0 else None


def market_limits(filters: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The :class:`Market` keyword arguments the filters give."""
    f = by_type(filters)
    price = f.get("PRICE_FILTER", {})
    lot = f.get("LOT_SIZE", {})
    market_lot = f.get("MARKET_LOT_SIZE", {})
    notional = f.get("NOTIONAL") or f.get("MIN_NOTIONAL") or {}
    return {
        "price_step": _positive(price.get("tickSize")),
        "min_price": _positive(price.get("minPrice")),
        "max_price": _positive(price.get("maxPrice")),
        "amount_step": _positive(lot.get("stepSize")),
        "min_amount": _positive(lot.get("minQty")),
        "max_amount": _positive(lot.get("maxQty")),
        "market_min_amount": _positive(market_lot.get("minQty")),
        "market_max_amount": _positive(market_lot.get("maxQty")),
        "min_cost": _positive(notional.get("minNotional")),
    }


def _fail(market: Market, name: str, problem: str) -> errors.InvalidOrder:
    return errors.InvalidOrder(
        f"{market.symbol}: {problem} (Binance filter {name}); nothing was sent",
        exchange="binance",
        code=name,
    )


def _check_range(
    market: Market,
    name: str,
    what: str,
    value: Decimal,
    rules: Mapping[str, Any],
    low_key: str,
    high_key: str,
    step_key: str,
) -> None:
    low = _positive(rules.get(low_key))
    high = _positive(rules.get(high_key))
    step = _positive(rules.get(step_key))
    if low is not None and value < low:
        raise _fail(market, name, f"{what} {value} is below the minimum {_plain(low)}")
    if high is not None and value > high:
        raise _fail(market, name, f"{what} {value} is above the maximum {_plain(high)}")
    if step is not None and (value - (low or 0)) % step != 0:
        fixed = ((value - (low or 0)) // step) * step + (low or 0)
        raise _fail(
            market,
            name,
            f"{what} {value} is not on the step {_plain(step)} (nearest below: {_plain(fixed)})",
        )


def check_order(
    market: Market,
    side: Side,
    type: OrderType,
    amount: Decimal,
    price: Decimal | None,
) -> None:
    """Raise InvalidOrder naming the filter an order would break; pass silently otherwise."""
    if amount <= 0:
        raise errors.InvalidOrder(
            f"{market.symbol}: amount must be positive, got {amount}", exchange="binance"
        )
    if not market.active:
        raise errors.InvalidOrder(
            f"{market.symbol} is not trading now (status {market.status or 'unknown'})",
            exchange="binance",
        )
    f = by_type((market.raw or {}).get("filters", ()))
    if type is OrderType.LIMIT:
        if price is None or price <= 0:
            raise errors.InvalidOrder(
                f"{market.symbol}: a limit order needs a positive price", exchange="binance"
            )
        if "PRICE_FILTER" in f:
            _check_range(
                market,
                "PRICE_FILTER",
                "price",
                price,
                f["PRICE_FILTER"],
                "minPrice",
                "maxPrice",
                "tickSize",
            )
    if "LOT_SIZE" in f:
        _check_range(
            market, "LOT_SIZE", "amount", amount, f["LOT_SIZE"], "minQty", "maxQty", "stepSize"
        )
    if type is OrderType.MARKET and "MARKET_LOT_SIZE" in f:
        _check_range(
            market,
            "MARKET_LOT_SIZE",
            "amount",
            amount,
            f["MARKET_LOT_SIZE"],
            "minQty",
            "maxQty",
            "stepSize",
        )
    if type is OrderType.LIMIT and price is not None:
        cost = price * amount
        legacy = f.get("MIN_NOTIONAL")
        if legacy is not None:
            low = _positive(legacy.get("minNotional"))
            if low is not None and cost < low:
                raise _fail(
                    market,
                    "MIN_NOTIONAL",
                    f"cost {_plain(cost)} is below the minimum {_plain(low)}",
                )
        notional = f.get("NOTIONAL")
        if notional is not None:
            low = _positive(notional.get("minNotional"))
            high = _positive(notional.get("maxNotional"))
            if low is not None and cost < low:
                raise _fail(
                    market,
                    "NOTIONAL",
                    f"cost {_plain(cost)} is below the minimum {_plain(low)}",
                )
            if high is not None and cost > high:
                raise _fail(
                    market,
                    "NOTIONAL",
                    f"cost {_plain(cost)} is above the maximum {_plain(high)}",
                )
    del side  # same rules both ways on Binance spot
