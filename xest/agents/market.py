"""The market agent: one symbol's ticker and order book, streamed when the connector declares
streams, polled otherwise, and polled again while a stream is down.

While a stream is live the agent's state comes from it (no request is made); when the stream
drops, goes stale or resyncs, the agent polls through the REST transport (its cache and rate
limits apply) until the stream, which reconnects by itself with backoff, is live again. Every
value carries its source (``stream`` or ``poll``), and a ``source`` event says when it changes.
Events: ``ticker`` (best bid/ask moved), ``source``, and the streams' own as ``stream_connected``,
``stream_disconnected``, ``stream_resync``, ``stream_stale``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from xest import errors
from xest.agents.base import Agent, Observation
from xest.models import OrderBook, Ticker

if TYPE_CHECKING:
    from xest.streams import Stream


class MarketSource(Protocol):
    """What the agent reads from (``xest.open(...)`` gives one): the connector's public reads
    and its streams. Declared here so that agents never depend on the facade."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[str]: ...

    @property
    def streams(self) -> frozenset[str]: ...

    def ticker(self, symbol: str) -> Ticker: ...

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook: ...

    def stream_ticker(self, symbol: str, **options: Any) -> Stream: ...

    def stream_book(self, symbol: str, depth: int = 10, **options: Any) -> Stream: ...


STREAM = "stream"
POLL = "poll"


@attrs.frozen
class Sourced:
    """A value with where it came from and when it arrived (local UTC and monotonic)."""

    value: Any
    source: str  # "stream" or "poll"
    at: datetime
    mono: float


class MarketAgent(Agent):
    """Keeps ``symbol``'s ticker and book (best ``depth`` levels) current. ``poll=True``
    forces polling even when the connector declares streams; ``interval`` is the polling pace
    (and how often a live stream is checked)."""

    def __init__(
        self,
        client: MarketSource,
        symbol: str,
        *,
        depth: int = 10,
        interval: float = 2.0,
        poll: bool = False,
        book: bool = True,
        ticker: bool = True,
        stale_after: int = 3,
        history: int = 1000,
        stream_options: dict[str, Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            f"{client.name}:{symbol}", history=history, stale_after=stale_after, monotonic=monotonic
        )
        self.client = client
        self.symbol = symbol
        self.depth = depth
        self.force_poll = poll
        self.stream_options = dict(stream_options or {})  # e.g. stale_after, backoff
        self._state_lock = threading.RLock()
        self._values: dict[str, Sourced] = {}
        self._sources: dict[str, str | None] = {}
        self._streams: dict[str, Any] = {}
        self.requests = 0  # REST calls this agent made (the fallback's cost)
        if ticker and "ticker" in client.capabilities:
            self.add_task("ticker", lambda: self._read("ticker"), interval)
        if book and "order_book" in client.capabilities:
            self.add_task("book", lambda: self._read("book"), interval)

    # -- streams -------------------------------------------------------------------------------

    def streaming(self, kind: str) -> bool:
        """Whether ``kind`` (ticker, book) is meant to be streamed (declared, not forced off)."""
        return not self.force_poll and kind in self.client.streams

    def start(self, *, wait: bool = True, timeout: float = 15.0) -> MarketAgent:
        for kind in self.tasks:
            if self.streaming(kind) and kind not in self._streams:
                try:
                    self._streams[kind] = self._open(kind)
                except errors.XestError as exc:  # no stream to be had: polling alone
                    self.emit("stream_failed", task=kind, error=str(exc), source=POLL)
        super().start(wait=wait, timeout=timeout)
        return self

    def _open(self, kind: str) -> Any:
        options = self.stream_options
        stream = (
            self.client.stream_book(self.symbol, self.depth, **options)
            if kind == "book"
            else self.client.stream_ticker(self.symbol, **options)
        )
        stream.on_value = functools.partial(self._streamed, kind)
        stream.subscribe(functools.partial(self._stream_event, kind))
        return stream

    def _streamed(self, kind: str, value: Any) -> None:
        self._set(kind, value, STREAM)

    def stop(self, timeout: float = 15.0) -> None:
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
        super().stop(timeout)

    def _stream_event(self, kind: str, event: Any) -> None:
        if event.kind in ("closed",):
            return
        self.emit(f"stream_{event.kind}", task=kind, stream=event.source, **event.data)
        if event.kind in ("disconnected", "resync", "stale", "failed"):
            # Poll at once rather than at the next tick: the picture must not go quiet.
            with self._lock:
                if kind in self._tasks:
                    self._tasks[kind].next_due = self._monotonic()
            self._wake.set()

    def stream(self, kind: str) -> Any:
        """The stream behind ``kind``, if any."""
        return self._streams.get(kind)

    # -- reading -------------------------------------------------------------------------------

    def _read(self, kind: str) -> Any:
        stream = self._streams.get(kind)
        if stream is not None and stream.live:
            value = stream.latest
            if value is not None:
                return self._set(kind, value, STREAM, emit_source=True)
        self.requests += 1
        if kind == "book":
            value = self.client.order_book(self.symbol, self.depth)
        else:
            value = self.client.ticker(self.symbol)
        return self._set(kind, value, POLL)

    def _set(self, kind: str, value: Any, source: str, emit_source: bool = True) -> Any:
        stamped = Sourced(value, source, datetime.now(UTC), time.monotonic())
        stream = self._streams.get(kind)
        with self._state_lock:
            old = self._values.get(kind)
            if (
                source == POLL
                and old is not None
                and old.source == STREAM
                and stream is not None
                and stream.live
            ):
                # The stream came up while this poll was out: its value is the newer one.
                return old.value
            self._values[kind] = stamped
            old_source = self._sources.get(kind)
            self._sources[kind] = source
        if emit_source and old_source != source:
            self.emit("source", old=old_source, new=source, task=kind)
        if kind == "ticker" and (old is None or _top(old.value) != _top(value)):
            self.emit(
                "ticker",
                old=None if old is None else _top(old.value),
                new=_top(value),
                source=source,
            )
        return value

    def _observed(self, observation: Observation) -> None:
        """Polls are recorded by the base; nothing else to derive."""

    # -- state ---------------------------------------------------------------------------------

    def _current(self, kind: str) -> Sourced | None:
        with self._state_lock:
            value = self._values.get(kind)
        if value is None:
            return None
        stream = self._streams.get(kind)
        if value.source == STREAM and (stream is None or not stream.live):
            # The stream went down since: its last book is no longer known right. Serve the
            # last poll instead, if the fallback has made one.
            return None
        if value.source == POLL and self.is_stale(kind):
            return None
        return value

    @property
    def book(self) -> OrderBook | None:
        """The current book (None when not known right now)."""
        current = self._current("book")
        return None if current is None else current.value

    @property
    def ticker(self) -> Ticker | None:
        current = self._current("ticker")
        return None if current is None else current.value

    def sourced(self, kind: str) -> Sourced | None:
        """The current ``book`` or ``ticker`` with its source and arrival time."""
        return self._current(kind)

    def source(self, kind: str) -> str | None:
        with self._state_lock:
            return self._sources.get(kind)


def _top(value: Any) -> tuple[Any, Any]:
    if isinstance(value, OrderBook):
        return (value.best_bid and value.best_bid.price, value.best_ask and value.best_ask.price)
    return (getattr(value, "bid", None), getattr(value, "ask", None))
