"""Kraken spot REST API connector.

Every operation of :class:`xest.connector.Connector`, from Kraken's documented REST API. The
parsing lives in :mod:`xest_kraken.parse`, the error mapping in :mod:`xest_kraken.errors`,
signing in :mod:`xest_kraken.signing`, endpoints and rate limits in :mod:`xest_kraken.endpoints`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from xest import errors
from xest.connector import Connector
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    PublicTrade,
    Quote,
    ServerTime,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    to_decimal,
)
from xest_kraken import endpoints as ep
from xest_kraken import parse, quotes, signing
from xest_kraken.errors import check_payload

log = logging.getLogger("xest.kraken")

PAGE_SIZE = 50  # ClosedOrders and TradesHistory answer 50 rows per page
MAX_PAGES = 40


def _num(value: Decimal) -> str:
    """A Decimal as Kraken wants it: plain digits, never an exponent (``1E-8``)."""
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


class KrakenConnector(Connector):
    """Kraken spot. Unified symbols (``BTC/USD``) with Kraken's names kept in ``Market.id``
    (``XXBTZUSD``) and ``Market.ids`` (``altname`` ``XBTUSD``, ``wsname`` ``XBT/USD``)."""

    exchange = "kraken"
    default_url = "https://api.kraken.com"
    capabilities = frozenset(
        {
            "status",
            "server_time",
            "markets",
            "ticker",
            "tickers",
            "order_book",
            "candles",
            "trades",
            "balances",
            "open_orders",
            "closed_orders",
            "order",
            "place_order",
            "cancel_order",
            "my_trades",
            "quote",
            "accept_quote",
        }
    )
    rate_limits = ep.rate_limits()
    time_resolution = timedelta(seconds=1)
    candle_intervals = tuple(ep.INTERVALS)
    quote_validity = timedelta(seconds=quotes.DEFAULT_VALIDITY_SECONDS)

    def __init__(self, transport: Any, credentials: Any = None) -> None:
        super().__init__(transport, credentials)
        self._names: dict[str, Market] = {}

    # -- transport hooks -------------------------------------------------------------------------

    def sign(self, request: Any, credentials: Any, context: Any) -> None:
        signing.sign(request, credentials, context)

    def check_response(self, response: Any) -> None:
        data = response.data
        if response.status >= 400 and not (isinstance(data, dict) and data.get("error")):
            if response.status >= 500:
                raise errors.ExchangeUnavailable(
                    f"Kraken answered HTTP {response.status} to {response.endpoint.path}; "
                    "try again later",
                    exchange=self.exchange,
                    code=response.status,
                )
            return  # the transport reports other HTTP errors
        check_payload(data)

    def _result(self, endpoint: Any, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.request(endpoint, params, **kw)["result"]

    # -- markets ---------------------------------------------------------------------------------

    def markets(self) -> list[Market]:
        found = parse.markets(self._result(ep.ASSET_PAIRS))
        self._markets = {m.symbol: m for m in found}
        self._markets.update({m.id: m for m in found if m.id not in self._markets})
        names: dict[str, Market] = {}
        for m in found:
            for name in (m.symbol, m.id, *m.ids.values()):
                names.setdefault(name, m)
        self._names = names
        return found

    def _pair(self, name: str) -> Market:
        """The market for any name Kraken uses for it (key, altname, wsname) or its symbol."""
        if not self._names:
            self.markets()
        found = self._names.get(name)
        if found is None:
            raise errors.BadSymbol(
                f"Kraken named a pair {name!r} that is not among its markets",
                exchange=self.exchange,
            )
        return found

    def market(self, symbol: str) -> Market:
        if self._names and symbol in self._names:
            return self._names[symbol]
        if not self._names:
            self.markets()
            if symbol in self._names:
                return self._names[symbol]
        return super().market(symbol)

    # -- public ----------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        result = self._result(ep.SYSTEM_STATUS)
        stamp = result.get("timestamp")
        updated = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
        return ExchangeStatus(status=result["status"], updated=updated, raw=result)

    def server_time(self) -> ServerTime:
        # unixtime, not rfc1123: the latter has a two-digit year.
        result = self._result(ep.TIME)
        return ServerTime(time=int(result["unixtime"]), resolution=self.time_resolution, raw=result)

    def ticker(self, symbol: str) -> Ticker:
        m = self.market(symbol)
        return self.tickers([m.symbol])[m.symbol]

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        wanted = [self.market(s) for s in symbols] if symbols else None
        params = {"pair": ",".join(m.id for m in wanted)} if wanted else None
        result = self._result(ep.TICKER, params)
        out: dict[str, Ticker] = {}
        for key, entry in result.items():
            # Kraken keys results by its canonical name, whatever name was asked for.
            m = self._names.get(key) if self._names else None
            if m is None:
                try:
                    m = self._pair(key)
                except errors.BadSymbol:
                    log.debug("kraken ticker for unlisted pair %s skipped", key)
                    continue
            out[m.symbol] = parse.ticker(m, entry)
        missing = [m.symbol for m in wanted or () if m.symbol not in out]
        if missing:
            raise errors.BadResponse(
                f"Kraken's ticker answer lacks {', '.join(missing)}", exchange=self.exchange
            )
        return out

    def order_book(self, symbol: str, depth: int | None = None, **kw: Any) -> OrderBook:
        m = self.market(symbol)
        params = {"pair": m.id, "count": depth}
        result = self._result(ep.DEPTH, params, **kw)
        return parse.order_book(m, self._only(result, m))

    def candles(
        self,
        symbol: str,
        interval: str = "1m",
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        if interval not in ep.INTERVALS:
            raise errors.BadRequest(
                f"Kraken has no {interval!r} candles; use one of {', '.join(ep.INTERVALS)}",
                exchange=self.exchange,
            )
        m = self.market(symbol)
        params = {"pair": m.id, "interval": ep.INTERVALS[interval], "since": _unix(since)}
        result = self._result(ep.OHLC, params)
        rows = self._only(result, m)
        found = parse.candles(m, interval, rows)
        return found[-limit:] if limit else found

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        m = self.market(symbol)
        params = {"pair": m.id, "since": _unix(since), "count": limit}
        rows = self._only(self._result(ep.TRADES, params), m)
        found = parse.public_trades(m, rows)
        return found[-limit:] if limit else found

    def _only(self, result: dict[str, Any], m: Market) -> Any:
        """The one pair entry of a single-pair answer (next to cursors such as ``last``)."""
        if m.id in result:
            return result[m.id]
        entries = [v for k, v in result.items() if k != "last"]
        if len(entries) != 1:
            raise errors.BadResponse(
                f"Kraken's answer for {m.symbol} has no {m.id} entry", exchange=self.exchange
            )
        return entries[0]

    # -- account ---------------------------------------------------------------------------------

    def balances(self) -> dict[str, Balance]:
        try:
            result = self._result(ep.BALANCE_EX)
        except errors.ExchangeError as exc:
            if not str(exc.code or "").startswith("EGeneral:Unknown method"):
                raise
            result = self._result(ep.BALANCE)  # an older API (or a proxy) without BalanceEx
        return parse.balances(result)

    def _orders(self, rows: dict[str, Any], symbol: str | None) -> list[Order]:
        wanted = self.market(symbol).symbol if symbol else None
        out = []
        for txid, info in rows.items():
            try:
                order = parse.order(txid, info, self._pair)
            except errors.BadSymbol:
                log.warning("kraken order %s on an unlisted pair skipped", txid)
                continue
            if wanted is None or order.symbol == wanted:
                out.append(order)
        return sorted(out, key=lambda o: o.created or datetime.min.replace(tzinfo=UTC))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self._orders(self._result(ep.OPEN_ORDERS).get("open", {}), symbol)

    def closed_orders(
        self, symbol: str | None = None, since: datetime | None = None
    ) -> list[Order]:
        rows = self._paged(ep.CLOSED_ORDERS, "closed", {"start": _unix(since)})
        return self._orders(rows, symbol)

    def _paged(
        self, endpoint: Any, key: str, params: dict[str, Any], enough: int | None = None
    ) -> dict[str, Any]:
        """Every row of a paged private list (``ofs`` = rows already read)."""
        rows: dict[str, Any] = {}
        for _ in range(MAX_PAGES):
            result = self._result(endpoint, {**params, "ofs": len(rows) or None})
            page = result.get(key) or {}
            rows.update(page)
            if not page or len(rows) >= int(result.get("count", 0)):
                break
            if enough is not None and len(rows) >= enough:
                break
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

    def place_order(
        self,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> Order:
        """Place a market or limit order (``validate=True``: Kraken checks it, places nothing).

        A validate-only answer comes back as an Order with ``id == ""`` (nothing was placed),
        status ``pending`` and ``raw["validate"] is True``.
        """
        m = self.market(symbol)
        side, kind = Side(side), OrderType(type)
        amount = to_decimal(amount)
        params: dict[str, Any] = {
            "pair": m.ids.get("altname", m.id),
            "type": side.value,
            "ordertype": kind.value,
            "volume": _num(amount),
        }
        if amount <= 0:
            raise errors.InvalidOrder("the amount must be positive", exchange=self.exchange)
        if kind is OrderType.LIMIT:
            if price is None:
                raise errors.InvalidOrder("a limit order needs a price", exchange=self.exchange)
            params["price"] = _num(to_decimal(price))
        elif price is not None:
            raise errors.InvalidOrder(
                "a market order takes no price; give type='limit' to set one",
                exchange=self.exchange,
            )
        tif = TimeInForce(time_in_force) if time_in_force else None
        if tif in (TimeInForce.FOK, TimeInForce.GTD):
            raise errors.InvalidOrder(
                f"Kraken spot orders support GTC and IOC here, not {tif}", exchange=self.exchange
            )
        if tif is not None and kind is OrderType.LIMIT:
            params["timeinforce"] = tif.value
        if client_id:
            quotes.check_client_id(client_id)
            params["cl_ord_id"] = client_id
        if validate:
            params["validate"] = True
        result = self._result(ep.ADD_ORDER, params)
        if validate or not result.get("txid"):
            return Order(
                id="",
                symbol=m.symbol,
                side=side,
                type=kind,
                status=OrderStatus.PENDING,
                amount=amount,
                price=params.get("price"),
                client_id=client_id,
                time_in_force=tif,
                raw={"validate": True, **result},
            )
        txid = result["txid"][0]
        try:
            return self.order(txid)
        except errors.XestError as exc:
            # Placed, but its state could not be read back: say so rather than fail.
            log.warning("kraken order %s placed; reading it back failed: %s", txid, exc)
            return Order(
                id=txid,
                symbol=m.symbol,
                side=side,
                type=kind,
                status=OrderStatus.PENDING,
                amount=amount,
                price=params.get("price"),
                client_id=client_id,
                time_in_force=tif,
                raw=result,
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
        rows = self._paged(
            ep.TRADES_HISTORY, "trades", {"start": _unix(since)}, enough=None if wanted else limit
        )
        out = []
        for txid, info in rows.items():
            try:
                trade = parse.trade(txid, info, self._pair)
            except errors.BadSymbol:
                continue
            if wanted is None or trade.symbol == wanted:
                out.append(trade)
        out.sort(key=lambda t: t.timestamp)
        if limit:
            out = out[:limit] if since else out[-limit:]
        return out

    # -- quotes ----------------------------------------------------------------------------------

    def _server_now(self) -> datetime:
        """The exchange's time now: the remote-clock estimate when there is one."""
        clock = getattr(self.transport, "clock", None)
        if clock is not None and hasattr(clock, "now"):
            estimate = clock.now()
            if estimate.error != float("inf"):
                return estimate.time
            sent = time.monotonic()
            reading = self.server_time()
            clock.observe(reading.time, sent, time.monotonic(), resolution=reading.resolution)
            return clock.now().time
        return self.server_time().time + self.time_resolution / 2

    def quote(
        self,
        symbol: str,
        side: Side | str,
        amount: Decimal,
        *,
        valid_for: timedelta | None = None,
    ) -> Quote:
        m = self.market(symbol)
        side = Side(side)
        amount = to_decimal(amount)
        if amount <= 0:
            raise errors.InvalidOrder("the amount must be positive", exchange=self.exchange)
        if m.amount_step and m.round_amount(amount) != amount:
            raise errors.InvalidOrder(
                f"{amount} is finer than {m.symbol}'s amount step {m.amount_step}",
                exchange=self.exchange,
            )
        book = self.order_book(m.symbol, 500, cache=False)
        worst, cost, levels = quotes.walk(book, side, amount)
        now = self._server_now()
        return Quote(
            id=quotes.new_quote_id(),
            symbol=m.symbol,
            side=side,
            amount=amount,
            price=worst,
            cost=amount * worst,
            expires_at=now + (valid_for or self.quote_validity),
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

    def accept_quote(self, quote: Quote) -> Order:
        """Execute a quote: a limit IOC order at the quoted price, with a client id derived from
        the quote id (so a lost answer can be looked up by it)."""
        if self._server_now() >= quote.expires_at:
            raise errors.QuoteExpired(
                f"quote {quote.id} expired at {quote.expires_at:%H:%M:%S} (server time); "
                "ask for a new quote",
                exchange=self.exchange,
            )
        return self.place_order(
            quote.symbol,
            quote.side,
            OrderType.LIMIT,
            quote.amount,
            quote.price,
            time_in_force=TimeInForce.IOC,
            client_id=quotes.client_id_for(quote.id),
        )
