"""Wake the browsers' event streams (asyncio) when an agent saw something (any thread)."""

from __future__ import annotations

import asyncio
import threading


class Notifier:
    """A change counter that the agents' threads bump and the event streams wait on.

    Agents run in their own threads; each event stream is a coroutine on the server's loop.
    ``notify()`` sets every waiting stream's asyncio event through its loop, so a change
    reaches the page without any stream polling an exchange.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.version = 0
        self.closing = False

    def notify(self, *_: object) -> None:
        with self._lock:
            self.version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed: its stream is gone
                self.unregister(event)

    def register(self) -> asyncio.Event:
        """An event set at the next change; call from the stream's coroutine."""
        event = asyncio.Event()
        with self._lock:
            self._waiters.add((asyncio.get_running_loop(), event))
        return event

    def unregister(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = {w for w in self._waiters if w[1] is not event}

    @property
    def streams(self) -> int:
        """How many event streams are open (for tests and the bench)."""
        with self._lock:
            return len(self._waiters)

    def close(self) -> None:
        """Tell every stream to end (server shutting down)."""
        self.closing = True
        self.notify()
