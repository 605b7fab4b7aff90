"""The live objects around the frozen snapshots: :class:`TrackedOrder` and :class:`LiveQuote`.

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
from xest.models import Order, OrderStatus, Quote, QuoteState

__all__ = ["LiveQuote", "OrderEvents", "TrackedOrder"]

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


class _Subscribers:
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
        self._subscribers = _Subscribers(f"order:{order.id}")
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
        data = {"order_id": new.id, "symbol": new.symbol}
        if old is not None:
            data["filled_delta"] = new.filled - old.filled
        if self._sink is not None:
            self._sink(kind, old, new, data)
        return self._subscribers.emit(kind, old, new, data)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on each change of this order; returns a cancel function."""
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


class LiveQuote:
    """One firm quote: ``open → executed | expired | failed``, executed at most once.

    ``execute`` sends the acceptance and returns the resulting tracked order; ``server_now``
    gives the estimated *server* time, against which the quote's deadline is checked.
    ``reconcile`` looks for the order of an acceptance whose answer was lost (None: not there).
    """

    def __init__(
        self,
        quote: Quote,
        *,
        execute: Callable[[Quote], TrackedOrder],
        server_now: Callable[[], datetime],
        reconcile: Callable[[Quote], TrackedOrder | None] | None = None,
        sink: EventSink | None = None,
    ) -> None:
        self._quote = quote
        self._execute = execute
        self._server_now = server_now
        self._reconcile = reconcile
        self._sink = sink
        self._state = QuoteState.OPEN
        self._order: TrackedOrder | None = None
        self._error: errors.XestError | None = None
        self._uncertain = False  # an acceptance was sent, its answer lost, its fate unknown
        self._lost = False  # some acceptance of this quote lost its answer
        self._lock = threading.Lock()  # the state
        self._accept_lock = threading.Lock()  # one acceptance in flight, ever
        self._subscribers = _Subscribers(f"quote:{quote.id}")

    def __repr__(self) -> str:
        q = self._quote
        return f"<LiveQuote {q.id} {q.side} {q.amount} {q.symbol} @ {q.price} {self.state}>"

    # -- reads -----------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Quote:
        return self._quote

    id = property(lambda self: self._quote.id)
    symbol = property(lambda self: self._quote.symbol)
    side = property(lambda self: self._quote.side)
    amount = property(lambda self: self._quote.amount)
    price = property(lambda self: self._quote.price)
    cost = property(lambda self: self._quote.cost)
    expires_at = property(lambda self: self._quote.expires_at)

    @property
    def state(self) -> QuoteState:
        """The state now; an open quote past its deadline (server time) turns expired here."""
        self.check_expiry()
        return self._state

    @property
    def order(self) -> TrackedOrder | None:
        """The order the acceptance produced, once executed."""
        return self._order

    @property
    def error(self) -> errors.XestError | None:
        """Why the exchange refused the acceptance, when failed."""
        return self._error

    @property
    def uncertain(self) -> bool:
        """Whether an acceptance was sent and its answer lost (``accept()`` again to find out)."""
        return self._uncertain

    def seconds_left(self) -> float:
        """Seconds until the deadline, by the estimated server clock (negative once past)."""
        return self._quote.seconds_left(self._server_now())

    def check_expiry(self) -> bool:
        """Expire the quote if its deadline passed; True if it is expired."""
        due = self._state is QuoteState.OPEN and not self._uncertain and self.seconds_left() <= 0
        # An acceptance in flight decides the outcome itself: do not expire under its feet.
        if due and self._accept_lock.acquire(blocking=False):
            try:
                self._expire()
            finally:
                self._accept_lock.release()
        return self._state is QuoteState.EXPIRED

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return self._subscribers.add(callback)

    # -- the one execution -----------------------------------------------------------------------

    def accept(self) -> TrackedOrder:
        """Execute the quote, once. Refused locally, before any request, when it is executed
        (QuoteAlreadyExecuted), expired by the server clock (QuoteExpired) or failed.

        When the answer to the acceptance is lost, the exchange is asked whether the order
        exists before anything is sent again; if it cannot tell, the quote stays open but
        *uncertain* and the error says so.
        """
        with self._accept_lock:  # a second thread waits here, then sees ``executed``
            self._check_usable()
            lost: errors.NetworkError | None = None
            for _ in range(self.attempts):
                if self._uncertain:
                    found = self._lookup(lost)
                    if found is not None:
                        return self._executed(found)
                    self._uncertain = False
                if self.seconds_left() <= 0:
                    self._expire()
                    raise self._expired_error()
                try:
                    return self._send()
                except errors.NetworkError as exc:
                    if isinstance(exc, errors.RateLimited | errors.OnMaintenance):
                        raise  # refused before it was handled: still open, nothing sent
                    self._uncertain = self._lost = True
                    lost = exc
            found = self._lookup(lost)
            if found is not None:
                return self._executed(found)
            raise _unknown(self.id, lost)

    attempts = 3  # acceptances sent at most, each only after the exchange confirmed no order

    def _check_usable(self) -> None:
        if self._state is QuoteState.EXECUTED:
            order = f" (order {self._order.id})" if self._order is not None else ""
            raise errors.QuoteAlreadyExecuted(
                f"quote {self.id} was already executed{order}; a quote executes once: "
                "ask for a new quote"
            )
        if self._state is QuoteState.EXPIRED:
            raise self._expired_error()
        if self._state is QuoteState.FAILED:
            raise errors.InvalidQuote(
                f"quote {self.id} failed ({self._error}); ask for a new quote"
            )

    def _expired_error(self) -> errors.QuoteExpired:
        return errors.QuoteExpired(
            f"quote {self.id} expired at {self._quote.expires_at:%H:%M:%S} (server time); "
            "ask for a new quote"
        )

    def _send(self) -> TrackedOrder:
        """One acceptance request; exchange refusals settle the state, network errors escape."""
        try:
            order = self._execute(self._quote)
        except errors.QuoteAlreadyExecuted as exc:
            # The exchange says it was used: by an earlier, lost acceptance, or by another
            # process. Either way it is spent; find the order if we can.
            found = self._try_reconcile()
            if found is not None:
                return self._executed(found)
            if self._lost:  # ours, most likely: executed, though the order cannot be shown
                self._finish(QuoteState.EXECUTED, exc)
                raise errors.QuoteAlreadyExecuted(
                    f"quote {self.id} was executed by an earlier attempt whose answer was lost; "
                    "its order could not be read back: see `xest orders` or closed orders",
                    exchange=exc.exchange,
                ) from None
            self._finish(QuoteState.FAILED, exc)
            raise
        except errors.QuoteExpired as exc:
            self._finish(QuoteState.EXPIRED, exc)
            raise
        except errors.ExchangeError as exc:
            self._finish(QuoteState.FAILED, exc)
            raise
        return self._executed(order)

    def _lookup(self, lost: errors.NetworkError | None) -> TrackedOrder | None:
        """The order of a lost acceptance, None if the exchange says there is none; raises when
        the exchange cannot tell (then nothing may be sent)."""
        if self._reconcile is None:
            raise _unknown(self.id, lost)
        try:
            return self._reconcile(self._quote)
        except errors.NetworkError as exc:
            raise _unknown(self.id, exc) from None
        except errors.NotSupported:
            raise _unknown(self.id, lost) from None

    def _try_reconcile(self) -> TrackedOrder | None:
        if self._reconcile is None:
            return None
        try:
            return self._reconcile(self._quote)
        except errors.XestError:
            return None

    def _executed(self, order: TrackedOrder) -> TrackedOrder:
        self._order = order
        self._uncertain = False
        self._finish(QuoteState.EXECUTED, None)
        return order

    def _expire(self) -> None:
        if self._state is QuoteState.OPEN:
            self._finish(QuoteState.EXPIRED, None)

    def _finish(self, state: QuoteState, error: errors.XestError | None) -> None:
        with self._lock:
            old = self._state
            if old is not QuoteState.OPEN:
                return
            self._state = state
            self._error = error
        kind = f"quote_{state.value}"
        data: dict[str, Any] = {"quote_id": self.id, "symbol": self.symbol}
        if self._order is not None:
            data["order_id"] = self._order.id
        if error is not None:
            data["error"] = str(error)
        if self._sink is not None:
            self._sink(kind, old, state, data)
        self._subscribers.emit(kind, old, state, data)


def _unknown(quote_id: str, cause: errors.NetworkError | None) -> errors.NetworkError:
    cls = type(cause) if isinstance(cause, errors.NetworkError) else errors.ExchangeUnavailable
    return cls(
        f"the answer to accepting quote {quote_id} was lost and the exchange could not be "
        f"asked whether it executed ({cause}); call accept() again to check before anything "
        "is sent",
        exchange=getattr(cause, "exchange", None),
    )
