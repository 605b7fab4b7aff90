"""One market agent per exchange and symbol, shared by every tab that shows it.

A tab never asks the exchange itself: it subscribes to the core's
:class:`~xest.agents.market.MarketAgent` of that symbol (ticker and book, streamed when the
connector declares streams and the simulator serves them, polled otherwise), made through the
exchange's one public client. The first tab to show a symbol starts its agent, the last one to
leave stops it.
"""

from __future__ import annotations

import threading
from typing import Any

from xest.agents import MarketAgent

BOOK_DEPTH = 10


class Watches:
    """The running market watches, counted by how many streams use each."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._lock = threading.Lock()
        self._watches: dict[tuple[str, str], tuple[MarketAgent, int]] = {}

    def acquire(self, exchange: str, symbol: str) -> MarketAgent:
        key = (exchange, symbol)
        with self._lock:
            found = self._watches.get(key)
            if found is not None:
                watch, count = found
                self._watches[key] = (watch, count + 1)
                return watch
            client = self._hub.exchange(exchange).client
            watch = MarketAgent(
                client, symbol, depth=BOOK_DEPTH, interval=self._hub.intervals(exchange).market
            )
            watch.subscribe(self._hub.notifier.notify)
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

    def peek(self, exchange: str, symbol: str) -> MarketAgent | None:
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
