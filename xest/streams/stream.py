"""A feed run in a thread: connect, subscribe, read; reconnect with backoff; resync by itself.

:class:`Stream` is what ``client.stream_ticker(...)`` and friends return: an iterator of parsed
values (``for book in stream``), ``get(timeout)``, ``latest`` (the newest value while it is
known current, else None), events like the agents' (``connected``, ``disconnected``,
``resync``, ``stale``, ``closed``), ``close()`` and a context manager.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from xest import errors
from xest.agents.events import Event, EventSource, Subscription
from xest.streams.backoff import Backoff
from xest.streams.feed import Connection, Feed, Resync, StaleFeed

log = logging.getLogger("xest.streams")

CONNECTED = "connected"
DISCONNECTED = "disconnected"
RESYNC = "resync"
STALE = "stale"
CLOSED = "closed"
FAILED = "failed"  # a fatal error: the stream stopped (bad credentials, unknown symbol)

_FATAL = (errors.AuthenticationError, errors.BadSymbol, errors.NotSupported, errors.ConfigError)
_END = object()


def _connect(url: str, open_timeout: float) -> Any:
    from websockets.sync.client import connect  # imported on first use: plain reads skip it

    return connect(url, open_timeout=open_timeout, close_timeout=1, max_size=2**24)


class Stream(EventSource, Iterator[Any]):
    """Run ``feed`` until closed. Thread safe; one background thread per stream."""

    def __init__(
        self,
        feed: Feed,
        *,
        name: str = "",
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        history: int = 1000,
        maxsize: int = 100_000,
        stale_after: float | None = None,
        connect: Callable[[str, float], Any] = _connect,
    ) -> None:
        self.feed = feed
        if stale_after is not None:
            feed.stale_after = stale_after
        self.name = name or feed.describe()
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self._connect = connect
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._live = threading.Event()
        self._latest: Any = None
        self._last: Any = None
        self._last_at: float | None = None
        self._events: collections.deque[Event] = collections.deque(maxlen=history)
        self._subscriptions: list[Subscription] = []
        self._ws: Any = None
        self._error: BaseException | None = None
        self.state = "connecting"
        self.connects = 0
        self.messages = 0
        self.resyncs = 0
        self._thread: threading.Thread | None = None
        # Called with each value in the stream's thread, before iterators see it (agents).
        self.on_value: Callable[[Any], Any] | None = None

    def __repr__(self) -> str:
        return f"<Stream {self.name} {self.state}>"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, *, wait: float | None = None) -> Stream:
        """Start the thread; with ``wait``, block up to that many seconds for the first value."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"xest-stream-{self.name}", daemon=True
            )
            self._thread.start()
        if wait:
            self.wait_live(wait)
        return self

    def wait_live(self, timeout: float) -> bool:
        """Wait until the stream delivers current values (True) or ``timeout`` passes."""
        return self._live.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread and the connection; iteration ends after queued values."""
        if self._closed.is_set():
            return
        self._closed.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to close
                ws.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._set_state(CLOSED)
        self._put(_END, force=True)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> Stream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- values --------------------------------------------------------------------------------

    def __iter__(self) -> Stream:
        if self._thread is None:
            self.start()
        return self

    def __next__(self) -> Any:
        return self.get()

    def get(self, timeout: float | None = None) -> Any:
        """The next value; TimeoutError after ``timeout`` s; StopIteration once closed (or the
        stream's fatal error, e.g. AuthenticationError)."""
        if self._thread is None:
            self.start()
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"{self.name}: no value within {timeout} s") from None
        if item is _END:
            self._put(_END, force=True)  # every later get() ends too
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item

    @property
    def latest(self) -> Any:
        """The newest value while the stream is current (a book known right), else None."""
        with self._lock:
            return self._latest if self.state == "live" else None

    @property
    def last(self) -> Any:
        """The newest value ever delivered, current or not (see ``latest``)."""
        with self._lock:
            return self._last

    @property
    def last_at(self) -> float | None:
        """``time.monotonic()`` when the newest value arrived."""
        return self._last_at

    @property
    def live(self) -> bool:
        return self.state == "live"

    def _deliver(self, item: Any) -> None:
        with self._lock:
            self._latest = self._last = item
            self._last_at = time.monotonic()
        if self.on_value is not None:
            try:
                self.on_value(item)
            except Exception:
                log.exception("%s: value callback failed", self.name)
        self._put(item)

    def _put(self, item: Any, force: bool = False) -> None:
        if self.feed.conflate and item is not _END:
            # Only the newest matters: drop what the reader has not taken yet.
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                if not force:
                    log.warning("%s: reader too slow, dropping the oldest value", self.name)
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    # -- events --------------------------------------------------------------------------------

    def emit(self, kind: str, **data: Any) -> Event:
        return self._publish(
            Event(kind, self.name, datetime.now(UTC), data={"source": "stream", **data})
        )

    def _set_state(self, state: str) -> None:
        with self._lock:
            self.state = state
            if state == "live":
                self._live.set()
            else:
                self._live.clear()
                self._latest = None

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed.is_set():
            delay: float | None = None
            try:
                self._session()
            except Resync as exc:
                self.resyncs += 1
                self.emit(RESYNC, reason=exc.reason, **exc.data)
                # The first resync goes at once; a feed that keeps failing backs off.
                delay = 0.0 if self.backoff.attempts == 0 else self.backoff.next()
                if delay == 0.0:
                    self.backoff.attempts += 1
            except StaleFeed as exc:
                self.emit(STALE, reason=str(exc))
            except _FATAL as exc:
                self._error = exc
                self.emit(FAILED, error=str(exc))
                break
            except Exception as exc:  # dropped, refused, reset, bad frame: reconnect
                if not self._closed.is_set():
                    self.emit(DISCONNECTED, reason=f"{type(exc).__name__}: {exc}"[:200])
            finally:
                self._ws = None
                self.feed.reset()
                if not self._closed.is_set():
                    self._set_state("reconnecting")
            if self._closed.is_set():
                break
            self._closed.wait(self.backoff.next() if delay is None else delay)
        self._set_state(CLOSED)
        self.emit(CLOSED)
        self._put(_END, force=True)

    def _deliver_all(self, items: Any) -> None:
        for item in items:
            if self.state != "live":
                self._set_state("live")
                self.backoff.reset()
            self._deliver(item)

    def _session(self) -> None:
        with self._connect(self.feed.url(), self.open_timeout) as ws:
            self._ws = ws
            if self._closed.is_set():
                return
            conn = Connection(ws)
            self._set_state("syncing")
            self.feed.open(conn)
            self.connects += 1
            self.emit(CONNECTED, connects=self.connects)
            if self.feed.synced():  # subscribed and nothing to rebuild: current from now on
                self._set_state("live")
            self._deliver_all(self.feed.opened())
            # Connected but never current (a lost subscription, a snapshot that never came,
            # heartbeats only): as bad as silence.
            sync_deadline = time.monotonic() + 2 * self.feed.stale_after
            while not self._closed.is_set():
                if self.state != "live" and time.monotonic() > sync_deadline:
                    raise StaleFeed("subscribed but no current value came: reconnecting")
                if self.state == "live":
                    sync_deadline = time.monotonic() + 2 * self.feed.stale_after
                try:
                    message = conn.recv(timeout=self.feed.stale_after)
                except TimeoutError:
                    raise StaleFeed(
                        f"no message for {self.feed.stale_after} s: reconnecting"
                    ) from None
                self.messages += 1
                self._deliver_all(self.feed.handle(message))
                if self.state == "live" and not self.feed.synced():
                    self._set_state("syncing")
