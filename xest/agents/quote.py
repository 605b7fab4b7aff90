"""A live quote: ``open → executed | expired | failed``, executed at most once.

The :class:`xest.models.Quote` snapshot is what the exchange offered; the :class:`LiveQuote` is
the one object in the process that knows whether it was used. Its deadline is judged by the
exchange's estimated clock, never ours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from xest import errors
from xest.agents.base import Event
from xest.agents.live import EventSink, Subscribers, TrackedOrder
from xest.models import Quote, QuoteState
from xest.trading import answer_may_be_lost

__all__ = ["LiveQuote"]


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
        # One acceptance in flight, ever. Re-entrant so that a subscriber reacting to the
        # outcome in the accepting thread gets a clear error, not a deadlock.
        self._accept_lock = threading.RLock()
        self._subscribers = Subscribers(f"quote:{quote.id}")

    def __repr__(self) -> str:
        q = self._quote
        return f"<LiveQuote {q.id} {q.side} {q.amount} {q.symbol} @ {q.price} {self._state}>"

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

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # the snapshot's other fields (created_at, raw) read through
            raise AttributeError(name)
        return getattr(self._quote, name)

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
            resynced = False
            sent = 0
            while sent < self.attempts:
                if self._uncertain:
                    found = self._lookup(lost)
                    if found is not None:
                        return self._executed(found)
                    self._uncertain = False
                if self.seconds_left() <= 0:
                    self._expire()
                    raise self._expired_error()
                sent += 1
                try:
                    return self._send()
                except errors.InvalidNonce:
                    if resynced:  # refused before handling: still open
                        raise
                    resynced, sent = True, sent - 1  # the connector re-read its clock: retry
                except errors.NetworkError as exc:
                    if not answer_may_be_lost(exc):
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
