"""The simulated Binance's streams, on loopback: market streams on ``{ws}/ws/<stream>``
(``<symbol>@bookTicker``, ``<symbol>@depth`` / ``@depth@100ms``, ``<symbol>@trade``) and the
WebSocket API's user data stream on ``{ws}/ws-api/v3`` (``userDataStream.subscribe.signature``,
events wrapped in ``{"subscriptionId", "event"}``).

Each symbol's book has an update id (over 2^53, as Binance's are) that advances by one per
level change; ``GET /api/v3/depth`` answers the same book with ``lastUpdateId``. Whatever
changes the simulator's state is published right after as ``depthUpdate`` events with
``U``/``u``. Faults (``sim.ws.inject(...)``): ``drop``, ``stale`` (``seconds=``), ``gap`` (the
next depth event is lost: ids jump).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from xest.streams.feed import decode
from xest.streams.simserver import BookOverlay, Session, WsServer, diff
from xest.streams.simserver import random_change as _random_change
from xest.testing.server import LoopbackServer, SimRequest, SimResponse
from xest_binance.simulator.market import LEVELS, fmt

FIRST_UPDATE_ID = 2**53 + 1_000


class StreamRoutes(LoopbackServer):
    """Mixed into :class:`BinanceSimulator` (relies on ``markets``, ``exchange_state``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.overlay = BookOverlay()
        self.update_ids: dict[str, int] = {}
        self._published: dict[str, tuple[list, list]] = {}
        self.ws = WsServer(self._session, "binance", on_open=self._subscribe_stream)
        self._publish_lock = threading.RLock()
        self._subscriptions = 0

    def start(self) -> Any:
        super().start()
        self.ws.start()
        return self

    def stop(self) -> None:
        self.ws.stop()
        super().stop()

    def stream_urls(self) -> dict[str, str]:
        return {"public": self.ws.url, "api": f"{self.ws.url}/ws-api/v3"}

    def handle(self, request: SimRequest) -> SimResponse:
        try:
            return super().handle(request)
        finally:
            self.publish()

    # -- the book ------------------------------------------------------------------------------

    def full_book(self, symbol: str) -> tuple[list, list]:
        m = self.markets[symbol]  # type: ignore[attr-defined]
        return self.overlay.apply(symbol, m.bids(LEVELS), m.asks(LEVELS))

    stream_faults = ("drop", "gap", "stale")

    def inject_stream(self, fault: str, **options: Any) -> None:
        """A stream fault: ``drop``, ``gap``, ``stale`` (``seconds=``)."""
        self.ws.inject(fault, **options)

    def own_book(self, symbol: str) -> tuple[list, list]:
        """The simulator's own book of a symbol (bids, asks; best first) as (price, qty)."""
        with self.lock:
            return self.full_book(symbol)

    def depth_snapshot(self, symbol: str, limit: int) -> dict:
        """What ``GET /api/v3/depth`` answers: the published book and its update id."""
        with self.lock:
            self._advance(symbol)
            bids, asks = self._published[symbol]
            return {
                "lastUpdateId": self.update_ids[symbol],
                "bids": [[fmt(p), fmt(s)] for p, s in bids[:limit]],
                "asks": [[fmt(p), fmt(s)] for p, s in asks[:limit]],
            }

    def set_level(self, symbol: str, side: str, price: Any, qty: Any) -> None:
        with self.lock:
            self.overlay.set(symbol, side, Decimal(str(price)), Decimal(str(qty)))
        self.publish()

    def book_step(self, symbol: str, rng: Any) -> None:
        """One random change to the book near the top (resize, remove or add a level)."""
        with self.lock:
            m = self.markets[symbol]  # type: ignore[attr-defined]
            bids, asks = self.full_book(symbol)
            side, price, qty = _random_change(rng, bids, asks, m.tick, m.step * 10)
            self.overlay.set(symbol, side, price, qty)
        self.publish()

    def _advance(self, symbol: str) -> tuple[int, int, list, list] | None:
        """Take the book's changes since last published: (U, u, bid changes, ask changes)."""
        new = self.full_book(symbol)
        old = self._published.get(symbol)
        self._published[symbol] = new
        if symbol not in self.update_ids:
            self.update_ids[symbol] = FIRST_UPDATE_ID
        if old is None:
            return None
        bids, asks = diff(old[0], new[0]), diff(old[1], new[1])
        if not bids and not asks:
            return None
        first = self.update_ids[symbol] + 1
        self.update_ids[symbol] += len(bids) + len(asks)
        return first, self.update_ids[symbol], bids, asks

    # -- sessions ------------------------------------------------------------------------------

    def _parse_stream(self, session: Session) -> tuple[str, str] | None:
        path = session.path.split("?")[0]
        if not path.startswith("/ws/"):
            return None
        symbol, _, channel = path[len("/ws/") :].partition("@")
        symbol = symbol.upper()
        if symbol not in self.markets or channel not in (  # type: ignore[attr-defined]
            "bookTicker",
            "depth",
            "depth@100ms",
            "trade",
        ):
            return None
        return channel, symbol

    def _subscribe_stream(self, session: Session) -> None:
        """A raw stream is subscribed by its URL, from the handshake on (no event is lost
        between the client's connect and its first REST snapshot)."""
        parsed = self._parse_stream(session)
        if parsed is None:
            return
        channel, symbol = parsed
        with self.lock, self._publish_lock:
            self._advance(symbol)  # ids from here on are what this connection sees
            session.subscriptions[(channel, symbol)] = {}
            if channel == "trade":  # from now on: the fills after this point
                trades = self.exchange_state.trades  # type: ignore[attr-defined]
                session.views[("trade", symbol)] = len(trades)
            if channel == "bookTicker":
                session.views[("bookTicker", symbol)] = self._top(symbol)

    def _session(self, session: Session) -> None:
        if session.path.split("?")[0].startswith("/ws-api/"):
            return self._api_session(session)
        if self._parse_stream(session) is None:
            session.send({"code": 2, "msg": f"Invalid request: unknown stream {session.path}"})
            session.conn.close(1008, "invalid stream")
            return
        for _ in session.conn:  # market streams ignore what clients send (pongs are automatic)
            pass

    def _send_trades(self, session: Session, symbol: str, trades: list) -> None:
        start = session.views.get(("trade", symbol), len(trades))
        session.views[("trade", symbol)] = len(trades)
        seen: set[int] = set()
        for t in trades[start:]:
            # One public trade per fill (the account's own fill rows share its id).
            if t["symbol"] != symbol or t["id"] in seen:
                continue
            seen.add(t["id"])
            session.send(
                {
                    "e": "trade",
                    "E": t["time"],
                    "s": symbol,
                    "t": t["id"],
                    "p": t["price"],
                    "q": t["qty"],
                    "T": t["time"],
                    # Is the buyer the maker: a maker buy, or a taker sell.
                    "m": t["isBuyer"] == t["isMaker"],
                    "M": True,
                }
            )

    def _top(self, symbol: str) -> Any:
        bids, asks = self._published[symbol]
        return (bids[0] if bids else None, asks[0] if asks else None)

    def publish(self) -> None:
        """Send every subscriber what changed since anything was last published."""
        with self.lock, self._publish_lock:
            sessions = self.ws.each()
            if not sessions:
                return
            for symbol in list(self._published):
                change = self._advance(symbol)
                if change is not None:
                    first, last, bids, asks = change
                    lost = self.ws.take("gap")
                    event = {
                        "e": "depthUpdate",
                        "E": self.now_ms(),  # type: ignore[attr-defined]
                        "s": symbol,
                        "U": first,
                        "u": last,
                        "b": [[fmt(p), fmt(q)] for p, q in bids],
                        "a": [[fmt(p), fmt(q)] for p, q in asks],
                    }
                    for s in sessions:
                        if not lost and (
                            ("depth", symbol) in s.subscriptions
                            or ("depth@100ms", symbol) in s.subscriptions
                        ):
                            s.send(event)
                top = self._top(symbol)
                for s in sessions:
                    key = ("bookTicker", symbol)
                    if key in s.subscriptions and s.views.get(key) != top:
                        s.views[key] = top
                        bid, ask = top
                        s.send(
                            {
                                "u": self.update_ids[symbol],
                                "s": symbol,
                                "b": fmt(bid[0]) if bid else "0",
                                "B": fmt(bid[1]) if bid else "0",
                                "a": fmt(ask[0]) if ask else "0",
                                "A": fmt(ask[1]) if ask else "0",
                            }
                        )
            trades = self.exchange_state.trades  # type: ignore[attr-defined]
            for s in sessions:
                if s.account is not None:
                    self._account_events(s)
                for (channel, symbol), _ in list(s.subscriptions.items()):
                    if channel == "trade":
                        self._send_trades(s, symbol, trades)

    # -- the WebSocket API: user data ----------------------------------------------------------

    def _api_session(self, session: Session) -> None:
        for raw in session.conn:
            request = decode(raw)
            rid, method = request.get("id"), request.get("method")
            params = request.get("params") or {}
            if method == "ping":
                session.send({"id": rid, "status": 200, "result": {}})
            elif method == "userDataStream.subscribe.signature":
                with self.lock, self._publish_lock:
                    session.send(self._subscribe_user(session, rid, params))
            elif method == "userDataStream.unsubscribe":
                session.account = None
                session.send({"id": rid, "status": 200, "result": {}})
            else:
                session.send(
                    {
                        "id": rid,
                        "status": 400,
                        "error": {"code": -1100, "msg": f"Unknown method {method}."},
                    }
                )

    def _subscribe_user(self, session: Session, rid: Any, params: dict) -> dict:
        def refuse(code: int, msg: str, status: int = 401) -> dict:
            return {"id": rid, "status": status, "error": {"code": code, "msg": msg}}

        account = self.exchange_state.accounts.get(str(params.get("apiKey")))  # type: ignore
        if account is None:
            return refuse(-2015, "Invalid API-key, IP, or permissions for action.")
        given = str(params.get("signature", ""))
        payload = "&".join(
            f"{quote(str(k), safe='')}={quote(str(v), safe='')}"
            for k, v in sorted(params.items())
            if k != "signature"
        )
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            return refuse(-1022, "Signature for this request is not valid.", 400)
        stamp = int(params.get("timestamp", 0))
        if abs(stamp - self.now_ms()) > 60_000:  # type: ignore[attr-defined]
            return refuse(-1021, "Timestamp for this request is outside of the recvWindow.", 400)
        session.account = account
        self._subscriptions += 1
        session.views[("orders", "")] = self._orders(account)
        session.views[("balances", "")] = {a: tuple(v) for a, v in account.balances.items()}
        return {"id": rid, "status": 200, "result": {"subscriptionId": self._subscriptions - 1}}

    def _orders(self, account: Any) -> dict[int, dict]:
        state = self.exchange_state  # type: ignore[attr-defined]
        return {
            oid: dict(order)
            for oid, order in state.orders.items()
            if state.owner.get(oid) == account.key
        }

    def _account_events(self, session: Session) -> None:
        account = session.account
        now = self.now_ms()  # type: ignore[attr-defined]
        old_orders: dict[int, dict] = session.views.get(("orders", ""), {})
        orders = self._orders(account)
        for oid, order in orders.items():
            before = old_orders.get(oid)
            if before is not None and (before["status"], before["executedQty"]) == (
                order["status"],
                order["executedQty"],
            ):
                continue
            done = Decimal(order["executedQty"]) - Decimal(before["executedQty"] if before else 0)
            kind = (
                "TRADE"
                if done > 0
                else {"CANCELED": "CANCELED", "EXPIRED": "EXPIRED", "REJECTED": "REJECTED"}.get(
                    order["status"], "NEW"
                )
            )
            session.send(
                {
                    "subscriptionId": 0,
                    "event": {
                        "e": "executionReport",
                        "E": now,
                        "s": order["symbol"],
                        "c": order.get("clientOrderId"),
                        "S": order["side"],
                        "o": order["type"],
                        "f": order.get("timeInForce", "GTC"),
                        "q": order["origQty"],
                        "p": order["price"],
                        "P": "0.00000000",
                        "F": "0.00000000",
                        "g": -1,
                        "C": "",
                        "x": kind,
                        "X": order["status"],
                        "r": "NONE",
                        "i": oid,
                        "l": fmt(max(done, Decimal(0))),
                        "z": order["executedQty"],
                        "L": order["price"],
                        "n": "0",
                        "N": None,
                        "T": now,
                        "t": -1,
                        "w": order["status"] in ("NEW", "PARTIALLY_FILLED"),
                        "m": False,
                        "O": order.get("time", now),
                        "Z": order.get("cummulativeQuoteQty", "0"),
                        "Y": "0",
                        "Q": "0",
                        "W": now,
                        "V": "EXPIRE_MAKER",
                    },
                }
            )
        session.views[("orders", "")] = orders
        old_balances: dict[str, Any] = session.views.get(("balances", ""), {})
        balances = {a: tuple(v) for a, v in account.balances.items()}
        changed = [a for a, v in balances.items() if tuple(old_balances.get(a, ())) != v]
        session.views[("balances", "")] = balances
        if changed:
            session.send(
                {
                    "subscriptionId": 0,
                    "event": {
                        "e": "outboundAccountPosition",
                        "E": now,
                        "u": now,
                        "B": [
                            {"a": a, "f": fmt(balances[a][0]), "l": fmt(balances[a][1])}
                            for a in sorted(changed)
                        ],
                    },
                }
            )
