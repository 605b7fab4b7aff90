"""The simulated Kraken's WebSocket API v2 (public ``ticker``, ``book``, ``trade``; private
``executions`` and ``balances`` with tokens from ``GetWebSocketsToken``), on loopback.

Public connections go to ``{ws}/v2``, private ones to ``{ws}/auth/v2`` (Kraken: ws.kraken.com
and ws-auth.kraken.com). Whatever changes the simulator's state (a REST request, ``set_price``,
``fill``, ``book_step``) is published right after, as Kraken would: book updates diffed per
connection against what it was last sent, with the v2 checksum over the top 10 levels.

Faults (``sim.ws.inject(...)``): ``drop``, ``stale`` (``seconds=``), ``gap`` (the next book
update is lost on the way: the client's checksum must catch it), ``bad_checksum``.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xest.streams.feed import decode
from xest.streams.simserver import BookOverlay, Session, WsServer, diff, dumps, number
from xest.streams.simserver import random_change as _random_change
from xest.testing.server import SimRequest, SimResponse, route
from xest_kraken.markets import unify_asset
from xest_kraken.simulator.data import ASSET_BY_CODE, PAIRS, PairDef
from xest_kraken.simulator.trading import PrivateRoutes
from xest_kraken.simulator.wire import ok
from xest_kraken.stream import checksum

_STATUS = {
    "pending": "pending_new",
    "open": "new",
    "closed": "filled",
    "canceled": "canceled",
    "expired": "expired",
}


def ws_symbol(p: PairDef) -> str:
    return f"{unify_asset(p.base)}/{unify_asset(p.quote)}"


def _stamp() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class StreamRoutes(PrivateRoutes):
    """Mixed into :class:`KrakenSimulator` (relies on its ``book``, ``pair``, ``accounts``)."""

    public_fills: list[tuple[str, list]]  # set by KrakenSimulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.overlay = BookOverlay()
        self.ws = WsServer(self._session, "kraken", heartbeat=self._heartbeat)
        self.ws_tokens: dict[str, str] = {}  # token -> API key
        self.ws_pairs = {ws_symbol(p): p for p in PAIRS}
        self._publish_lock = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Any:
        super().start()
        self.ws.start()
        return self

    def stop(self) -> None:
        self.ws.stop()
        super().stop()

    def stream_urls(self) -> dict[str, str]:
        return {"public": f"{self.ws.url}/v2", "private": f"{self.ws.url}/auth/v2"}

    def handle(self, request: SimRequest) -> SimResponse:
        try:
            return super().handle(request)
        finally:
            self.publish()

    @route("POST", "/0/private/GetWebSocketsToken")
    def websockets_token(self, request: SimRequest) -> dict:
        account = self._account(request)
        token = secrets.token_urlsafe(24)
        self.ws_tokens[token] = account.key
        return ok({"token": token, "expires": 900})

    # -- what tests drive ----------------------------------------------------------------------

    stream_faults = ("drop", "gap", "bad_checksum", "stale")

    def inject_stream(self, fault: str, **options: Any) -> None:
        """A stream fault: ``drop``, ``gap``, ``stale`` (``seconds=``), ``bad_checksum``."""
        self.ws.inject(fault, **options)

    def own_book(self, pair: str) -> tuple[list, list]:
        """The simulator's own book of a pair (bids, asks; best first) as (price, qty)."""
        with self.lock:
            return self.book(self.pair(pair))

    def set_level(self, pair: str, side: str, price: Any, qty: Any) -> None:
        """Set one level of the book (quantity 0 removes it) and publish the change."""
        with self.lock:
            p = self.pair(pair)
            self.overlay.set(p.key, side, Decimal(str(price)), Decimal(str(qty)))
        self.publish()

    def book_step(self, pair: str, rng: Any) -> None:
        """One random change to the book near the top (resize, remove or add a level)."""
        with self.lock:
            p = self.pair(pair)
            bids, asks = self.book(p)
            lot = Decimal(1).scaleb(-p.lot_decimals) * 10 ** max(p.lot_decimals - 3, 0)
            side, price, qty = _random_change(rng, bids, asks, p.tick_size, lot)
            self.overlay.set(p.key, side, price, qty)
        self.publish()

    # -- sessions ------------------------------------------------------------------------------

    def _heartbeat(self, session: Session) -> None:
        session.send(None, raw='{"channel":"heartbeat"}')

    def _session(self, session: Session) -> None:
        session.send(
            {
                "channel": "status",
                "type": "update",
                "data": [
                    {
                        "api_version": "v2",
                        "connection_id": secrets.randbits(63),
                        "system": "online",
                        "version": "2.0.0",
                    }
                ],
            }
        )
        private = session.path.startswith("/auth")
        for raw in session.conn:
            message = decode(raw)
            method = message.get("method")
            if method == "ping":
                session.send(
                    {
                        "method": "pong",
                        "req_id": message.get("req_id"),
                        "time_in": _stamp(),
                        "time_out": _stamp(),
                    }
                )
            elif method == "subscribe":
                with self.lock, self._publish_lock:
                    self._subscribe(session, message, private)
            elif method == "unsubscribe":
                params = message.get("params") or {}
                for symbol in params.get("symbol") or [""]:
                    session.subscriptions.pop((params.get("channel", ""), symbol), None)
                session.send(
                    {"method": "unsubscribe", "success": True, "req_id": message.get("req_id")}
                )

    def _refuse(self, session: Session, message: dict, error: str) -> None:
        session.send(
            {
                "method": "subscribe",
                "success": False,
                "error": error,
                "req_id": message.get("req_id"),
                "time_in": _stamp(),
                "time_out": _stamp(),
            }
        )

    def _subscribe(self, session: Session, message: dict, private: bool) -> None:
        params = message.get("params") or {}
        channel = params.get("channel")
        req_id = message.get("req_id")
        if channel in ("executions", "balances"):
            key = self.ws_tokens.get(str(params.get("token")))
            if not private or key is None:
                return self._refuse(session, message, "EAPI:Invalid token")
            session.account = self.accounts[key]  # type: ignore[attr-defined]
            session.subscriptions[(channel, "")] = dict(params)
            session.send(
                {
                    "method": "subscribe",
                    "success": True,
                    "req_id": req_id,
                    "result": {"channel": channel},
                }
            )
            return self._private_snapshot(session, channel)
        if channel not in ("ticker", "book", "trade"):
            return self._refuse(session, message, "Channel not found")
        for symbol in params.get("symbol") or []:
            p = self.ws_pairs.get(symbol)
            if p is None:
                self._refuse(session, message, f"Currency pair not supported {symbol}")
                continue
            session.subscriptions[(channel, symbol)] = dict(params)
            result = {"channel": channel, "symbol": symbol}
            if channel == "book":
                result["depth"] = int(params.get("depth", 10))
            session.send(
                {
                    "method": "subscribe",
                    "success": True,
                    "req_id": req_id,
                    "result": result,
                    "time_in": _stamp(),
                    "time_out": _stamp(),
                }
            )
            if channel == "trade":  # from now on: the fills after this point
                session.views[("trade", symbol)] = len(self.public_fills)
            if channel == "book":
                self._send_book(session, p, symbol, snapshot=True)
            elif channel == "ticker":
                self._send_ticker(session, p, symbol, "snapshot")

    # -- publishing ----------------------------------------------------------------------------

    def publish(self) -> None:
        """Send every subscriber what changed since it was last sent anything."""
        with self.lock, self._publish_lock:
            for session in self.ws.each():
                for (channel, symbol), _ in list(session.subscriptions.items()):
                    p = self.ws_pairs.get(symbol)
                    if channel == "book" and p is not None:
                        self._send_book(session, p, symbol, snapshot=False)
                    elif channel == "ticker" and p is not None:
                        self._send_ticker(session, p, symbol, "update")
                    elif channel == "trade" and p is not None:
                        self._send_trades(session, p, symbol)
                    elif channel in ("executions", "balances"):
                        self._private_update(session, channel)

    def _send_book(self, session: Session, p: PairDef, symbol: str, *, snapshot: bool) -> None:
        depth = int(session.subscriptions[("book", symbol)].get("depth", 10))
        bids, asks = self.book(p)
        bids, asks = bids[:depth], asks[:depth]
        old_bids, old_asks = session.views.get(("book", symbol), ([], []))
        if snapshot:
            changed_bids, changed_asks = bids, asks
        else:
            changed_bids, changed_asks = diff(old_bids, bids), diff(old_asks, asks)
            if not changed_bids and not changed_asks:
                return
        session.views[("book", symbol)] = (bids, asks)
        crc = checksum(bids, asks, p.pair_decimals, p.lot_decimals)
        if not snapshot and self.ws.take("gap"):
            return  # lost on the way: the client's next checksum must disagree
        if self.ws.take("bad_checksum"):
            crc = (crc + 1) & 0xFFFFFFFF

        def rows(levels: list) -> list:
            return [
                {"price": number(px, p.pair_decimals), "qty": number(q, p.lot_decimals)}
                for px, q in levels
            ]

        data = {
            "symbol": symbol,
            "bids": rows(changed_bids),
            "asks": rows(changed_asks),
            "checksum": crc,
        }
        if not snapshot:
            data["timestamp"] = _stamp()
        session.send(
            None,
            raw=dumps(
                {"channel": "book", "type": "snapshot" if snapshot else "update", "data": [data]}
            ),
        )

    def _send_trades(self, session: Session, p: PairDef, symbol: str) -> None:
        start = session.views.get(("trade", symbol), len(self.public_fills))
        fills = self.public_fills[start:]
        session.views[("trade", symbol)] = len(self.public_fills)
        rows = [
            {
                "symbol": symbol,
                "side": "buy" if row[3] == "b" else "sell",
                "price": number(Decimal(row[0]), p.pair_decimals),
                "qty": number(Decimal(row[1]), p.lot_decimals),
                "ord_type": "limit" if row[4] == "l" else "market",
                "trade_id": row[6],
                "timestamp": datetime.fromtimestamp(float(row[2]), UTC)
                .isoformat()
                .replace("+00:00", "Z"),
            }
            for key, row in fills
            if key == p.key
        ]
        if rows:
            session.send(None, raw=dumps({"channel": "trade", "type": "update", "data": rows}))

    def _send_ticker(self, session: Session, p: PairDef, symbol: str, type_: str) -> None:
        bids, asks = self.book(p)
        top = (bids[0] if bids else None, asks[0] if asks else None)
        if type_ == "update" and session.views.get(("ticker", symbol)) == top:
            return
        session.views[("ticker", symbol)] = top
        t = self._ticker(p)  # type: ignore[attr-defined]
        d, lot = p.pair_decimals, p.lot_decimals
        row = {
            "symbol": symbol,
            "bid": number(top[0][0], d) if top[0] else None,
            "bid_qty": number(top[0][1], lot) if top[0] else None,
            "ask": number(top[1][0], d) if top[1] else None,
            "ask_qty": number(top[1][1], lot) if top[1] else None,
            "last": number(Decimal(t["c"][0]), d),
            "volume": number(Decimal(t["v"][1]), lot),
            "vwap": number(Decimal(t["p"][1]), d),
            "low": number(Decimal(t["l"][1]), d),
            "high": number(Decimal(t["h"][1]), d),
            "change": number(Decimal(t["c"][0]) - Decimal(t["o"]), d),
            "change_pct": number(Decimal(0), 2),
        }
        session.send(None, raw=dumps({"channel": "ticker", "type": type_, "data": [row]}))

    # -- private -------------------------------------------------------------------------------

    def _execution(self, order: Any) -> dict:
        p = order.pair
        status = _STATUS.get(order.status, "new")
        if status == "new" and order.vol_exec > 0:
            status = "partially_filled"
        average = order.cost / order.vol_exec if order.vol_exec else Decimal(0)
        return {
            "order_id": order.txid,
            "symbol": ws_symbol(p),
            "side": order.side,
            "order_type": order.ordertype,
            "order_qty": number(order.vol, p.lot_decimals),
            "limit_price": number(order.price, p.pair_decimals) if order.price else None,
            "cum_qty": number(order.vol_exec, p.lot_decimals),
            "avg_price": number(average, p.pair_decimals),
            "order_status": status,
            "cl_ord_id": order.cl_ord_id,
            "time_in_force": order.tif,
            "timestamp": _stamp(),
        }

    def _balances(self, account: Any) -> dict[str, Decimal]:
        return dict(account.balances)

    def _private_snapshot(self, session: Session, channel: str) -> None:
        account = session.account
        if channel == "executions":
            rows = {o.txid: self._execution(o) for o in account.orders.values()}
            session.views[("executions", "")] = rows
            live = [
                r
                for r in rows.values()
                if r["order_status"] in ("pending_new", "new", "partially_filled")
            ]
            session.send(
                None,
                raw=dumps(
                    {"channel": "executions", "type": "snapshot", "data": live, "sequence": 1}
                ),
            )
        else:
            balances = self._balances(account)
            session.views[("balances", "")] = balances
            data = [self._balance_row(code, v) for code, v in sorted(balances.items())]
            session.send(
                None,
                raw=dumps({"channel": "balances", "type": "snapshot", "data": data, "sequence": 1}),
            )

    def _balance_row(self, code: str, value: Decimal) -> dict:
        asset = ASSET_BY_CODE.get(code)
        name = unify_asset(code)
        return {
            "asset": name,
            "asset_class": "currency",
            "balance": number(value, asset.decimals if asset else 10),
        }

    def _private_update(self, session: Session, channel: str) -> None:
        account = session.account
        if channel == "executions":
            old: dict[str, Any] = session.views.get(("executions", ""), {})
            rows = {o.txid: self._execution(o) for o in account.orders.values()}
            changed = []
            for txid, row in rows.items():
                before = old.get(txid)
                if before is None or {k: v for k, v in before.items() if k != "timestamp"} != {
                    k: v for k, v in row.items() if k != "timestamp"
                }:
                    exec_type = row["order_status"]
                    if before is not None and row["cum_qty"] != before["cum_qty"]:
                        exec_type = "trade" if row["order_status"] != "filled" else "filled"
                    changed.append({**row, "exec_type": exec_type})
            session.views[("executions", "")] = rows
            if changed:
                session.send(
                    None, raw=dumps({"channel": "executions", "type": "update", "data": changed})
                )
        else:
            old_balances: dict[str, Any] = session.views.get(("balances", ""), {})
            balances = self._balances(account)
            changed = [
                self._balance_row(c, v)
                for c, v in sorted(balances.items())
                if old_balances.get(c) != v
            ]
            session.views[("balances", "")] = balances
            if changed:
                session.send(
                    None, raw=dumps({"channel": "balances", "type": "update", "data": changed})
                )
