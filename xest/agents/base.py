"""What every agent shares: a background polling thread, a bounded memory, and events.

An agent runs named *tasks* (``status``, ``time``, ``balances``...), each a callable polled at
its own interval. Every poll, good or failed, becomes an :class:`Observation` in a bounded
history. A failed poll is recorded and simply tried again at the next tick: nothing a task
raises stops the thread. Subclasses turn results into state and :class:`Event` s
(``agent.emit(...)``), which callers receive through :meth:`Agent.subscribe` or
:meth:`Agent.listen`.

Staleness is measured, not assumed: a task that failed ``stale_after`` times in a row, or whose
last success is older than ``stale_after + 1`` intervals (the thread is stuck or stopped), is
stale, and agents report what depends on it as unknown rather than as its last value.

The agent can also be driven by hand, without the thread: :meth:`Agent.poll` runs tasks now
and :meth:`Agent.tick` runs those that are due; the monotonic clock is injectable, so tests
control time instead of sleeping.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from xest.agents.events import Event, EventSource, Listener, Subscription
from xest.http.deadline import CancelScope, cancel_scope
from xest.http.deadline import cancelled as _cancelled

__all__ = ["Agent", "Event", "Listener", "Observation", "Subscription", "TaskState"]

log = logging.getLogger("xest.agents")

# Kinds of events every agent emits; subclasses add their own (``status``, ``clock_jump``...).
POLL_FAILED = "poll_failed"
POLL_RECOVERED = "poll_recovered"


def _now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class Observation:
    """One poll of one task: what it returned, or the error it raised."""

    task: str
    at: datetime  # local UTC wall time when the poll finished
    mono: float  # the same instant on the agent's monotonic clock
    duration: float  # seconds the poll took
    value: Any = attrs.field(default=None, repr=False)
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen
class TaskState:
    """Where one task stands (a snapshot)."""

    name: str
    interval: float
    runs: int
    failures: int  # consecutive failed polls
    missed: int  # polls missed: failed, or not made when due
    stale: bool
    last_success: datetime | None
    last_error: BaseException | None


@attrs.define(eq=False)
class _Task:
    name: str
    func: Callable[[], Any]
    interval: float
    next_due: float = 0.0
    runs: int = 0
    failures: int = 0
    last_success_mono: float | None = None
    last_success_at: datetime | None = None
    last_error: BaseException | None = None


class Agent(EventSource):
    """Base of the exchange and account agents. Thread safe.

    ``history`` bounds how many observations (and, separately, events) are remembered;
    ``stale_after`` is how many missed polls make a task stale; ``monotonic`` is the clock the
    scheduling and staleness use (tests inject a fake one).
    """

    def __init__(
        self,
        name: str,
        *,
        history: int = 1000,
        stale_after: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if stale_after < 1:
            raise ValueError("stale_after must be at least 1")
        self.name = name
        self.stale_after = stale_after
        self._monotonic = monotonic
        self._tasks: dict[str, _Task] = {}
        self._history: collections.deque[Observation] = collections.deque(maxlen=history)
        self._events: collections.deque[Event] = collections.deque(maxlen=history)
        self._subscriptions: list[Subscription] = []
        self._lock = threading.RLock()  # state, history, subscriptions
        # One poll at a time (thread vs. poll()); reentrant so a subscriber may poll again.
        self._poll_lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # interrupts the loop's sleep (stop, new interval)
        self._first_round = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._started_mono: float | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name} {state}>"

    # -- tasks ---------------------------------------------------------------------------------

    def add_task(self, name: str, func: Callable[[], Any], interval: float) -> None:
        """Poll ``func`` every ``interval`` seconds under ``name`` (first poll: at once)."""
        _check_interval(name, interval)
        with self._lock:
            self._tasks[name] = _Task(name, func, float(interval))

    def set_interval(self, name: str, interval: float) -> None:
        _check_interval(name, interval)
        with self._lock:
            task = self._task(name)
            task.next_due = task.next_due - task.interval + interval
            task.interval = float(interval)
        self._wake.set()

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def _task(self, name: str) -> _Task:
        try:
            return self._tasks[name]
        except KeyError:
            raise KeyError(f"{self.name} has no task {name!r} (tasks: {self.tasks})") from None

    def task_state(self, name: str) -> TaskState:
        with self._lock:
            task = self._task(name)
            missed = self._missed(task)
            return TaskState(
                name=task.name,
                interval=task.interval,
                runs=task.runs,
                failures=task.failures,
                missed=missed,
                stale=missed >= self.stale_after or task.last_success_mono is None,
                last_success=task.last_success_at,
                last_error=task.last_error,
            )

    def missed(self, name: str) -> int:
        """How many polls of ``name`` were missed since its last success."""
        with self._lock:
            return self._missed(self._task(name))

    def is_stale(self, name: str) -> bool:
        """Whether what ``name`` reported can no longer be trusted (or was never seen)."""
        return self.task_state(name).stale

    def _missed(self, task: _Task) -> int:
        since = task.last_success_mono
        if since is None:
            since = self._started_mono
        if since is None:
            return task.failures
        # One interval of grace: the next poll is due one interval after the last success, and
        # it only counts as missed when a whole further interval passed without a success.
        by_time = math.floor((self._monotonic() - since) / task.interval) - 1
        return max(task.failures, by_time, 0)

    # -- polling -------------------------------------------------------------------------------

    def poll(self, *names: str) -> list[Observation]:
        """Poll the named tasks (all, if none named) now, in the calling thread."""
        with self._lock:
            tasks = [self._task(n) for n in names] if names else list(self._tasks.values())
        observations = [self._run(task) for task in tasks]
        self._after_poll()
        return observations

    def tick(self) -> list[Observation]:
        """Poll the tasks that are due now; what the background thread does at each wake-up."""
        now = self._monotonic()
        with self._lock:
            due = [t for t in self._tasks.values() if t.next_due <= now]
        observations = [self._run(task) for task in due]
        self._after_poll()
        return observations

    def _run(self, task: _Task) -> Observation:
        with self._poll_lock:
            start = self._monotonic()
            try:
                value, error = task.func(), None
            except Exception as exc:  # a failed poll is recorded, never fatal
                value, error = None, exc.with_traceback(None)
            end = self._monotonic()
            observation = Observation(task.name, _now(), end, end - start, value, error)
            if error is not None and _cancelled():
                return observation  # stop() cut this poll short: no failure, no event
            with self._lock:
                task.runs += 1
                # Schedule from the due time, not the finish, so polls keep their rhythm; after
                # an overrun (or a first poll) restart the rhythm, with no burst of catch-ups.
                task.next_due += task.interval
                if task.next_due <= end:
                    task.next_due = end + task.interval
                was_failing = task.failures
                if error is None:
                    task.failures = 0
                    task.last_success_mono = end
                    task.last_success_at = observation.at
                else:
                    task.failures += 1
                    task.last_error = error
                self._history.append(observation)
            if error is not None:
                log.debug("%s: %s poll failed: %s", self.name, task.name, error)
                self.emit(POLL_FAILED, new=error, task=task.name, failures=task.failures)
            elif was_failing:
                self.emit(POLL_RECOVERED, old=was_failing, task=task.name)
            try:
                self._observed(observation)
            except Exception:  # a bug in a subclass hook must not kill the thread either
                log.exception("%s: handling the %s observation failed", self.name, task.name)
            return observation

    def _observed(self, observation: Observation) -> None:
        """Subclasses turn an observation into state and events."""

    def _after_poll(self) -> None:
        """Subclasses re-check derived state (e.g. staleness) after each round."""

    def _check(self) -> None:
        """Re-derive what depends on time alone (staleness), for the watchdog thread: it runs
        while a poll may be hanging in the polling thread, so it must not poll or block."""

    # -- the thread ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, wait: bool = True, timeout: float = 15.0) -> Agent:
        """Start polling in a daemon thread. With ``wait``, return after the first round of polls
        (or ``timeout`` seconds), so the state is meaningful at once. Starting twice is a no-op."""
        with self._lock:
            if self.running:
                return self
            # A fresh stop flag per run: a thread left behind by a stop() that timed out (its
            # poll still hanging) ends when that poll returns, instead of being revived.
            self._stop = stop = threading.Event()
            self._wake.clear()
            self._first_round.clear()
            now = self._monotonic()
            self._started_mono = now
            for task in self._tasks.values():
                task.next_due = now
            # Every request the thread makes runs in this scope: stop() cancels them all.
            self._scope = scope = CancelScope()
            self._thread = threading.Thread(
                target=self._loop, args=(stop, scope), name=f"xest-{self.name}", daemon=True
            )
            self._thread.start()
            # A poll can hang for the transport's whole timeout and retries; the watchdog
            # keeps time-based state (an exchange gone silent reads unknown) and its events
            # on time meanwhile.
            self._watchdog = threading.Thread(
                target=self._watch, args=(stop,), name=f"xest-{self.name}-watchdog", daemon=True
            )
            self._watchdog.start()
        if wait:
            self._first_round.wait(timeout)
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the thread: the call in progress is cancelled (its connection shut, its waits
        cut short), and the thread ends within moments; waits up to ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        scope = getattr(self, "_scope", None)
        if scope is not None:
            scope.cancel()
        for thread in (self._watchdog, self._thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
        self._thread = self._watchdog = None

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self, stop: threading.Event, scope: CancelScope) -> None:
        with cancel_scope(scope):
            self._polls(stop)

    def _polls(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # belt and braces: the loop itself must survive anything
                log.exception("%s: agent tick failed", self.name)
            self._first_round.set()
            with self._lock:
                due = min((t.next_due for t in self._tasks.values()), default=math.inf)
            delay = min(max(due - self._monotonic(), 0.0), _MAX_SLEEP)
            self._wake.wait(delay)
            self._wake.clear()

    def _watch(self, stop: threading.Event) -> None:
        while True:
            with self._lock:
                shortest = min((t.interval for t in self._tasks.values()), default=_MAX_SLEEP)
            if stop.wait(min(max(shortest / 2, 0.01), _MAX_SLEEP)):
                return
            try:
                self._check()
            except Exception:
                log.exception("%s: agent watchdog check failed", self.name)

    # -- memory --------------------------------------------------------------------------------

    def history(self, task: str | None = None) -> tuple[Observation, ...]:
        """What the agent saw, oldest first (bounded), for one task or all."""
        with self._lock:
            return tuple(o for o in self._history if task is None or o.task == task)

    def last(self, task: str, *, ok: bool = True) -> Observation | None:
        """The latest observation of ``task`` (the latest successful one, with ``ok``)."""
        with self._lock:
            for o in reversed(self._history):
                if o.task == task and (o.ok or not ok):
                    return o
        return None

    # -- events --------------------------------------------------------------------------------

    def emit(self, kind: str, *, old: Any = None, new: Any = None, **data: Any) -> Event:
        """Record an event and hand it to the subscribers that want it."""
        return self._publish(Event(kind, self.name, _now(), old, new, data))


# The loop wakes at least this often, so staleness is re-checked even between slow polls.
_MAX_SLEEP = 1.0


def _check_interval(name: str, interval: float) -> None:
    if not (isinstance(interval, int | float) and interval > 0 and math.isfinite(interval)):
        raise ValueError(
            f"the {name} interval must be a positive number of seconds, got {interval!r}"
        )
