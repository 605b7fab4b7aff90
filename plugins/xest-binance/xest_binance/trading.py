"""The account side of the Binance connector: balances, orders and the account's trades."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from xest import errors
from xest.connector import Connector, OrderRequest
from xest.models import (
    Balance,
    Market,
    Order,
    OrderStatus,
    OrderType,
    TimeInForce,
    Trade,
)
from xest.paging import collect
from xest_binance import endpoints as ep
from xest_binance import parse
from xest_binance.markets import check_order

# Without a symbol, per-symbol histories scan at most this many markets (20 weight each).
MAX_SCAN = 20
HISTORY_PAGE = 1000  # rows per allOrders / myTrades answer, at most
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


# The mixins run inside BinanceConnector: type-check them as a Connector.
if TYPE_CHECKING:
    _Host = Connector
else:
    _Host = object


class AccountOperations(_Host):
    """Mixed into :class:`~xest_binance.connector.BinanceConnector`."""

    _need_credentials: Callable[[str], None]
    _market_by_id: Callable[[str], Market | None]

    def balances(self, *, include_zero: bool = False) -> dict[str, Balance]:
        """Free and locked amounts per asset; assets with nothing are left out unless asked."""
        self._need_credentials("balances")
        params = None if include_zero else {"omitZeroBalances": "true"}
        return parse.balances(self.request(ep.ACCOUNT, params), include_zero=include_zero)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        self._need_credentials("open_orders")
        params = {"symbol": self.market(symbol).id} if symbol else None
        rows = self.request(ep.weighted(ep.OPEN_ORDERS, ep.open_orders_weight(symbol)), params)
        return [self._order(row) for row in rows]

    def closed_orders(
        self, symbol: str | None = None, since: datetime | None = None
    ) -> list[Order]:
        """Final orders (filled, cancelled, rejected, expired), oldest first.

        Binance lists orders per symbol only; without ``symbol`` xest scans the markets whose
        base and quote the account both holds (see :meth:`scan_symbols`)."""
        self._need_credentials("closed_orders")
        orders: list[Order] = []
        for m in self._symbols_for(symbol, "closed_orders"):
            params: dict[str, Any] = {"symbol": m.id, "limit": HISTORY_PAGE}
            if since is None:  # the latest page: Binance pages forward only, from a time or id
                rows = self.request(ep.ALL_ORDERS, params)
            else:
                params["startTime"] = parse.to_ms(since)
                rows = self._history(ep.ALL_ORDERS, params, "orderId", "orderId", None, m)
            orders += [parse.order(m.symbol, row) for row in rows]
        return sorted((o for o in orders if o.is_final), key=_created)

    def _history(
        self,
        endpoint: Any,
        params: dict[str, Any],
        cursor: str,
        field: str,
        want: int | None,
        m: Any,
    ) -> list[dict]:
        """A history list read forward page after page: the first page from ``params``
        (``startTime``), the next from the id after the last row's (``cursor``)."""

        def page(after: int | None) -> tuple[list[dict], int | None]:
            asked = dict(params) if after is None else {"symbol": m.id, cursor: after}
            asked["limit"] = HISTORY_PAGE
            rows = self.request(endpoint, asked)
            full = len(rows) >= HISTORY_PAGE
            return rows, (int(rows[-1][field]) + 1 if full and rows else None)

        rows = collect(
            page,
            first=None,
            want=want,
            key=lambda row: row[field],
            exchange=self.exchange,
            what=f"{m.symbol} {endpoint.name}",
        )
        return rows if want is None else rows[:want]

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        self._need_credentials("order")
        ids = self._ids(order_id, client_id)
        if symbol is None:
            found = self._find_open(order_id, client_id)
            if found is None:
                raise errors.BadRequest(
                    f"order {order_id or client_id} is not among the open orders, and Binance "
                    "needs the symbol to look up any other: pass symbol=",
                    exchange=self.exchange,
                )
            return found
        m = self.market(symbol)
        return parse.order(m.symbol, self.request(ep.QUERY_ORDER, {"symbol": m.id, **ids}))

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        self._need_credentials("cancel_order")
        ids = self._ids(order_id, client_id)
        if symbol is None:
            found = self._find_open(order_id, client_id)
            if found is None:
                raise errors.OrderNotFound(
                    f"no open order {order_id or client_id} to cancel", exchange=self.exchange
                )
            symbol = found.symbol
        m = self.market(symbol)
        return parse.order(m.symbol, self.request(ep.CANCEL_ORDER, {"symbol": m.id, **ids}))

    def my_trades(
        self, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Trade]:
        """The account's fills, oldest first; without ``symbol``, see :meth:`closed_orders`."""
        self._need_credentials("my_trades")
        trades: list[Trade] = []
        for m in self._symbols_for(symbol, "my_trades"):
            params: dict[str, Any] = {"symbol": m.id}
            if since is not None:
                params["startTime"] = parse.to_ms(since)
            if limit is not None:
                params["limit"] = max(1, min(int(limit), HISTORY_PAGE))
            if since is not None and (limit is None or limit > HISTORY_PAGE):
                rows = self._history(ep.MY_TRADES, params, "fromId", "id", limit, m)
            else:  # the latest (Binance pages forward only, from a time or an id)
                rows = self.request(ep.MY_TRADES, params)
            trades += [parse.trade(m.symbol, row) for row in rows]
        trades.sort(key=lambda t: t.timestamp)
        return trades[-limit:] if limit else trades

    def create_order(self, request: OrderRequest, m: Market) -> Order:
        """Send a checked market or limit order (``validate``: ``/api/v3/order/test``, which
        places nothing; the answer is an unplaced snapshot, id ``""``, status pending).

        The base has rounded the order onto the market's grid; the filters the model does not
        carry (NOTIONAL's maximum, ...) are checked here: a breach raises InvalidOrder naming
        the filter, and nothing is sent.
        """
        self._need_credentials("place_order")
        side_, type_, qty, px = request.side, request.type, request.amount, request.price
        check_order(m, side_, type_, qty, px)
        tif = request.time_in_force or (TimeInForce.GTC if type_ is OrderType.LIMIT else None)
        if not _CLIENT_ID.match(request.client_id):
            raise errors.InvalidOrder(
                f"client id {request.client_id!r}: Binance accepts 1-36 of A-Z a-z 0-9 . : / _ -",
                exchange=self.exchange,
            )
        params: dict[str, Any] = {
            "symbol": m.id,
            "side": side_.value.upper(),
            "type": type_.value.upper(),
            "timeInForce": tif,
            "quantity": qty,
            "price": px,
            "newClientOrderId": request.client_id,
        }
        if request.validate:
            self.request(ep.TEST_ORDER, params)
            return Order(
                id="",
                symbol=m.symbol,
                side=side_,
                type=type_,
                status=OrderStatus.PENDING,
                amount=qty,
                price=px,
                client_id=request.client_id,
                time_in_force=tif,
                raw={},
            )
        params["newOrderRespType"] = "FULL"
        return parse.order(m.symbol, self.request(ep.NEW_ORDER, params))

    def _order(self, row: dict[str, Any]) -> Order:
        m = self._market_by_id(row["symbol"])
        if m is None:  # a delisted market: kept under Binance's own id, flagged
            return attrs.evolve(
                parse.order("UNLISTED/UNLISTED", row), symbol=row["symbol"], listed=False
            )
        return parse.order(m.symbol, row)

    def _find_open(self, order_id: str | None, client_id: str | None) -> Order | None:
        for o in self.open_orders():
            if (order_id is not None and o.id == str(order_id)) or (
                client_id is not None and o.client_id == client_id
            ):
                return o
        return None

    def _ids(self, order_id: str | None, client_id: str | None) -> dict[str, str]:
        if order_id is None and client_id is None:
            raise errors.BadRequest("give an order id or a client_id", exchange=self.exchange)
        if order_id is not None:
            return {"orderId": str(order_id)}
        return {"origClientOrderId": str(client_id)}

    def scan_symbols(self) -> list[Market]:
        """The markets searched when a per-symbol history is asked for without a symbol: those
        whose base and quote assets the account both holds now, at most ``MAX_SCAN``."""
        held = set(self.balances())
        markets = self.market_index()
        found = [m for m in markets if m.base_id in held and m.quote_id in held]
        return sorted(found, key=lambda m: m.symbol)

    def _symbols_for(self, symbol: str | None, operation: str) -> list[Market]:
        if symbol is not None:
            return [self.market(symbol)]
        found = self.scan_symbols()
        if len(found) > MAX_SCAN:
            raise errors.BadRequest(
                f"Binance answers {operation}() per symbol and this account holds assets of "
                f"{len(found)} markets; pass symbol=",
                exchange=self.exchange,
            )
        return found


def _created(order: Order) -> float:
    return order.created.timestamp() if order.created else 0.0
