"""Kraken's private side: balances, orders, fills, and quotes derived from the book.

Mixed into :class:`xest_kraken.connector.KrakenConnector`, whose plumbing it uses
(``_result``, ``_pair``, ``market``).
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from xest import errors
from xest.connector import Connector, OrderRequest
from xest.http import current_placement, record_window
from xest.models import (
    Balance,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Quote,
    Side,
    TimeInForce,
    Trade,
)
from xest_kraken import endpoints as ep
from xest_kraken import parse, quotes

log = logging.getLogger("xest.kraken")

PAGE_SIZE = 50  # ClosedOrders and TradesHistory answer 50 rows per page
MAX_PAGES = 40


def rfc3339(value: datetime) -> str:
    """A UTC instant as Kraken's ``deadline`` wants it, to the millisecond."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


# The mixin runs inside KrakenConnector: type-check it as a Connector.
if TYPE_CHECKING:
    _Host = Connector
else:
    _Host = object


@attrs.frozen
class Unlisted:
    """Stands in for the market of a delisted pair while parsing history."""

    symbol: str
    base: str | None = None
    quote: str | None = None
    unlisted: bool = True


class KrakenTrading(_Host):
    """Balances, orders, fills and quotes (see the module docstring)."""

    quote_validity = timedelta(seconds=quotes.DEFAULT_VALIDITY_SECONDS)
    _accepted: set[str]
    _accept_lock: threading.Lock
    _result: Callable[..., Any]
    _pair: Callable[[str], Market]
    _book: Callable[..., OrderBook]
    # AddOrder's ``deadline``: Kraken accepts now + 2 s to now + 60 s.
    order_validity = timedelta(seconds=10)
    records_validity = True

    # -- account ---------------------------------------------------------------------------------

    def balances(self) -> dict[str, Balance]:
        try:
            result = self._result(ep.BALANCE_EX)
        except errors.ExchangeError as exc:
            if not str(exc.code or "").startswith("EGeneral:Unknown method"):
                raise
            result = self._result(ep.BALANCE)  # an older API (or a proxy) without BalanceEx
        return parse.balances(result)

    def _history_pair(self, name: str) -> Any:
        """The market of a pair in the account's history; a delisted pair (its orders and fills
        stay in the history) is kept under Kraken's own name, flagged ``listed=False``."""
        try:
            return self._pair(name)
        except errors.BadSymbol:
            return Unlisted(name)

    def _orders(self, rows: dict[str, Any], symbol: str | None) -> list[Order]:
        wanted = self.market(symbol).symbol if symbol else None
        out = []
        for txid, info in rows.items():
            order = parse.order(txid, info, self._history_pair)
            if wanted is None or order.symbol == wanted:
                out.append(order)
        return sorted(out, key=lambda o: o.created or datetime.min.replace(tzinfo=UTC))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self._orders(self._result(ep.OPEN_ORDERS).get("open", {}), symbol)

    def closed_orders(
        self, symbol: str | None = None, since: datetime | None = None
    ) -> list[Order]:
        rows = self._paged(ep.CLOSED_ORDERS, "closed", {"start": unix(since)})
        found = self._orders(rows, symbol)
        # ``start`` has whole seconds; the exact cut is made here.
        return [o for o in found if since is None or (o.updated or o.created or since) > since]

    def _paged(
        self, endpoint: Any, key: str, params: dict[str, Any], enough: int | None = None
    ) -> dict[str, Any]:
        """Every row of a paged private list (``ofs`` = rows already read)."""
        rows: dict[str, Any] = {}
        count = 0
        for _ in range(MAX_PAGES):
            result = self._result(endpoint, {**params, "ofs": len(rows) or None})
            page = result.get(key) or {}
            if page and not set(page) - set(rows):
                # The offset moved but the page repeats rows: looping would never end.
                raise errors.BadResponse(
                    f"paging {key} did not advance at offset {len(rows)}; stopped",
                    exchange=self.exchange,
                    code="pager_stuck",
                )
            rows.update(page)
            count = int(result.get("count", 0))
            if not page or len(rows) >= count:
                return rows
            if enough is not None and len(rows) >= enough:
                return rows
        # Never a silent cut: the caller learns the list is partial and how to get the rest.
        message = (
            f"kraken {key}: read {len(rows)} of {count} rows ({MAX_PAGES} pages of {PAGE_SIZE}, "
            "the most xest reads at once); the oldest are missing: pass since= to read them"
        )
        log.warning(message)
        warnings.warn(errors.TruncatedWarning(message), stacklevel=3)
        return rows

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        if order_id:
            try:
                result = self._result(ep.QUERY_ORDERS, {"txid": order_id, "trades": True})
            except errors.InvalidOrder as exc:
                if str(exc.code).startswith("EOrder:Invalid order"):
                    raise self._not_found(order_id) from None
                raise
            if order_id not in result:
                raise self._not_found(order_id)
            return parse.order(order_id, result[order_id], self._pair)
        if client_id:
            # QueryOrders needs txids; OpenOrders and ClosedOrders filter by cl_ord_id.
            for endpoint, key in ((ep.OPEN_ORDERS, "open"), (ep.CLOSED_ORDERS, "closed")):
                rows = self._result(endpoint, {"cl_ord_id": client_id}).get(key) or {}
                found = [o for o in self._orders(rows, symbol) if o.client_id == client_id]
                if found:
                    return found[-1]
            raise self._not_found(client_id, client=True)
        raise errors.BadRequest("give an order id or a client id", exchange=self.exchange)

    def _not_found(self, ident: str, client: bool = False) -> errors.OrderNotFound:
        what = "client id" if client else "id"
        return errors.OrderNotFound(
            f"Kraken has no order with {what} {ident!r} for this account",
            exchange=self.exchange,
            code="EOrder:Unknown order",
        )

    def create_order(self, request: OrderRequest, m: Market) -> Order:
        """Send a checked market or limit order (``validate``: Kraken checks it, places
        nothing).

        Kraken's AddOrder answers with the order id only, so the returned Order has status
        ``pending``: read it with ``order(id)`` (the account agent follows it to its end).
        A validate-only answer comes back as an Order with ``id == ""`` (nothing was placed),
        status ``pending`` and ``raw["validate"] is True``.
        """
        quotes.check_client_id(request.client_id)
        params: dict[str, Any] = {
            "pair": m.ids.get("altname", m.id),
            "type": request.side.value,
            "ordertype": request.type.value,
            "volume": request.amount,
            "price": request.price,
            "timeinforce": request.time_in_force,
            "cl_ord_id": request.client_id,
            "validate": request.validate or None,
        }
        if not request.validate and current_placement() is not None:
            # Kraken's matching engine refuses the order after ``deadline``: the end of the
            # placement's validity window, after which "not found" means "never placed".
            deadline = self.server_now() + self.order_validity
            params["deadline"] = rfc3339(deadline)
            record_window(deadline)
        result = self._result(ep.ADD_ORDER, params)
        unplaced = request.validate or not result.get("txid")
        # AddOrder answers only the id: nothing else is sent after a placement (a failure then
        # would read as a failed placement). The order is pending until read with order().
        return Order(
            id="" if unplaced else result["txid"][0],
            symbol=m.symbol,
            side=request.side,
            type=request.type,
            status=OrderStatus.PENDING,
            amount=request.amount,
            price=request.price,
            client_id=request.client_id,
            time_in_force=request.time_in_force,
            raw={"validate": True, **result} if unplaced else result,
        )

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        if not (order_id or client_id):
            raise errors.BadRequest("give an order id or a client id", exchange=self.exchange)
        params = {"txid": order_id} if order_id else {"cl_ord_id": client_id}
        try:
            self._result(ep.CANCEL_ORDER, params)
        except errors.OrderNotFound:
            # Kraken says "Unknown order" for orders that are already closed, too.
            try:
                known = self.order(order_id, client_id=client_id, symbol=symbol)
            except errors.OrderNotFound:
                raise self._not_found(order_id or client_id or "", client=not order_id) from None
            if known.is_final:
                raise errors.InvalidOrder(
                    f"order {known.id} is already {known.status}; there is nothing to cancel",
                    exchange=self.exchange,
                    code="EOrder:Unknown order",
                ) from None
            raise
        return self.order(order_id, client_id=client_id, symbol=symbol)

    def my_trades(
        self, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Trade]:
        wanted = self.market(symbol).symbol if symbol else None
        # Kraken lists newest first: with neither a symbol filter nor a start, the first pages
        # hold the most recent trades and paging can stop early.
        enough = limit if wanted is None and since is None else None
        rows = self._paged(ep.TRADES_HISTORY, "trades", {"start": unix(since)}, enough=enough)
        out = []
        for txid, info in rows.items():
            trade = parse.trade(txid, info, self._history_pair)
            # ``start`` has whole seconds; the exact cut is made here.
            if (wanted is None or trade.symbol == wanted) and (
                since is None or trade.timestamp > since
            ):
                out.append(trade)
        out.sort(key=lambda t: t.timestamp)
        if limit:
            out = out[:limit] if since else out[-limit:]
        return out

    # -- quotes ----------------------------------------------------------------------------------

    def create_quote(
        self, m: Market, side: Side, amount: Decimal, valid_for: timedelta | None
    ) -> Quote:
        if m.amount_step and m.round_amount(amount) != amount:
            raise errors.InvalidQuote(
                f"{amount} is finer than {m.symbol}'s amount step {m.amount_step}",
                exchange=self.exchange,
            )
        book = self._book(m, 500, cache=False)  # a quote is firm: never from the cache
        worst, cost, levels = quotes.walk(book, side, amount)
        now = self.server_now()
        return Quote(
            id=quotes.new_quote_id(),
            symbol=m.symbol,
            side=side,
            amount=amount,
            price=worst,
            cost=amount * worst,
            expires_at=now + (self.quote_validity if valid_for is None else valid_for),
            created_at=now,
            raw={
                "source": "order book",
                "pair": m.id,
                "limit": str(worst),
                "vwap": str(cost / amount),
                "expected_cost": str(cost),
                "levels": levels,
            },
        )

    def quote_order(self, quote: Quote) -> Order:
        """The order that executed ``quote`` (found by the client order id derived from the
        quote id), in whatever state; OrderNotFound when Kraken has none. The core uses it to
        reconcile an acceptance whose answer was lost."""
        return self.order(client_id=quotes.client_id_for(quote.id), symbol=quote.symbol)

    def accept_quote(self, quote: Quote) -> Order:
        """Execute a quote once: a limit IOC order at the quoted price, with a client order id
        derived from the quote id.

        The derived id makes acceptance checkable on the exchange: if an order with it already
        exists (from this process or another, or after a lost answer), the quote was executed
        and QuoteAlreadyExecuted is raised instead of trading twice.
        """
        client_id = quotes.client_id_for(quote.id)
        with self._accept_lock:
            if quote.id in self._accepted:
                raise self._already(quote, None)
            if self.server_now() >= quote.expires_at:
                raise errors.QuoteExpired(
                    f"quote {quote.id} expired at {quote.expires_at:%H:%M:%S} (server time); "
                    "ask for a new quote",
                    exchange=self.exchange,
                )
            try:
                existing = self.order(client_id=client_id, symbol=quote.symbol)
            except errors.OrderNotFound:
                existing = None
            if existing is not None:
                self._accepted.add(quote.id)
                raise self._already(quote, existing.id)
            placed = self.place_order(
                quote.symbol,
                quote.side,
                OrderType.LIMIT,
                quote.amount,
                quote.price,
                time_in_force=TimeInForce.IOC,
                client_id=client_id,
            )
            self._accepted.add(quote.id)
        # An IOC order is final at once: show its fills. The quote is executed either way, so
        # a failed read-back returns the pending snapshot rather than an error.
        try:
            return self.order(placed.id)
        except errors.XestError as exc:
            log.warning("kraken quote order %s placed; reading it back failed: %s", placed.id, exc)
            return placed

    def _already(self, quote: Quote, order_id: str | None) -> errors.QuoteAlreadyExecuted:
        which = f" by order {order_id}" if order_id else ""
        return errors.QuoteAlreadyExecuted(
            f"quote {quote.id} was already executed{which}; a quote executes once, "
            "ask for a new quote",
            exchange=self.exchange,
        )
