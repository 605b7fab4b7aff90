"""One ticker-and-book watcher per exchange and symbol, shared by every tab that shows it.

A tab never asks the exchange itself: it subscribes to a :class:`MarketWatch`, an agent with
two tasks (``ticker``, ``book``) polling through the exchange's one public client. The first
tab to show a symbol starts its watch, the last one to leave stops it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from xest.agents import Agent, Observation

MARKET = "market"  # the event a watch emits when the ticker or the book changed
BOOK_DEPTH = 10


class MarketWatch(Agent):
    """Polls one symbol's ticker and order book."""

    def __init__(self, client: Any, symbol: str, *, interval: float) -> None:
        super().__init__(f"{client.name}:{symbol}", history=50)
        self.client = client
        self.symbol = symbol
        self._lock_values = threading.Lock()
        self.ticker: Any = None
        self.book: Any = None
        self.updated_at: float | None = None  # UNIX time of the last good poll
        caps = client.capabilities
        if "ticker" in caps:
            self.add_task("ticker", lambda: client.ticker(symbol), interval)
        if "order_book" in caps:
            self.add_task("book", lambda: client.order_book(symbol, BOOK_DEPTH), interval)

    def _observed(self, observation: Observation) -> None:
        if not observation.ok:
            return
        with self._lock_values:
            old = getattr(self, observation.task)
            setattr(self, observation.task, observation.value)
            self.updated_at = time.time()
        if _without_time(old) != _without_time(observation.value):
            self.emit(MARKET, task=observation.task)


def _without_time(value: Any) -> Any:
    # A simulator stamps every answer with the time: only a change of figures is news.
    if value is None:
        return None
    return (
        getattr(value, "bids", None),
        getattr(value, "asks", None),
        getattr(value, "last", None),
        getattr(value, "bid", None),
        getattr(value, "ask", None),
    )


class Watches:
    """The running market watches, counted by how many streams use each."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._lock = threading.Lock()
        self._watches: dict[tuple[str, str], tuple[MarketWatch, int]] = {}

    def acquire(self, exchange: str, symbol: str) -> MarketWatch:
        key = (exchange, symbol)
        with self._lock:
            found = self._watches.get(key)
            if found is not None:
                watch, count = found
                self._watches[key] = (watch, count + 1)
                return watch
            client = self._hub.exchange(exchange).client
            watch = MarketWatch(client, symbol, interval=self._hub.intervals(exchange).market)
            watch.subscribe(self._hub.notifier.notify, MARKET)
            self._watches[key] = (watch, 1)
        watch.start(wait=False)
        return watch

    def release(self, exchange: str, symbol: str) -> None:
        key = (exchange, symbol)
        with self._lock:
            found = self._watches.get(key)
            if found is None:
                return
            watch, count = found
            if count > 1:
                self._watches[key] = (watch, count - 1)
                return
            del self._watches[key]
        watch.stop()

    def peek(self, exchange: str, symbol: str) -> MarketWatch | None:
        with self._lock:
            found = self._watches.get((exchange, symbol))
        return None if found is None else found[0]

    def running(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._watches)

    def close(self) -> None:
        with self._lock:
            watches = [w for w, _ in self._watches.values()]
            self._watches.clear()
        for watch in watches:
            watch.stop()
