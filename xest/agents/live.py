"""The live objects around the frozen snapshots: :class:`TrackedOrder` here, and
:class:`~xest.agents.quote.LiveQuote`.

A :class:`xest.models.Order` or :class:`xest.models.Quote` is what the exchange said once. The
live object is the one place in the process that knows where that order or quote stands *now*:
the account's registry hands out exactly one per id, so every caller sees the same state, and a
quote can be executed once, under a lock, no matter how many threads try.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from xest import errors
from xest.agents.base import Event
from xest.models import Order, OrderStatus

__all__ = ["EventSink", "OrderEvents", "Subscribers", "TrackedOrder", "final_event"]

log = logging.getLogger("xest.agents")

EventSink = Callable[[str, Any, Any, dict[str, Any]], None]


class OrderEvents:
    """The event kinds a tracked order emits."""

    NEW = "order_new"
    UPDATE = "order_update"  # a status change that is none of the below (pending → open)
    PARTIAL_FILL = "order_partial_fill"
    FILL = "order_filled"
    CANCEL = "order_cancelled"
    REJECT = "order_rejected"
    EXPIRE = "order_expired"


_FINAL_EVENT = {
    OrderStatus.FILLED: OrderEvents.FILL,
    OrderStatus.CANCELLED: OrderEvents.CANCEL,
    OrderStatus.REJECTED: OrderEvents.REJECT,
    OrderStatus.EXPIRED: OrderEvents.EXPIRE,
}


def final_event(status: OrderStatus) -> str:
    """The event kind of an order reaching ``status`` (a final status)."""
    return _FINAL_EVENT[status]


class Subscribers:
    """Callbacks of one live object (an order, a quote)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._callbacks: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def add(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def cancel() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return cancel

    def emit(self, kind: str, old: Any, new: Any, data: dict[str, Any]) -> Event:
        event = Event(kind, self.source, datetime.now(UTC), old, new, data)
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # one bad subscriber must not break tracking
                log.exception("%s: subscriber failed on %s", self.source, kind)
        return event


class TrackedOrder:
    """One order, followed until it is final. Get it from the account, never build it yourself.

    Reads (``status``, ``filled``...) come from the latest snapshot. ``wait()`` blocks until the
    order is final; ``subscribe()`` delivers its events (partial fill, fill, cancel...).
    """

    def __init__(
        self,
        order: Order,
        *,
        refresh: Callable[[TrackedOrder], Any] | None = None,
        cancel: Callable[[TrackedOrder], Order] | None = None,
        followed: Callable[[], bool] | None = None,
        sink: EventSink | None = None,
        history: int = 64,
    ) -> None:
        self._order = order
        self._refresh = refresh
        self._cancel = cancel
        self._followed = followed or (lambda: False)
        self._sink = sink
        self._cond = threading.Condition()
        self._history: collections.deque[Order] = collections.deque([order], maxlen=history)
        self._subscribers = Subscribers(f"order:{order.id}")
        self._lost = False

    def __repr__(self) -> str:
        o = self._order
        return (
            f"<TrackedOrder {o.id} {o.symbol} {o.side} {o.type} {o.status} {o.filled}/{o.amount}>"
        )

    # -- reads -----------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Order:
        """The latest :class:`~xest.models.Order` the exchange reported."""
        return self._order

    @property
    def history(self) -> tuple[Order, ...]:
        """The snapshots that changed something, oldest first (bounded)."""
        with self._cond:
            return tuple(self._history)

    id = property(lambda self: self._order.id)
    client_id = property(lambda self: self._order.client_id)
    symbol = property(lambda self: self._order.symbol)
    side = property(lambda self: self._order.side)
    type = property(lambda self: self._order.type)
    status = property(lambda self: self._order.status)
    amount = property(lambda self: self._order.amount)
    filled = property(lambda self: self._order.filled)
    remaining = property(lambda self: self._order.remaining)
    price = property(lambda self: self._order.price)
    average_price = property(lambda self: self._order.average_price)
    is_final = property(lambda self: self._order.is_final)

    def __getattr__(self, name: str) -> Any:
        # Every other field of the snapshot (created, fee, time_in_force, raw...) reads through.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._order, name)

    # -- updates ---------------------------------------------------------------------------------

    def update(self, order: Order) -> list[Event]:
        """Apply a newer snapshot; stale ones (less filled, or non-final after final) are ignored.

        Returns the events it caused, already delivered to subscribers.
        """
        if order.id != self._order.id:
            raise ValueError(f"snapshot of order {order.id} given to order {self._order.id}")
        with self._cond:
            old = self._order
            if _is_stale(old, order):
                return []
            self._order = order
            kinds = _changes(old, order)
            if kinds:
                self._history.append(order)
            self._cond.notify_all()
        return [self._emit(kind, old, order) for kind in kinds]

    def _emit(self, kind: str, old: Order | None, new: Order) -> Event:
        data: dict[str, Any] = {"order_id": new.id, "symbol": new.symbol}
        if old is not None:
            data["filled_delta"] = new.filled - old.filled
        if self._sink is not None:
            self._sink(kind, old, new, data)
        return self._subscribers.emit(kind, old, new, data)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on each change of this order; returns a cancel function.

        Callbacks run in the thread that saw the change (often the agent's): keep them short,
        and do not ``wait()`` in them."""
        return self._subscribers.add(callback)

    @property
    def lost(self) -> bool:
        """Whether the exchange stopped knowing this order before it was seen final."""
        return self._lost

    def mark_lost(self) -> None:
        """The account gave up following it: wake ``wait()`` callers with OrderNotFound."""
        with self._cond:
            self._lost = True
            self._cond.notify_all()

    # -- actions ---------------------------------------------------------------------------------

    def refresh(self) -> Order:
        """Ask the exchange now, and return the latest snapshot."""
        if self._refresh is not None:
            self._refresh(self)
        return self._order

    def cancel(self) -> Order:
        """Cancel the order on the exchange (InvalidOrder if it is already final)."""
        if self._cancel is None:
            raise errors.NotSupported("this order is not attached to an account")
        return self._cancel(self)

    def wait(self, timeout: float | None = None, *, poll: float = 0.5) -> Order:
        """Block until the order is final and return its final snapshot.

        When the account agent is running it does the polling; otherwise this call asks the
        exchange itself every ``poll`` seconds. ``TimeoutError`` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                if self._order.is_final:
                    return self._order
                if self._lost:
                    raise errors.OrderNotFound(
                        f"the exchange no longer knows order {self.id} (last seen "
                        f"{self._order.status}); check the account's closed orders"
                    )
                left = _left(deadline)
                if left is not None and left <= 0:
                    raise TimeoutError(
                        f"order {self.id} is still {self._order.status} after {timeout} s"
                    )
                if self._followed():
                    self._cond.wait(_min(left, 0.5))
                    continue
            try:
                self.refresh()
            except errors.NetworkError as exc:  # try again at the next poll
                log.debug("refreshing order %s failed: %s", self.id, exc)
            with self._cond:
                if not self._order.is_final:
                    self._cond.wait(_min(_left(deadline), poll))


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _min(left: float | None, cap: float) -> float:
    return cap if left is None else max(0.0, min(left, cap))


def _is_stale(old: Order, new: Order) -> bool:
    # Answers can arrive out of order (a poll racing a cancel): never step backwards.
    if old.is_final and not new.is_final:
        return True
    return new.filled < old.filled


def _changes(old: Order, new: Order) -> list[str]:
    kinds = []
    if new.filled > old.filled and new.status is not OrderStatus.FILLED:
        kinds.append(OrderEvents.PARTIAL_FILL)
    if new.status is not old.status:
        kind = _FINAL_EVENT.get(new.status, OrderEvents.UPDATE)
        if not (kind == OrderEvents.UPDATE and kinds):  # open → partially filled: one event
            kinds.append(kind)
    return kinds
