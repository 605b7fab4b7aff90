"""What exchange simulators use to speak their streams on loopback: a websocket server in a
thread, per-connection sessions, an editable book with diffs, and stream faults.

A simulator owns a :class:`WsServer` (``websockets.sync.server`` on 127.0.0.1) and gives it a
``session(conn)`` handler per connection. Faults are queued with :meth:`WsServer.inject`:
``drop`` (the connections are cut), ``gap`` (the next book update is lost on the way),
``bad_checksum`` (the next checksum sent is wrong), ``stale`` (nothing is sent, heartbeats
included, for ``seconds``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

log = logging.getLogger("xest.streams.sim")

FAULTS = ("drop", "gap", "bad_checksum", "stale")

Levels = list[tuple[Decimal, Decimal]]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class Session:
    """One client connection: what it subscribed to and what it was last sent."""

    def __init__(self, server: WsServer, conn: Any, path: str | None = None) -> None:
        self.server = server
        self.conn = conn
        self.path: str = path or getattr(getattr(conn, "request", None), "path", None) or "/"
        self.subscriptions: dict[tuple[str, str], dict[str, Any]] = {}
        # What the connection was last sent, per (channel, symbol): books, tops, orders...
        self.views: dict[tuple[str, str], Any] = {}
        self.account: Any = None
        self.send_lock = threading.Lock()
        self.closed = False
        self.open = False  # handshake done: until then messages wait in the backlog
        self.backlog: list[str] = []

    def send(self, message: Any, raw: str | None = None) -> None:
        if self.closed or self.server.silent():
            return
        text = raw if raw is not None else json.dumps(message, default=_default)
        try:
            with self.send_lock:
                if self.open:
                    self.conn.send(text)
                else:
                    self.backlog.append(text)
        except Exception:  # the client went away: its handler thread cleans up
            self.closed = True

    def flush(self) -> None:
        """The handshake is done: send what waited, then send directly."""
        with self.send_lock:
            for text in self.backlog:
                self.conn.send(text)
            self.backlog.clear()
            self.open = True


class WsServer:
    """A websocket server on loopback for one simulator."""

    def __init__(
        self,
        handler: Callable[[Session], None],
        name: str = "sim",
        *,
        heartbeat: Callable[[Session], None] | None = None,
        heartbeat_interval: float = 1.0,
        on_open: Callable[[Session], None] | None = None,
    ) -> None:
        self.handler = handler
        self.on_open = on_open  # runs during the handshake: subscribed before connect() returns
        self._pending: dict[int, Session] = {}
        self.name = name
        self.heartbeat = heartbeat
        self.heartbeat_interval = heartbeat_interval
        self._stopped = threading.Event()
        self.sessions: set[Session] = set()
        self.lock = threading.Lock()
        self.faults: list[tuple[str, dict[str, Any]]] = []
        self._silent_until = 0.0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.connections = 0  # accepted so far

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stream server is not started")
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"

    def start(self) -> WsServer:
        if self._server is None:
            from websockets.sync.server import serve

            self._server = serve(
                self._serve, "127.0.0.1", 0, close_timeout=1, process_request=self._handshake
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"sim-ws-{self.name}", daemon=True
            )
            self._thread.start()
            if self.heartbeat is not None:
                threading.Thread(
                    target=self._beat, name=f"sim-ws-{self.name}-heartbeat", daemon=True
                ).start()
        return self

    def _beat(self) -> None:
        while not self._stopped.wait(self.heartbeat_interval):
            for session in self.each():
                if session.subscriptions:
                    self.heartbeat(session)  # type: ignore[misc]

    def stop(self) -> None:
        self._stopped.set()
        if self._server is not None:
            self.drop()
            self._server.shutdown()
            self._server = None

    def _handshake(self, conn: Any, request: Any) -> None:
        session = Session(self, conn, request.path)
        if self.on_open is not None:
            self.on_open(session)
        with self.lock:
            self.sessions.add(session)  # published to from now on (into its backlog)
            self._pending[id(conn)] = session

    def _serve(self, conn: Any) -> None:
        with self.lock:
            session = self._pending.pop(id(conn), None) or Session(self, conn)
            self.sessions.add(session)
            self.connections += 1
        try:
            session.flush()
            self.handler(session)
        except Exception as exc:  # a closed connection ends the handler; nothing to report
            log.debug("%s: session ended: %s", self.name, exc)
        finally:
            session.closed = True
            with self.lock:
                self.sessions.discard(session)

    def each(self) -> list[Session]:
        with self.lock:
            return [s for s in self.sessions if not s.closed]

    # -- faults --------------------------------------------------------------------------------

    def inject(self, fault: str, **options: Any) -> None:
        """Queue a stream fault (see the module doc); ``drop`` and ``stale`` act at once."""
        if fault not in FAULTS:
            raise ValueError(f"unknown stream fault {fault!r} (known: {', '.join(FAULTS)})")
        if fault == "drop":
            self.drop()
        elif fault == "stale":
            self._silent_until = time.monotonic() + float(options.get("seconds", 5.0))
        else:
            with self.lock:
                self.faults.append((fault, options))

    def take(self, fault: str) -> bool:
        """Consume a queued fault of this kind, if any (the simulator applies it)."""
        with self.lock:
            for i, (kind, _) in enumerate(self.faults):
                if kind == fault:
                    del self.faults[i]
                    return True
        return False

    def silent(self) -> bool:
        return time.monotonic() < self._silent_until

    def drop(self) -> None:
        """Cut every connection without a closing handshake, as a network failure does."""
        for session in self.each():
            session.closed = True
            sock = getattr(session.conn, "socket", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# -- an editable book ------------------------------------------------------------------------


class BookOverlay:
    """Changes to a simulator's computed book (price → quantity, zero removes), so tests can
    move single levels as well as the whole book."""

    def __init__(self) -> None:
        self.changes: dict[str, dict[str, dict[Decimal, Decimal]]] = {}

    def set(self, key: str, side: str, price: Decimal, qty: Decimal) -> None:
        self.changes.setdefault(key, {"bid": {}, "ask": {}})[side][price] = qty

    def clear(self, key: str) -> None:
        self.changes.pop(key, None)

    def apply(self, key: str, bids: Levels, asks: Levels) -> tuple[Levels, Levels]:
        changes = self.changes.get(key)
        if not changes:
            return bids, asks
        return _merge(bids, changes["bid"], True), _merge(asks, changes["ask"], False)


def _merge(levels: Levels, changes: dict[Decimal, Decimal], descending: bool) -> Levels:
    book = dict(levels)
    book.update(changes)
    return sorted(((p, q) for p, q in book.items() if q > 0), reverse=descending)


def diff(old: Levels, new: Levels) -> Levels:
    """The level changes that turn ``old`` into ``new`` (removed levels as quantity 0)."""
    before, after = dict(old), dict(new)
    changes = [(p, q) for p, q in after.items() if before.get(p) != q]
    changes += [(p, Decimal(0)) for p in before if p not in after]
    return changes


def random_change(
    rng: Any, bids: Levels, asks: Levels, tick: Decimal, lot: Decimal
) -> tuple[str, Decimal, Decimal]:
    """A plausible random level change: resize, remove or add a level near the top."""
    side = rng.choice(("bid", "ask"))
    levels = bids if side == "bid" else asks
    action = rng.random()
    if levels and action < 0.4:
        price = rng.choice(levels[: min(len(levels), 15)])[0]
        return side, price, lot * rng.randint(1, 40)
    if levels and action < 0.65:
        return side, rng.choice(levels[: min(len(levels), 12)])[0], Decimal(0)
    best_bid = bids[0][0] if bids else None
    best_ask = asks[0][0] if asks else None
    if side == "bid":
        top = best_bid if best_bid is not None else (best_ask or tick * 1000) - tick
        price = top - tick * rng.randint(-1, 12)
        if best_ask is not None and price >= best_ask:
            price = best_ask - tick
    else:
        top = best_ask if best_ask is not None else (best_bid or tick * 1000) + tick
        price = top + tick * rng.randint(-1, 12)
        if best_bid is not None and price <= best_bid:
            price = best_bid + tick
    return side, max(price, tick), lot * rng.randint(1, 40)


_NUM = re.compile(r'"\\u0000([-+0-9.eE]+)\\u0000"')


def number(value: Decimal, places: int | None = None) -> str:
    """A Decimal to be written as a bare JSON number with exactly these digits (see dumps)."""
    text = format(value, "f") if places is None else f"{value:.{places}f}"
    return "\x00" + text + "\x00"


def dumps(message: Any) -> str:
    """JSON with :func:`number` values written as numbers, trailing zeros kept (Kraken v2 sends
    its prices and quantities as JSON numbers at full precision)."""
    return _NUM.sub(r"\1", json.dumps(message, default=_default, separators=(",", ":")))


def levels_of(pairs: Iterable[tuple[Any, Any]]) -> Levels:
    return [(Decimal(p), Decimal(q)) for p, q in pairs]
