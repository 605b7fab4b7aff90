"""Checked by mypy (``python3 dev.py test``), never run: the public API as a type checker sees
it. Converters are visible (strings become Decimals and floats are refused), and an unused
``type: ignore`` fails the check, so each ignore below asserts an error mypy must report."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, assert_type

from xest.connector import Connector, OrderRequest
from xest.errors import ErrorTable, InvalidOrder, XestError
from xest.http import Endpoint, plain_decimal
from xest.markets import MarketIndex
from xest.models import Market, Order, Ticker

ticker = Ticker("BTC/USD", bid="1.5", ask=Decimal("1.6"), last=2)
assert_type(ticker.bid, Decimal | None)
Ticker("BTC/USD", bid=1.5)  # type: ignore[arg-type]  # a float is refused by the checker too

market = Market("BTC/USD", "XBTUSD", "BTC", "USD", price_step="0.1", ids={"altname": "XBTUSD"})
assert_type(market.ids.get("altname"), str | None)
found = MarketIndex([market]).get("XBTUSD")
assert_type(found, Market | None)

assert_type(plain_decimal(Decimal("1E-8")), str)
assert_type(Endpoint("t", "GET", "/ticker/{pair}/").fill({"pair": "x"}), tuple[str, dict[str, Any]])
table = ErrorTable("x", exact={-1: (InvalidOrder, "fix it")})
assert_type(table.get(-1), type[XestError] | None)


class Typed(Connector):
    exchange = "typed"
    capabilities = frozenset({"place_order"})

    def create_order(self, request: OrderRequest, market: Market) -> Order:
        return Order(
            id="1",
            symbol=market.symbol,
            side=request.side,
            type=request.type,
            status="open",
            amount=request.amount,
            created=datetime.now(UTC),
        )
