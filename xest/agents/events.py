"""Events: what an agent noticed changing, and the ways to receive them.

A :class:`Subscription` calls back in the thread that noticed the change; a :class:`Listener`
queues events for a consumer thread (``get``, ``wait_for``), never blocking the agent.
"""

from __future__ import annotations

import collections
import logging
import queue
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["Event", "EventSource", "Listener", "Subscription"]

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


class EventSource:
    """The event side of agents and streams: a bounded history, callbacks and listeners.

    The owner sets ``name``, ``_lock`` (reentrant), ``_events`` (a bounded deque) and
    ``_subscriptions`` in its constructor, and builds its events with :meth:`_publish`.
    """

    name: str
    _lock: Any
    _events: collections.deque[Event]
    _subscriptions: list[Subscription]

    def events(self, *kinds: str) -> tuple[Event, ...]:
        """The events emitted so far, oldest first (bounded), optionally of some kinds only."""
        with self._lock:
            return tuple(e for e in self._events if not kinds or e.kind in kinds)

    def subscribe(self, callback: Callable[[Event], None], *kinds: str) -> Subscription:
        """Call ``callback(event)`` for every event (of ``kinds``, if given).

        Callbacks run in the thread that noticed the change (usually the agent's), so keep them
        short; an exception in one is logged and does not reach the agent or other callbacks.
        """
        subscription = Subscription(self._unsubscribe, callback, frozenset(kinds))
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def listen(self, *kinds: str) -> Listener:
        """A queue of upcoming events (of ``kinds``, if given) for a consumer thread."""
        listener = Listener(self._unsubscribe, frozenset(kinds))
        with self._lock:
            self._subscriptions.append(listener)
        return listener

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def _publish(self, event: Event) -> Event:
        """Record ``event`` and hand it to the subscribers that want it."""
        with self._lock:
            self._events.append(event)
            subscribers = [s for s in self._subscriptions if s.wants(event)]
        for subscription in subscribers:
            try:
                subscription.callback(event)
            except Exception:
                log.exception("%s: event subscriber failed on %s", self.name, event.kind)
        return event
