"""Connector for Example, a small fictional exchange (see ``README.md`` for its REST dialect).

The endpoints are declared in ``endpoints.py`` and the error codes in ``errors.py``; here: signing,
the operations, and parsing the JSON into :mod:`xest.models` (in small methods, one place per
conversion: a connector this small needs no ``parse.py`` of its own).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from xest import errors
from xest.connector import Connector, OrderRequest
from xest.credentials import Credentials
from xest.http import Endpoint, PreparedRequest, Response, SigningContext, WeightWindow
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    PublicTrade,
    Quote,
    ServerTime,
    Side,
    Status,
    Ticker,
)
from xest_example.endpoints import (
    ACCEPT,
    BALANCES,
    BOOK,
    CANCEL,
    CANDLES,
    MARKETS,
    OPEN_ORDERS,
    ORDER,
    ORDER_KEYS,
    ORDER_STATUSES,
    PLACE,
    QUOTE,
    QUOTE_KEYS,
    STATUS,
    STATUSES,
    TICKER,
    TIME,
    TRADES,
)
from xest_example.errors import ERRORS


class ExampleConnector(Connector):
    exchange = "example"
    default_url = "https://api.example.invalid"
    capabilities = frozenset(
        {
            "status",
            "server_time",
            "markets",
            "ticker",
            "order_book",
            "candles",
            "trades",
            "balances",
            "open_orders",
            "order",
            "place_order",
            "cancel_order",
            "quote",
            "accept_quote",
        }
    )
    rate_limits: ClassVar[Mapping[str, Any]] = {
        "public": WeightWindow(limit=1200, window=60),
        "private": WeightWindow(limit=600, window=60),
    }
    time_resolution = timedelta(milliseconds=1)
    candle_intervals = {"1m": "1m", "5m": "5m", "1h": "1h", "1d": "1d"}  # ours → theirs

    # -- conversions: one place each, so every parser follows the same rules ---------------------

    def number(self, value: Any) -> Decimal:
        """The exchange sends numbers as strings; Decimal keeps every digit."""
        return Decimal(value)

    def time(self, ms: int) -> datetime:
        """The exchange's times are UNIX milliseconds."""
        return datetime.fromtimestamp(ms / 1000, UTC)

    # -- signing and errors --------------------------------------------------------------------

    def sign(self, request: PreparedRequest, credentials: Credentials, context: SigningContext):
        """HMAC-SHA256 of timestamp + method + path + payload, hex, in three headers."""
        payload = urlencode(request.params)
        if request.method in ("GET", "DELETE"):
            request.query = payload
            signed = f"?{payload}" if payload else ""
        else:
            request.body = payload
            request.headers["Content-Type"] = "application/x-www-form-urlencoded"
            signed = payload
        timestamp = str(context.timestamp_ms())
        message = f"{timestamp}{request.method}{request.path}{signed}".encode()
        digest = hmac.new(credentials.secret.encode(), message, hashlib.sha256).hexdigest()
        request.headers.update(
            {"X-EX-KEY": credentials.key, "X-EX-TIMESTAMP": timestamp, "X-EX-SIGNATURE": digest}
        )

    def check_response(self, response: Response) -> None:
        data = response.data
        if not (isinstance(data, dict) and isinstance(data.get("error"), dict)):
            return
        code = str(data["error"].get("code", ""))
        message = str(data["error"].get("message", "")) or code
        cls = self.error_class(code, response.status)
        advice = ERRORS.classify(code)[1]
        text = f"{message} ({code})" + (f": {advice}" if advice else "")
        raise cls(text, exchange=self.exchange, code=code)

    def error_class(self, code: str, status: int) -> type[errors.XestError]:
        known = ERRORS.get(code)
        if known is not None:
            return known
        return errors.ExchangeUnavailable if status >= 500 else errors.ExchangeError

    # -- answers: a shape we do not know is a BadResponse, never a KeyError ---------------------

    def fetch(self, endpoint: Endpoint, params: Mapping[str, Any] | None = None, *keys: str):
        """Call ``endpoint``; its answer must be an object with ``keys``."""
        return self.shaped(self.request(endpoint, params), keys, endpoint.path)

    def shaped(self, data: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        if isinstance(data, dict) and all(k in data for k in keys):
            return data
        raise errors.BadResponse(
            f"unexpected answer from {what}: wanted an object with {', '.join(keys)}, got "
            f"{str(data)[:120]!r}; the exchange's API may have changed",
            exchange=self.exchange,
        )

    def rows(self, data: dict[str, Any], key: str) -> list[Any]:
        rows = self.shaped(data, (key,), key)[key]
        if not isinstance(rows, list):
            raise errors.BadResponse(
                f"{key} is not a list: {str(rows)[:120]!r}", exchange=self.exchange
            )
        return rows

    # -- public ---------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        data = self.fetch(STATUS, None, "status")
        return ExchangeStatus(
            status=STATUSES.get(data["status"], Status.UNKNOWN),
            message=data.get("message", ""),
            raw=data,
        )

    def fetch_server_time(self) -> ServerTime:
        data = self.fetch(TIME, None, "serverTime")
        return ServerTime(self.time(data["serverTime"]), self.time_resolution, raw=data)

    def markets(self) -> list[Market]:
        return [self._market(m) for m in self.rows(self.fetch(MARKETS), "markets")]

    def _market(self, m: dict[str, Any]) -> Market:
        return Market(
            symbol=f"{m['base']}/{m['quote']}",
            id=m["id"],
            base=m["base"],
            quote=m["quote"],
            base_id=m["base"],
            quote_id=m["quote"],
            active=m["state"] == "open",
            status=m["state"],
            price_step=self.number(m["tick"]),
            amount_step=self.number(m["lot"]),
            min_amount=self.number(m["minSize"]),
            min_cost=self.number(m["minNotional"]),
            raw=m,
        )

    def ticker(self, symbol: str) -> Ticker:
        market = self.market(symbol)
        t = self.fetch(TICKER, {"market": market.id}, "market", "time")
        optional = {
            k: self.number(t[k]) if t.get(k) is not None else None
            for k in ("bid", "ask", "last", "open", "high", "low", "volume")
        }
        return Ticker(
            symbol=market.symbol, id=market.id, timestamp=self.time(t["time"]), raw=t, **optional
        )

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        market = self.market(symbol)
        b = self.fetch(BOOK, {"market": market.id, "depth": depth}, "bids", "asks", "time")
        return OrderBook(
            symbol=market.symbol,
            bids=[(self.number(p), self.number(a)) for p, a in b["bids"]],
            asks=[(self.number(p), self.number(a)) for p, a in b["asks"]],
            timestamp=self.time(b["time"]),
            raw=b,
        )

    def fetch_candles(
        self, market: Market, interval: str, since: datetime | None, limit: int | None
    ) -> list[Candle]:
        # The base checked the interval (one of candle_intervals) and the limit.
        start = int(since.timestamp() * 1000) if since else None
        params = {"market": market.id, "interval": interval, "start": start, "limit": limit}
        rows = self.rows(self.fetch(CANDLES, params), "candles")
        return [
            Candle(
                symbol=market.symbol,
                interval=interval,
                open_time=self.time(t),
                open=self.number(o),
                high=self.number(h),
                low=self.number(lo),
                close=self.number(c),
                volume=self.number(v),
                raw=[t, o, h, lo, c, v],
            )
            for t, o, h, lo, c, v in rows
        ]

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        market = self.market(symbol)
        rows = self.rows(self.fetch(TRADES, {"market": market.id, "limit": limit}), "trades")
        trades = [
            PublicTrade(
                symbol=market.symbol,
                price=self.number(t["price"]),
                amount=self.number(t["size"]),
                side=t["side"],
                timestamp=self.time(t["time"]),
                id=str(t["id"]),
                raw=t,
            )
            for t in rows
        ]
        if since is not None:
            trades = [t for t in trades if t.timestamp and t.timestamp >= since]
        return trades

    # -- account --------------------------------------------------------------------------------

    def balances(self) -> dict[str, Balance]:
        rows = self.rows(self.fetch(BALANCES), "balances")
        return {
            b["asset"]: Balance(
                asset=b["asset"],
                free=self.number(b["available"]),
                locked=self.number(b["held"]),
                id=b["asset"],
                raw=b,
            )
            for b in rows
        }

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        params = {"market": self.market(symbol).id} if symbol else {}
        return [self._order(o) for o in self.rows(self.fetch(OPEN_ORDERS, params), "orders")]

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        return self._order(self.fetch(ORDER, _order_ref(order_id, client_id)))

    def create_order(self, request: OrderRequest, market: Market) -> Order:
        # The base checked and rounded everything, and set a client id.
        params = {
            "market": market.id,
            "side": request.side.value,
            "type": request.type.value,
            "size": request.amount,
            "price": request.price,
            "tif": request.time_in_force,
            "clientId": request.client_id,
            "dryRun": request.validate or None,
        }
        return self._order(self.fetch(PLACE, params))

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        return self._order(self.fetch(CANCEL, _order_ref(order_id, client_id)))

    def create_quote(
        self, market: Market, side: Side, amount: Decimal, valid_for: timedelta | None
    ) -> Quote:
        ttl = max(1, int(valid_for.total_seconds())) if valid_for else None
        params = {"market": market.id, "side": side.value, "size": amount, "ttl": ttl}
        q = self.fetch(QUOTE, params, *QUOTE_KEYS)
        return Quote(
            id=q["quoteId"],
            symbol=market.symbol,
            side=q["side"],
            amount=self.number(q["size"]),
            price=self.number(q["price"]),
            cost=self.number(q["cost"]),
            expires_at=self.time(q["expiresAt"]),
            created_at=self.time(q["createdAt"]),
            raw=q,
        )

    def accept_quote(self, quote: Quote) -> Order:
        return self._order(self.fetch(ACCEPT, {"quoteId": quote.id}))

    def _order(self, o: dict[str, Any]) -> Order:
        o = self.shaped(o, ORDER_KEYS, "an order")
        market = self.market(o["market"])
        return Order(
            id=str(o["id"]),
            symbol=market.symbol,
            side=o["side"],
            type=o["type"],
            status=ORDER_STATUSES[o["status"]],
            amount=self.number(o["size"]),
            filled=self.number(o["filled"]),
            price=self.number(o["price"]) if o.get("price") is not None else None,
            average_price=self.number(o["avgPrice"]) if o.get("avgPrice") is not None else None,
            client_id=o.get("clientId"),
            time_in_force=o.get("tif"),
            created=self.time(o["created"]),
            updated=self.time(o["updated"]),
            raw=o,
        )


def _order_ref(order_id: str | None, client_id: str | None) -> dict[str, str]:
    if order_id:
        return {"id": order_id}
    if client_id:
        return {"clientId": client_id}
    raise errors.BadRequest("give an order id or a client id", exchange="example")
