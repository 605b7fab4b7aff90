"""Until when the exchange may still act on a placement in flight: its validity window.

:func:`xest.trading.place_once` opens a :class:`Placement` around each send. The connector (or
its signer) records the server-time instant after which the exchange refuses that request:
Binance's signed ``timestamp`` + ``recvWindow``, Kraken's AddOrder ``deadline``. After a lost
or garbled answer that instant is what lets "the exchange has no such order" mean "it never
will": before it, a request held up on the way may still arrive and be executed.

A connector that records no window gets no second placement after a doubt: its orders are
looked up until found, or reported as unknown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

import attrs

__all__ = ["Placement", "current_placement", "placing", "record_window"]


@attrs.define
class Placement:
    """One placement attempt: its client id and, once the request is signed, the server-time
    instant after which the exchange refuses it (``valid_until``)."""

    client_id: str
    valid_until: datetime | None = None
    # Called with the window's end before the request leaves (the journal writes it down).
    on_window: Callable[[datetime], None] | None = None

    def window_closes(self, at: datetime) -> None:
        """Record that the exchange refuses this request after ``at`` (server time). Called
        once per signed request of the attempt; the latest instant wins."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if self.valid_until is None or at > self.valid_until:
            self.valid_until = at
            if self.on_window is not None:
                self.on_window(at)


_current: ContextVar[Placement | None] = ContextVar("xest_placement", default=None)


def current_placement() -> Placement | None:
    """The placement being sent in this context, if any (for connectors and signers)."""
    return _current.get()


def record_window(at: datetime) -> None:
    """Record ``at`` as the end of the current placement's window (no-op outside one)."""
    placement = _current.get()
    if placement is not None:
        placement.window_closes(at)


@contextlib.contextmanager
def placing(placement: Placement) -> Iterator[Placement]:
    token = _current.set(placement)
    try:
        yield placement
    finally:
        _current.reset(token)
