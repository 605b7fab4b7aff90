"""Kraken's WebSocket API v2 as xest streams: public ``ticker``, ``book`` (checksummed) and
``trade``; private ``executions`` and ``balances`` with a token from REST GetWebSocketsToken.

Endpoints: ``wss://ws.kraken.com/v2`` (public), ``wss://ws-auth.kraken.com/v2`` (private).
Messages are JSON objects: ``{"method": "subscribe", "params": {...}, "req_id": n}`` out;
``{"channel": ..., "type": "snapshot"|"update", "data": [...]}`` in, plus ``heartbeat`` (about
once a second while subscribed) and ``status`` on connect.

The book: a snapshot, then updates with absolute quantities (0 removes a level); after each
update the book is truncated to the subscribed depth (Kraken does not announce levels that fall
out of scope). Every snapshot and update carries ``checksum``: CRC32 (unsigned) of the top 10
asks (low to high) then the top 10 bids (high to low), each level as its price then its
quantity, both printed with the pair's precision, the decimal point removed and leading zeros
stripped. The feed verifies it on every message; a mismatch discards the book and resyncs.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from xest import errors
from xest.models import Balance, Market, Order, PublicTrade, Ticker
from xest.streams import Feed, LocalBook, Resync
from xest.streams.feed import Connection
from xest_kraken import endpoints as ep
from xest_kraken.markets import unify_asset

PUBLIC_URL = "wss://ws.kraken.com/v2"
PRIVATE_URL = "wss://ws-auth.kraken.com/v2"
DEPTHS = (10, 25, 100, 500, 1000)  # the depths Kraken's book channel accepts
_req_ids = itertools.count(1)


def ws_symbol(market: Market) -> str:
    """v2 names pairs by their common asset codes: ``BTC/USD`` (v1 said ``XBT/USD``)."""
    return market.symbol


def decimals(step: Decimal | None, fallback: Any = None) -> int | None:
    if fallback is not None:
        return int(fallback)
    if step is None:
        return None
    exponent = step.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else None


def checksum_text(value: Decimal, places: int | None) -> str:
    """A price or quantity as the checksum prints it: fixed precision, no point, no leading 0s."""
    text = format(value, "f") if places is None else f"{value:.{places}f}"
    return text.replace(".", "").lstrip("0")


def checksum(
    bids: Sequence[tuple[Decimal, Decimal]],
    asks: Sequence[tuple[Decimal, Decimal]],
    price_places: int | None,
    qty_places: int | None,
) -> int:
    """Kraken's v2 book checksum of the top 10 levels (``bids``/``asks`` best first)."""
    parts = [
        checksum_text(p, price_places) + checksum_text(q, qty_places)
        for p, q in [*asks[:10], *bids[:10]]
    ]
    return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


def _subscribe(conn: Connection, params: dict[str, Any]) -> None:
    conn.send({"method": "subscribe", "params": params, "req_id": next(_req_ids)})


def _ack(message: dict[str, Any], exchange: str = "kraken") -> None:
    """A subscribe acknowledgement: a refusal becomes the xest error it means."""
    if message.get("success", True):
        return
    text = str(message.get("error", "subscription refused"))
    if "symbol" in text.lower() or "pair" in text.lower():
        raise errors.BadSymbol(f"Kraken refused the subscription: {text}", exchange=exchange)
    if "token" in text.lower() or "auth" in text.lower():
        raise errors.AuthenticationError(
            f"Kraken refused the private subscription: {text}; check the API key's "
            "WebSocket permission",
            exchange=exchange,
        )
    raise errors.ExchangeError(f"Kraken refused the subscription: {text}", exchange=exchange)


class KrakenFeed(Feed):
    channel = ""

    def __init__(self, connector: Any, market: Market | None = None) -> None:
        self.connector = connector
        self.market = market

    def url(self) -> str:
        return self.connector.stream_url("public")

    def describe(self) -> str:
        where = f" {self.market.symbol}" if self.market else ""
        return f"kraken {self.kind}{where}"

    def handle(self, message: Any) -> Iterable[Any]:
        if not isinstance(message, dict):
            raise errors.BadResponse("Kraken sent a stream message that is not an object")
        if message.get("method") in ("subscribe", "unsubscribe"):
            _ack(message)
            return ()
        if message.get("channel") != self.channel:
            return ()  # heartbeat, status, pong
        return self.on_data(message.get("type", "update"), message.get("data") or [])

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        raise NotImplementedError


class TickerFeed(KrakenFeed):
    kind = "ticker"
    channel = "ticker"

    def open(self, conn: Connection) -> None:
        assert self.market is not None
        _subscribe(conn, {"channel": "ticker", "symbol": [ws_symbol(self.market)]})

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        m = self.market
        assert m is not None
        for row in data:
            yield Ticker(
                symbol=m.symbol,
                id=m.id,
                bid=row.get("bid"),
                ask=row.get("ask"),
                last=row.get("last"),
                high=row.get("high"),
                low=row.get("low"),
                volume=row.get("volume"),
                vwap=row.get("vwap"),
                raw=row,
            )


class BookFeed(KrakenFeed):
    kind = "book"
    channel = "book"

    def __init__(self, connector: Any, market: Market, depth: int = 10) -> None:
        super().__init__(connector, market)
        self.depth = depth
        self.subscribed = next((d for d in DEPTHS if d >= depth), DEPTHS[-1])
        raw = market.raw if isinstance(market.raw, dict) else {}
        self.price_places = decimals(market.price_step, raw.get("pair_decimals"))
        self.qty_places = decimals(market.amount_step, raw.get("lot_decimals"))
        self.book = LocalBook(market.symbol, self.subscribed, id=market.id)

    def open(self, conn: Connection) -> None:
        assert self.market is not None
        _subscribe(
            conn,
            {
                "channel": "book",
                "symbol": [ws_symbol(self.market)],
                "depth": self.subscribed,
                "snapshot": True,
            },
        )

    def reset(self) -> None:
        self.book.clear()

    def synced(self) -> bool:
        return self.book.synced

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        book = self.book
        for row in data:
            if type_ == "snapshot":
                book.load(_levels(row.get("bids")), _levels(row.get("asks")))
            elif not book.bids and not book.asks and not book.synced:
                continue  # an update before the snapshot: the snapshot will cover it
            else:
                for side, key in (("bid", "bids"), ("ask", "asks")):
                    for price, qty in _levels(row.get(key)):
                        book.set(side, price, qty)
                book.truncate(self.subscribed)
            expected = row.get("checksum")
            if expected is not None:
                got = checksum(
                    book.top("bid", 10), book.top("ask", 10), self.price_places, self.qty_places
                )
                if got != int(expected):
                    book.clear()  # never serve it: start over from a fresh snapshot
                    raise Resync("checksum", expected=int(expected), computed=got)
            book.synced = True
            yield book.snapshot(self.depth)


def _levels(rows: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(r["price"]), Decimal(r["qty"])) for r in rows or ()]


class TradeFeed(KrakenFeed):
    kind = "trades"
    channel = "trade"
    conflate = False

    def open(self, conn: Connection) -> None:
        assert self.market is not None
        _subscribe(
            conn, {"channel": "trade", "symbol": [ws_symbol(self.market)], "snapshot": False}
        )

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        m = self.market
        assert m is not None
        for row in data:
            yield PublicTrade(
                symbol=m.symbol,
                price=row["price"],
                amount=row["qty"],
                side=row.get("side"),
                timestamp=_time(row.get("timestamp")),
                id=str(row.get("trade_id", "")),
                raw=row,
            )


def _time(value: Any) -> Any:
    if not value:
        return None
    from datetime import datetime

    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class PrivateFeed(KrakenFeed):
    conflate = False

    def url(self) -> str:
        return self.connector.stream_url("private")

    def token(self) -> str:
        """A fresh token per connection, as Kraken asks (they are short-lived)."""
        result = self.connector.request(ep.GET_WEBSOCKETS_TOKEN)["result"]
        return str(result["token"])


_STATUS = {
    "pending_new": "pending",
    "new": "open",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "cancelled",
    "expired": "expired",
}


class ExecutionsFeed(PrivateFeed):
    """The account's orders: a snapshot of open orders, then every change to one of them."""

    kind = "orders"
    channel = "executions"

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self.orders: dict[str, dict[str, Any]] = {}

    def open(self, conn: Connection) -> None:
        _subscribe(
            conn,
            {
                "channel": "executions",
                "token": self.token(),
                "snap_orders": True,
                "snap_trades": False,
            },
        )

    def reset(self) -> None:
        self.orders.clear()

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        for row in data:
            order_id = str(row.get("order_id", ""))
            merged = self.orders.setdefault(order_id, {})
            merged.update({k: v for k, v in row.items() if v is not None})
            order = self._order(merged)
            if order is not None:
                if order.is_final:
                    self.orders.pop(order_id, None)
                yield order

    def _order(self, row: dict[str, Any]) -> Order | None:
        try:
            market = self.connector.market(row["symbol"])
            status = _STATUS.get(str(row.get("order_status", "new")), "open")
            return Order(
                id=str(row["order_id"]),
                symbol=market.symbol,
                side=row["side"],
                type="market" if row.get("order_type") == "market" else "limit",
                status=status,
                amount=row["order_qty"],
                filled=row.get("cum_qty", 0),
                price=row.get("limit_price"),
                average_price=row.get("avg_price") or None,
                client_id=row.get("cl_ord_id"),
                updated=_time(row.get("timestamp")),
                raw=dict(row),
            )
        except (KeyError, ValueError, TypeError, errors.BadSymbol):
            return None  # a partial report of an order we never saw in full: wait for more


class BalancesFeed(PrivateFeed):
    kind = "balances"
    channel = "balances"

    def open(self, conn: Connection) -> None:
        _subscribe(conn, {"channel": "balances", "token": self.token(), "snapshot": True})

    def on_data(self, type_: str, data: list[Any]) -> Iterable[Any]:
        for row in data:
            asset = unify_asset(str(row["asset"]))
            yield Balance(asset=asset, free=row["balance"], id=str(row["asset"]), raw=row)


def feed(connector: Any, kind: str, symbol: str | None = None, depth: int | None = None) -> Feed:
    """The feed for one stream kind (``ticker``, ``book``, ``trades``, ``orders``, ``balances``)."""
    if kind in ("orders", "balances"):
        return ExecutionsFeed(connector) if kind == "orders" else BalancesFeed(connector)
    if symbol is None:
        raise errors.ConfigError(f"the {kind} stream needs a symbol")
    market = connector.market(symbol)
    if kind == "book":
        return BookFeed(connector, market, depth or 10)
    return TickerFeed(connector, market) if kind == "ticker" else TradeFeed(connector, market)
