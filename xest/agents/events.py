"""Events: what an agent noticed changing, and the ways to receive them.

A :class:`Subscription` calls back in the thread that noticed the change; a :class:`Listener`
queues events for a consumer thread (``get``, ``wait_for``), never blocking the agent.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["Event", "Listener", "Subscription"]

log = logging.getLogger("xest.agents")


@attrs.frozen
class Event:
    """A change an agent noticed: ``kind`` says what (``status``, ``clock_jump``, ``balance``...),
    ``old`` and ``new`` the values before and after, ``data`` any detail."""

    kind: str
    source: str  # the agent's name, e.g. ``kraken`` or ``kraken:alice``
    at: datetime
    old: Any = None
    new: Any = None
    data: Mapping[str, Any] = attrs.field(factory=dict, hash=False)  # dicts do not hash


class Subscription:
    """A registered callback; ``cancel()`` (or leaving the ``with`` block) unregisters it."""

    def __init__(
        self,
        unsubscribe: Callable[[Subscription], None],
        callback: Callable[[Event], None],
        kinds: frozenset[str],
    ) -> None:
        self._unsubscribe = unsubscribe
        self.callback = callback
        self.kinds = kinds

    def wants(self, event: Event) -> bool:
        return not self.kinds or event.kind in self.kinds

    def cancel(self) -> None:
        self._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class Listener(Subscription):
    """A subscription that queues events for a consumer thread (``get``, ``wait_for``)."""

    def __init__(
        self,
        unsubscribe: Callable[[Subscription], None],
        kinds: frozenset[str],
        maxsize: int = 10_000,
    ) -> None:
        self.queue: queue.Queue[Event] = queue.Queue(maxsize)
        super().__init__(unsubscribe, self._put, kinds)

    def _put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:  # a consumer that stopped reading must not block the agent
            log.warning("%s: event listener full, dropping %s event", event.source, event.kind)

    def get(self, timeout: float | None = None) -> Event:
        """The next event; ``TimeoutError`` if none comes within ``timeout`` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no event within {timeout} s") from None

    def drain(self) -> list[Event]:
        """Every event queued so far, without waiting."""
        events = []
        while True:
            try:
                events.append(self.queue.get_nowait())
            except queue.Empty:
                return events

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event:
        """The first queued or upcoming event for which ``predicate`` is true."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching event within {timeout} s")
            event = self.get(timeout=left)
            if predicate(event):
                return event

    def __enter__(self) -> Listener:
        return self
