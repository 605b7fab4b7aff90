"""Binance spot streams: market streams (``<symbol>@bookTicker``, ``<symbol>@depth@100ms``,
``<symbol>@trade`` on ``wss://stream.binance.com:9443/ws/...``) and the account's user data
stream in its current form: a WebSocket API subscription (``userDataStream.subscribe.signature``
on ``wss://ws-api.binance.com:443/ws-api/v3``), events wrapped as ``{"subscriptionId", "event"}``.
The listenKey endpoints (``POST /api/v3/userDataStream``) are deprecated for spot.

The local book follows Binance's documented procedure: open the diff stream, then fetch a REST
snapshot (never from the cache); events with ``u <= lastUpdateId`` are dropped; for each later
event: ignore it if ``u`` is at or below the book's update id, resync if ``U`` is above the
book's update id + 1 (a gap, including a snapshot that lagged behind the stream: the docs' "if
lastUpdateId < U, fetch again"), else set every level (quantity 0 removes) and take ``u`` as
the book's update id. The snapshot is served as soon as it is loaded: it was taken after the
stream opened, so every later change reaches the book as an event (a quiet market would
otherwise show no book until its first change).

A snapshot holds ``SNAPSHOT_LIMIT`` levels per side; levels beyond it are only known from
diffs, so the book serves only levels inside the snapshot's horizon, and resyncs when fewer
than the asked depth remain inside it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from xest import errors
from xest.models import Balance, Market, Order, PublicTrade, Ticker
from xest.streams import Feed, LocalBook, Resync
from xest.streams.feed import Connection
from xest_binance import endpoints as ep
from xest_binance import parse
from xest_binance.signing import encode_params, signature

MARKET_URL = "wss://stream.binance.com:9443"
API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
# 1000 levels cost weight 50 (5000 would cost 250): deep enough for any depth served.
SNAPSHOT_LIMIT = 1000
_ids = itertools.count(1)


class MarketFeed(Feed):
    stream = ""
    stale_after = 60.0  # market streams are silent while nothing changes; pings keep it open

    def __init__(self, connector: Any, market: Market) -> None:
        self.connector = connector
        self.market = market

    def url(self) -> str:
        return f"{self.connector.stream_url('public')}/ws/{self.market.id.lower()}@{self.stream}"

    def describe(self) -> str:
        return f"binance {self.kind} {self.market.symbol}"

    def open(self, conn: Connection) -> None:
        """A raw stream is subscribed by its URL: nothing to send."""

    def handle(self, message: Any) -> Iterable[Any]:
        if not isinstance(message, dict):
            raise errors.BadResponse("Binance sent a stream message that is not an object")
        if "code" in message and "msg" in message:
            raise errors.ExchangeError(
                f"Binance stream error: {message['msg']}", exchange="binance", code=message["code"]
            )
        return self.on_event(message)

    def on_event(self, event: dict[str, Any]) -> Iterable[Any]:
        raise NotImplementedError


class BookTickerFeed(MarketFeed):
    kind = "ticker"
    stream = "bookTicker"

    def on_event(self, event: dict[str, Any]) -> Iterable[Any]:
        yield Ticker(
            symbol=self.market.symbol, id=self.market.id, bid=event["b"], ask=event["a"], raw=event
        )


class TradeFeed(MarketFeed):
    kind = "trades"
    stream = "trade"
    conflate = False

    def on_event(self, event: dict[str, Any]) -> Iterable[Any]:
        if event.get("e") != "trade":
            return
        yield PublicTrade(
            symbol=self.market.symbol,
            price=event["p"],
            amount=event["q"],
            side="sell" if event.get("m") else "buy",  # the buyer was the maker: a sell hit it
            timestamp=parse.ms(event["T"]),
            id=str(event["t"]),
            raw=event,
        )


class DepthFeed(MarketFeed):
    kind = "book"
    stream = "depth@100ms"

    def __init__(self, connector: Any, market: Market, depth: int = 10) -> None:
        super().__init__(connector, market)
        self.depth = depth
        self.book = LocalBook(market.symbol, id=market.id)
        self.horizon: tuple[Decimal | None, Decimal | None] = (None, None)
        self.snapshots = 0  # REST snapshots fetched (each one costs request weight)

    def reset(self) -> None:
        self.book.clear()

    def synced(self) -> bool:
        return self.book.synced

    def _snapshot(self) -> dict[str, Any]:
        self.snapshots += 1
        endpoint = ep.weighted(ep.DEPTH, ep.depth_weight(SNAPSHOT_LIMIT))
        # Never from the cache: a cached snapshot can be older than the buffered events.
        return self.connector.request(
            endpoint, {"symbol": self.market.id, "limit": SNAPSHOT_LIMIT}, cache=False
        )

    def opened(self) -> Iterable[Any]:
        """The snapshot, fetched once the stream is open, so every change after it arrives as
        an event (a snapshot lagging behind the stream shows as a gap at the first event)."""
        snap = self._snapshot()
        bids = parse.order_book(self.market.symbol, snap).bids
        asks = parse.order_book(self.market.symbol, snap).asks
        book = self.book
        book.load(
            [(b.price, b.amount) for b in bids],
            [(a.price, a.amount) for a in asks],
            update_id=int(snap["lastUpdateId"]),
        )
        self.horizon = (
            bids[-1].price if len(bids) >= SNAPSHOT_LIMIT else None,
            asks[-1].price if len(asks) >= SNAPSHOT_LIMIT else None,
        )
        book.synced = True
        yield self.served()

    def on_event(self, event: dict[str, Any]) -> Iterable[Any]:
        if event.get("e") != "depthUpdate":
            return
        book = self.book
        if book.update_id is None:
            raise Resync("no snapshot")
        first, last = int(event["U"]), int(event["u"])
        assert book.update_id is not None
        if last <= book.update_id:
            return  # the snapshot already covers it
        if first > book.update_id + 1:
            expected = book.update_id + 1
            book.clear()  # never serve it: start over from a fresh snapshot
            raise Resync("gap", expected=expected, got=first)
        for price, qty in event.get("b", ()):
            book.set("bid", price, qty)
        for price, qty in event.get("a", ()):
            book.set("ask", price, qty)
        book.update_id = last
        yield self.served()

    def served(self) -> Any:
        """The top of the book, inside the snapshot's horizon only."""
        floor, ceiling = self.horizon
        book = self.book
        snapshot = book.snapshot(self.depth)
        if floor is None and ceiling is None:
            return snapshot
        bids = [lv for lv in snapshot.bids if floor is None or lv.price >= floor]
        asks = [lv for lv in snapshot.asks if ceiling is None or lv.price <= ceiling]
        # Beyond a truncated snapshot's last level the book is not known: fewer known levels
        # than the depth served would hide levels the exchange has.
        if (floor is not None and len(bids) < self.depth) or (
            ceiling is not None and len(asks) < self.depth
        ):
            book.clear()
            raise Resync("horizon")
        return snapshot


# -- the account -----------------------------------------------------------------------------


class UserDataFeed(Feed):
    """Orders (``executionReport``) or balances (``outboundAccountPosition``) of the account,
    through a WebSocket API subscription signed with the API key (HMAC keys included)."""

    conflate = False
    stale_after = 120.0  # an idle account is silent; the library's pings watch the connection

    def __init__(self, connector: Any, kind: str) -> None:
        self.connector = connector
        self.kind = kind  # type: ignore[misc]
        self.subscription: int | None = None

    def url(self) -> str:
        return self.connector.stream_url("api")

    def describe(self) -> str:
        return f"binance {self.kind}"

    def open(self, conn: Connection) -> None:
        creds = self.connector.credentials
        params = {
            "apiKey": creds.key,
            "timestamp": self.connector.transport.signing_context(creds).timestamp_ms(),
        }
        payload = encode_params(sorted(params.items()))
        request_id = f"xest-{next(_ids)}"
        conn.send(
            {
                "id": request_id,
                "method": "userDataStream.subscribe.signature",
                "params": {**params, "signature": signature(creds.secret, payload)},
            }
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = conn.recv(timeout=max(deadline - time.monotonic(), 0.01))
            if isinstance(answer, dict) and answer.get("id") == request_id:
                break
        else:
            raise TimeoutError("Binance did not answer the user data subscription")
        if answer.get("status") != 200:
            error = answer.get("error") or {}
            code, msg = error.get("code"), error.get("msg", "refused")
            if code in (-2014, -2015, -1022, -1021):
                raise errors.AuthenticationError(
                    f"Binance refused the user data stream ({code}: {msg}); check the API key",
                    exchange="binance",
                    code=code,
                )
            raise errors.ExchangeError(
                f"Binance refused the user data stream: {msg}", exchange="binance", code=code
            )
        self.subscription = answer["result"]["subscriptionId"]

    def handle(self, message: Any) -> Iterable[Any]:
        if not isinstance(message, dict) or "event" not in message:
            return ()
        event = message["event"]
        if self.kind == "orders" and event.get("e") == "executionReport":
            return [self._order(event)]
        if self.kind == "balances" and event.get("e") == "outboundAccountPosition":
            return [
                Balance(asset=b["a"], free=b["f"], locked=b["l"], id=b["a"], raw=b)
                for b in event.get("B", ())
            ]
        return ()

    def _order(self, e: dict[str, Any]) -> Order:
        market = self.connector.market(e["s"])
        rest = {
            "symbol": e["s"],
            "orderId": e["i"],
            "clientOrderId": e.get("c"),
            "origClientOrderId": e.get("C") or None,
            "price": e.get("p"),
            "origQty": e["q"],
            "executedQty": e.get("z", "0"),
            "cummulativeQuoteQty": e.get("Z", "0"),
            "status": e["X"],
            "timeInForce": e.get("f"),
            "type": e.get("o"),
            "side": e["S"],
            "time": e.get("O"),
            "updateTime": e.get("E"),
        }
        return attrs.evolve(parse.order(market.symbol, rest), raw=e)


def feed(connector: Any, kind: str, symbol: str | None = None, depth: int | None = None) -> Feed:
    if kind in ("orders", "balances"):
        return UserDataFeed(connector, kind)
    if symbol is None:
        raise errors.ConfigError(f"the {kind} stream needs a symbol")
    market = connector.market(symbol)
    if kind == "book":
        return DepthFeed(connector, market, depth or 10)
    return BookTickerFeed(connector, market) if kind == "ticker" else TradeFeed(connector, market)
