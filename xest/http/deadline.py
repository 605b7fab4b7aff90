"""A whole request, bounded: a deadline per request, and cancellation for stopping agents.

Socket timeouts bound each wait for a packet, not a request: a server trickling one byte a
second never trips a 10 s read timeout. Each request therefore gets a :class:`Deadline`; past
it, the request's socket is shut down (by one process-wide timer thread), which ends whatever
read or write is blocked on it, and the transport reports a RequestTimeout.

A :class:`CancelScope` groups the requests of one thread (an agent's polling thread): when the
agent stops, :meth:`CancelScope.cancel` fires every deadline in the scope at once and makes
:func:`sleep` (rate-limit waits, retry pauses) return early, so the thread ends within moments
whatever its call was doing.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from xest import errors
from xest.http.storage import fork_generation

__all__ = ["CancelScope", "Deadline", "cancel_scope", "cancelled", "check_cancelled", "sleep"]


class Deadline:
    """The instant (``time.monotonic()``) a request must be done by."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self.cancelled = False
        self._conn: Any = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def attach(self, conn: Any) -> None:
        """The connection carrying the request: its socket is shut down when the time is up."""
        with self._lock:
            self._conn = conn
            fired = self.fired
        if fired:
            _shutdown(conn)

    def fire(self, *, cancelled: bool = False) -> None:
        with self._lock:
            if self.fired:
                return
            self.fired, self.cancelled = True, cancelled
            conn = self._conn
        if conn is not None:
            _shutdown(conn)

    def done(self) -> None:
        with self._lock:
            self._conn = None
        _reaper().forget(self)


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    import socket  # loaded with urllib3 by then; opening a client needs none of it

    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Reaper:
    """One daemon thread per process firing the deadlines that passed.

    Per call it costs a dictionary entry, added under one lock and dropped without it: the
    thread sleeps until the earliest deadline it knows of and only then looks at the calls
    still in flight. (A heap of every call's deadline kept each finished call alive until its
    deadline came, 25 s later: hundreds of thousands of objects for the garbage collector to
    walk on a busy client.)"""

    def __init__(self) -> None:
        self._live: dict[int, Deadline] = {}
        self._cond = threading.Condition(threading.Lock())  # never re-entered
        self._wakes_at = math.inf  # when the thread looks next (under the lock)
        self._thread = threading.Thread(target=self._run, name="xest-deadlines", daemon=True)
        self._thread.start()

    def watch(self, deadline: Deadline) -> None:
        with self._cond:
            self._live[id(deadline)] = deadline
            if deadline.at < self._wakes_at:
                self._wakes_at = deadline.at
                self._cond.notify()

    def forget(self, deadline: Deadline) -> None:
        self._live.pop(id(deadline), None)  # one dict operation: atomic, no lock needed

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = []
                earliest = math.inf
                for ident, deadline in list(self._live.items()):
                    if deadline.at <= now:
                        due.append(deadline)
                        self._live.pop(ident, None)
                    elif deadline.at < earliest:
                        earliest = deadline.at
                self._wakes_at = earliest
                if not due:
                    self._cond.wait(None if earliest == math.inf else earliest - now)
                    continue
            for deadline in due:
                deadline.fire()


_reaper_lock = threading.Lock()
_the_reaper: _Reaper | None = None
_reaper_generation = -1


def _reaper() -> _Reaper:
    global _the_reaper, _reaper_generation
    if _the_reaper is not None and _reaper_generation == fork_generation():
        return _the_reaper
    with _reaper_lock:
        if _the_reaper is None or _reaper_generation != fork_generation():
            _the_reaper = _Reaper()  # a forked child has no copy of the parent's thread
            _reaper_generation = fork_generation()
        return _the_reaper


class CancelScope:
    """The requests of one thread, cancelled together (see the module docstring)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._active: set[Deadline] = set()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self) -> None:
        self.event.set()
        with self._lock:
            active = list(self._active)
        for deadline in active:
            deadline.fire(cancelled=True)

    def _add(self, deadline: Deadline) -> None:
        with self._lock:
            self._active.add(deadline)
        if self.cancelled:
            deadline.fire(cancelled=True)

    def _remove(self, deadline: Deadline) -> None:
        with self._lock:
            self._active.discard(deadline)


_scope: ContextVar[CancelScope | None] = ContextVar("xest_cancel_scope", default=None)


@contextlib.contextmanager
def cancel_scope(scope: CancelScope) -> Iterator[CancelScope]:
    """Run the block's requests under ``scope``."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def cancelled() -> bool:
    """Whether the current scope was cancelled (its agent is stopping)."""
    scope = _scope.get()
    return scope is not None and scope.cancelled


def check_cancelled(exchange: str | None = None) -> None:
    """Raise RequestTimeout when the current scope was cancelled (its agent is stopping)."""
    scope = _scope.get()
    if scope is not None and scope.cancelled:
        raise errors.RequestTimeout("cancelled: the agent is stopping", exchange=exchange)


def sleep(seconds: float) -> None:
    """``time.sleep``, cut short (with RequestTimeout) when the current scope is cancelled."""
    scope = _scope.get()
    if scope is None:
        time.sleep(max(seconds, 0.0))
        return
    if scope.event.wait(max(seconds, 0.0)):
        raise errors.RequestTimeout("cancelled: the agent is stopping")


class bounded:
    """A deadline ``seconds`` from now for the block's request, in the current scope.

    Used like a function (``with bounded(seconds) as deadline``); a class rather than a
    generator because it wraps every request, and a generator-based context costs more."""

    __slots__ = ("_deadline", "_scope", "_token")

    def __init__(self, seconds: float) -> None:
        self._deadline = Deadline(time.monotonic() + seconds)

    def __enter__(self) -> Deadline:
        deadline = self._deadline
        self._scope = scope = _scope.get()
        _reaper().watch(deadline)
        if scope is not None:
            scope._add(deadline)
        self._token = _current.set(deadline)
        return deadline

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)
        self._deadline.done()
        if self._scope is not None:
            self._scope._remove(self._deadline)


_current: ContextVar[Deadline | None] = ContextVar("xest_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the request being sent in this context (for the connection class)."""
    return _current.get()
