"""Binance symbol filters: read from exchangeInfo into :class:`xest.models.Market` (whose limits
the base Connector checks and rounds orders against before anything is sent), plus the one rule
the model does not carry, checked by :func:`check_order`.

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


def check_order(
    market: Market,
    side: Side,
    type: OrderType,
    amount: Decimal,
    price: Decimal | None,
) -> None:
    """Refuse, naming the filter, what the :class:`Market` does not carry: NOTIONAL's maximum.

    Everything the model carries (steps, minimums and maximums of price and amount, the
    minimum notional, the market's status) the base Connector has checked and rounded before
    ``create_order`` calls this."""
    notional = by_type((market.raw or {}).get("filters", ())).get("NOTIONAL")
    if notional is None or type is not OrderType.LIMIT or price is None:
        return
    high = _positive(notional.get("maxNotional"))
    cost = price * amount
    if high is not None and cost > high:
        raise _fail(market, "NOTIONAL", f"cost {_plain(cost)} is above the maximum {_plain(high)}")
