"""Binance spot REST API connector, with the convert (RFQ) API for quotes.

Base URL: ``https://api.binance.com`` by default; the spot test network
(:data:`TESTNET_URL`) or a simulator is one ``url=`` (or ``XEST_BINANCE_URL``) away. Options:
``recv_window`` (ms, default 5000, also ``XEST_BINANCE_RECV_WINDOW``) and the convert follow-up
``convert_poll_interval`` / ``convert_timeout`` (seconds).

Symbols: Binance needs the symbol to look an order up. ``order()`` and ``cancel_order()`` without
``symbol=`` search the account's open orders (one call, weight 80); an order that is no longer
open needs ``symbol=``. ``my_trades()`` and ``closed_orders()`` without ``symbol=`` scan the
markets whose base and quote assets the account both holds (at most :data:`MAX_SCAN`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from xest import errors
from xest.connector import Connector
from xest.credentials import Credentials
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
    Status,
    Ticker,
    TimeInForce,
    Trade,
    to_decimal,
)
from xest_binance import endpoints as ep
from xest_binance import parse
from xest_binance.errors import error_for
from xest_binance.filters import check_order
from xest_binance.signing import DEFAULT_RECV_WINDOW, MAX_RECV_WINDOW, sign_request, wire_value

TESTNET_URL = "https://testnet.binance.vision"
KLINE_INTERVALS = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)
# Convert quote lifetimes Binance offers (validTime), shortest first.
VALID_TIMES = (("10s", 10), ("30s", 30), ("1m", 60), ("2m", 120))
# Without a symbol, per-symbol histories scan at most this many markets (20 weight each).
MAX_SCAN = 20
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


class BinanceConnector(Connector):
    exchange = "binance"
    default_url = "https://api.binance.com"
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
    rate_limits = ep.RATE_LIMITS
    time_resolution = timedelta(milliseconds=1)
    candle_intervals = KLINE_INTERVALS

    def __init__(
        self,
        transport: Any,
        credentials: Credentials | None = None,
        *,
        recv_window: int | None = None,
        convert_poll_interval: float = 0.2,
        convert_timeout: float = 10.0,
    ) -> None:
        super().__init__(transport, credentials)
        if recv_window is None:
            recv_window = int(os.environ.get("XEST_BINANCE_RECV_WINDOW", DEFAULT_RECV_WINDOW))
        if not 0 < recv_window <= MAX_RECV_WINDOW:
            raise errors.ConfigError(
                f"recv_window must be between 1 and {MAX_RECV_WINDOW} ms, got {recv_window}"
            )
        self.recv_window = recv_window
        self.convert_poll_interval = convert_poll_interval
        self.convert_timeout = convert_timeout
        if getattr(transport, "clock", None) is None:
            # Signed timestamps come from the estimated server clock; give a bare transport one.
            from xest.clock import RemoteClock

            transport.clock = RemoteClock(resolution=self.time_resolution.total_seconds())

    @classmethod
    def create(
        cls,
        url: str | None = None,
        credentials: Credentials | None = None,
        *,
        recv_window: int | None = None,
        convert_poll_interval: float = 0.2,
        convert_timeout: float = 10.0,
        **transport_options: Any,
    ) -> BinanceConnector:
        from xest.http import Transport

        transport = Transport(
            cls.exchange, url or cls.default_url, rate_limits=cls.rate_limits, **transport_options
        )
        return cls(
            transport,
            credentials,
            recv_window=recv_window,
            convert_poll_interval=convert_poll_interval,
            convert_timeout=convert_timeout,
        )

    # -- plumbing ---------------------------------------------------------------------------------

    def sign(self, request: Any, credentials: Credentials, context: Any) -> None:
        sign_request(
            request, credentials.key, credentials.secret, context.timestamp_ms(), self.recv_window
        )

    def check_response(self, response: Any) -> None:
        error = error_for(response.status, response.data, response.headers, response.endpoint.path)
        if error is not None:
            raise error

    def request(self, endpoint: Any, params: Any = None, **kw: Any) -> Any:
        """As the base, plus: after -1021 re-read the server clock, and retry a read once."""
        try:
            return super().request(endpoint, params, **kw)
        except errors.InvalidNonce:
            if not endpoint.signed:
                raise
            self.resync_clock()
            if not endpoint.retry:
                raise
            return super().request(endpoint, params, **kw)

    def resync_clock(self) -> ServerTime:
        """Read the server time and feed it to the transport's remote clock."""
        sent = time.monotonic()
        reading = self.server_time()
        received = time.monotonic()
        self.transport.clock.observe(reading.time, sent, received, resolution=reading.resolution)
        return reading

    def _now(self) -> datetime:
        return self.transport.clock.now().time

    def _market_by_id(self, market_id: str) -> Market | None:
        if self._markets is None:
            self._load_markets()
        return (self._markets or {}).get(market_id)

    def _load_markets(self) -> None:
        markets = self.markets()
        self._markets = {m.symbol: m for m in markets}
        self._markets.update({m.id: m for m in markets if m.id not in self._markets})

    def _need_credentials(self, operation: str) -> None:
        if self.credentials is None:
            raise errors.AuthenticationError(
                f"{operation}() needs API credentials: configure a Binance account "
                "(see `xest accounts list`) or pass key= and secret=",
                exchange=self.exchange,
            )

    # -- exchange ---------------------------------------------------------------------------------

    def ping(self) -> None:
        """Test connectivity (``/api/v3/ping``)."""
        self.request(ep.PING)

    def status(self) -> ExchangeStatus:
        data = self.request(ep.SYSTEM_STATUS)
        status = Status.ONLINE if int(data["status"]) == 0 else Status.MAINTENANCE
        return ExchangeStatus(status=status, message=str(data.get("msg", "")), raw=data)

    def server_time(self) -> ServerTime:
        data = self.request(ep.TIME)
        return ServerTime(
            time=parse.ms(data["serverTime"]), resolution=self.time_resolution, raw=data
        )

    def markets(self) -> list[Market]:
        return parse.markets(self.request(ep.EXCHANGE_INFO))

    def ticker(self, symbol: str) -> Ticker:
        m = self.market(symbol)
        data = self.request(ep.weighted(ep.TICKER_24HR, 2), {"symbol": m.id})
        return parse.ticker(data, m.symbol)

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        """Several tickers in one call (``symbols=[...]``), or every symbol's when None."""
        if symbols is not None:
            if isinstance(symbols, str):
                symbols = [symbols]
            wanted = [self.market(s) for s in symbols]
            if not wanted:
                return {}
            ids = json.dumps([m.id for m in wanted], separators=(",", ":"))
            rows = self.request(
                ep.weighted(ep.TICKER_24HR, ep.ticker_weight(len(wanted))), {"symbols": ids}
            )
        else:
            rows = self.request(ep.weighted(ep.TICKER_24HR, ep.ticker_weight(None)))
        result = {}
        for row in rows:
            m = self._market_by_id(row["symbol"])
            if m is not None:
                result[m.symbol] = parse.ticker(row, m.symbol)
        return result

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        m = self.market(symbol)
        limit = 100 if depth is None else int(depth)
        if not 1 <= limit <= 5000:
            raise errors.BadRequest(
                f"depth must be between 1 and 5000, got {depth}", exchange=self.exchange
            )
        data = self.request(
            ep.weighted(ep.DEPTH, ep.depth_weight(limit)), {"symbol": m.id, "limit": limit}
        )
        return parse.order_book(data, m.symbol)

    def candles(
        self,
        symbol: str,
        interval: str = "1m",
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        if interval not in KLINE_INTERVALS:
            raise errors.BadRequest(
                f"Binance has no {interval!r} candles; use one of {', '.join(KLINE_INTERVALS)}",
                exchange=self.exchange,
            )
        m = self.market(symbol)
        params: dict[str, Any] = {"symbol": m.id, "interval": interval}
        if since is not None:
            params["startTime"] = parse.to_ms(since)
        if limit is not None:
            params["limit"] = max(1, min(int(limit), 1000))
        rows = self.request(ep.KLINES, params)
        return [parse.candle(row, m.symbol, interval) for row in rows]

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        """Recent public trades (``/api/v3/trades``); ``since`` filters what it returns."""
        m = self.market(symbol)
        params: dict[str, Any] = {"symbol": m.id}
        if limit is not None:
            params["limit"] = max(1, min(int(limit), 1000))
        rows = [parse.public_trade(r, m.symbol) for r in self.request(ep.TRADES, params)]
        if since is not None:
            rows = [t for t in rows if t.timestamp is not None and t.timestamp >= since]
        return rows

    # -- account ----------------------------------------------------------------------------------

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
            params: dict[str, Any] = {"symbol": m.id}
            if since is not None:
                params["startTime"] = parse.to_ms(since)
            orders += [parse.order(row, m.symbol) for row in self.request(ep.ALL_ORDERS, params)]
        return sorted((o for o in orders if o.is_final), key=_created)

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
        return parse.order(self.request(ep.QUERY_ORDER, {"symbol": m.id, **ids}), m.symbol)

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
        return parse.order(self.request(ep.CANCEL_ORDER, {"symbol": m.id, **ids}), m.symbol)

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
                params["limit"] = max(1, min(int(limit), 1000))
            trades += [parse.trade(row, m.symbol) for row in self.request(ep.MY_TRADES, params)]
        trades.sort(key=lambda t: t.timestamp)
        return trades[-limit:] if limit else trades

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
        """Place (or, with ``validate=True``, only test) a market or limit order.

        The amount and price are checked against the market's filters first: a breach raises
        InvalidOrder naming the filter, and nothing is sent. ``validate=True`` asks Binance to
        check the order (``/api/v3/order/test``) and returns an unplaced snapshot (id ``""``,
        status pending).
        """
        self._need_credentials("place_order")
        side_, type_ = _enum(Side, side, "side"), _enum(OrderType, type, "type")
        qty = _decimal(amount, "amount")
        px = None if price is None else _decimal(price, "price")
        if type_ is OrderType.MARKET and px is not None:
            raise errors.InvalidOrder(
                "a market order takes no price; use type='limit'", exchange=self.exchange
            )
        m = self.market(symbol)
        check_order(m, side_, type_, qty, px)
        params: dict[str, Any] = {
            "symbol": m.id,
            "side": side_.value.upper(),
            "type": type_.value.upper(),
        }
        tif = self._time_in_force(type_, time_in_force)
        if tif is not None:
            params["timeInForce"] = tif
        params["quantity"] = wire_value(qty)
        if px is not None:
            params["price"] = wire_value(px)
        if client_id is not None:
            if not _CLIENT_ID.match(client_id):
                raise errors.InvalidOrder(
                    f"client id {client_id!r}: Binance accepts 1-36 of A-Z a-z 0-9 . : / _ -",
                    exchange=self.exchange,
                )
            params["newClientOrderId"] = client_id
        if validate:
            self.request(ep.TEST_ORDER, params)
            return Order(
                id="",
                symbol=m.symbol,
                side=side_,
                type=type_,
                status=OrderStatus.PENDING,
                amount=qty,
                price=px,
                client_id=client_id,
                time_in_force=tif,
                raw={},
            )
        params["newOrderRespType"] = "FULL"
        return parse.order(self.request(ep.NEW_ORDER, params), m.symbol)

    # -- convert quotes ---------------------------------------------------------------------------

    def quote(
        self,
        symbol: str,
        side: Side | str,
        amount: Decimal,
        *,
        valid_for: timedelta | None = None,
    ) -> Quote:
        """A firm convert quote to buy or sell ``amount`` of the base asset of ``symbol``."""
        self._need_credentials("quote")
        side_ = _enum(Side, side, "side")
        qty = _decimal(amount, "amount")
        if qty <= 0:
            raise errors.InvalidQuote(f"amount must be positive, got {qty}", exchange=self.exchange)
        m = self.market(symbol)
        if side_ is Side.BUY:
            params = {"fromAsset": m.quote_id, "toAsset": m.base_id, "toAmount": wire_value(qty)}
        else:
            params = {"fromAsset": m.base_id, "toAsset": m.quote_id, "fromAmount": wire_value(qty)}
        params["validTime"] = _valid_time(valid_for)
        created = self._now()
        data = self.request(ep.CONVERT_GET_QUOTE, params)
        if not data.get("quoteId"):
            raise errors.InsufficientFunds(
                f"Binance gave no quote id for {side_} {qty} {m.symbol}: it only quotes what the "
                "account can pay for",
                exchange=self.exchange,
            )
        return parse.quote(data, m.symbol, side_, created)

    def accept_quote(self, quote: Quote) -> Order:
        """Accept a convert quote, then follow the convert order to its final state (bounded by
        ``convert_timeout``; a still-processing order comes back pending)."""
        self._need_credentials("accept_quote")
        accepted = self.request(ep.CONVERT_ACCEPT_QUOTE, {"quoteId": quote.id})
        order = parse.convert_order(accepted, quote)
        deadline = time.monotonic() + self.convert_timeout
        while not order.is_final:
            data = self.request(ep.CONVERT_ORDER_STATUS, {"orderId": order.id})
            order = parse.convert_order({**accepted, **data}, quote)
            if order.is_final or time.monotonic() >= deadline:
                break
            time.sleep(self.convert_poll_interval)
        return order

    # -- helpers ----------------------------------------------------------------------------------

    def _order(self, row: dict[str, Any]) -> Order:
        m = self._market_by_id(row["symbol"])
        symbol = m.symbol if m is not None else row["symbol"]
        return parse.order(row, symbol)

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
        if self._markets is None:
            self._load_markets()
        markets = {m.id: m for m in (self._markets or {}).values()}
        found = [m for m in markets.values() if m.base_id in held and m.quote_id in held]
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

    def _time_in_force(self, type_: OrderType, tif: TimeInForce | str | None) -> str | None:
        if type_ is OrderType.MARKET:
            if tif is not None:
                raise errors.InvalidOrder(
                    "Binance market orders take no time in force", exchange=self.exchange
                )
            return None
        value = _enum(TimeInForce, tif or TimeInForce.GTC, "time_in_force")
        if value is TimeInForce.GTD:
            raise errors.InvalidOrder(
                "Binance spot has no GTD orders; use GTC, IOC or FOK", exchange=self.exchange
            )
        return value.value


def _created(order: Order) -> float:
    return order.created.timestamp() if order.created else 0.0


def _enum(cls: Any, value: Any, what: str) -> Any:
    if isinstance(value, cls):
        return value
    text = str(value).upper() if cls is TimeInForce else str(value).lower()
    try:
        return cls(text)
    except ValueError:
        choices = ", ".join(v.value for v in cls)
        raise errors.InvalidOrder(
            f"{what} must be one of {choices}, got {value!r}", exchange="binance"
        ) from None


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidOrder(f"{what}: {exc}", exchange="binance") from None


def _valid_time(valid_for: timedelta | None) -> str:
    """The shortest Binance quote lifetime that covers ``valid_for`` (10 s by default)."""
    if valid_for is None:
        return VALID_TIMES[0][0]
    seconds = valid_for.total_seconds()
    for name, length in VALID_TIMES:
        if seconds <= length:
            return name
    raise errors.InvalidQuote(
        f"Binance quotes live at most 2 minutes; valid_for={valid_for} is too long",
        exchange="binance",
    )


__all__ = ["TESTNET_URL", "BinanceConnector"]
