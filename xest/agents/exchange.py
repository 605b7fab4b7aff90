"""The exchange agent: an exchange's status and clock, watched in the background.

It polls the connector's ``status`` and ``server_time`` (which feed the transport's remote
clock), remembers what it
saw, and answers "what is the exchange doing now, and what time is it there?" honestly: the
status reads ``unknown`` once polls have been missed, and the server time is an estimate with
its error bound (:class:`xest.clock.RemoteClock`).

With ``markets_interval`` it also follows the exchange's market list.

Events: ``status`` (old → new :class:`~xest.models.Status`, including to and from ``unknown``),
``clock_jump`` (the exchange's clock stepped: a reading that the previous estimate, error bound
included, cannot explain), ``markets`` (symbols listed, delisted or changed: ``data`` has
``added``, ``removed``, ``changed``), and the base ``poll_failed`` / ``poll_recovered``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from xest.agents.base import Agent, Observation
from xest.clock import Estimate, RemoteClock
from xest.models import ExchangeStatus, Market, Status

if TYPE_CHECKING:
    from xest.connector import Connector

__all__ = ["CLOCK_JUMP", "MARKETS", "STATUS", "ExchangeAgent", "ExchangeState"]

STATUS = "status"
CLOCK_JUMP = "clock_jump"
MARKETS = "markets"


@attrs.frozen
class ExchangeState:
    """The exchange as the agent sees it now.

    ``status`` is what the exchange last said, or ``unknown`` when that is stale (``stale``) or
    was never seen; ``since`` is when the agent first saw the status it reports now.
    ``server_time`` is the estimated exchange time now, within ±``error`` seconds; ``offset`` is
    the exchange's clock minus ours.
    """

    exchange: str
    status: Status
    since: datetime | None
    reported: ExchangeStatus | None
    checked: datetime | None  # local time of the last successful status poll
    stale: bool
    missed: int
    last_error: str | None
    server_time: datetime
    error: float  # seconds; inf before the first clock reading
    offset: float  # seconds
    running: bool

    @property
    def is_online(self) -> bool:
        return self.status is Status.ONLINE


class ExchangeAgent(Agent):
    """Polls one exchange's status and server time.

    ``status_interval`` and ``time_interval`` are seconds between polls; ``stale_after`` missed
    polls make the status read ``unknown``; ``jump_threshold`` (seconds) is how far beyond the
    error bounds a clock reading must land to count as a jump; ``markets_interval`` (off by
    default: the listing is large) polls the market list. Tasks the connector does not support
    are left out.
    """

    def __init__(
        self,
        connector: Connector,
        *,
        status_interval: float = 10.0,
        time_interval: float = 30.0,
        stale_after: int = 3,
        history: int = 1000,
        jump_threshold: float = 0.1,
        markets_interval: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            connector.exchange, history=history, stale_after=stale_after, monotonic=monotonic
        )
        self.connector = connector
        clock = connector.transport.clock
        if clock is None:
            raise ValueError(f"{connector!r} has a transport without a remote clock")
        self.clock: RemoteClock = clock
        self.jump_threshold = jump_threshold
        self._state_lock = threading.RLock()
        self._reported: ExchangeStatus | None = None
        self._effective = Status.UNKNOWN
        self._since: datetime | None = None
        self._markets: dict[str, Market] | None = None
        if "status" in connector.capabilities:
            self.add_task("status", connector.status, status_interval)
        if "server_time" in connector.capabilities:
            self.add_task("time", self._read_clock, time_interval)
        if markets_interval is not None and "markets" in connector.capabilities:
            self.add_task("markets", connector.markets, markets_interval)

    def __str__(self) -> str:
        # ``client.exchange`` is this agent: f-strings of it read the exchange's name.
        return self.name

    def configure(
        self,
        *,
        status_interval: float | None = None,
        time_interval: float | None = None,
        markets_interval: float | None = None,
        stale_after: int | None = None,
    ) -> ExchangeAgent:
        """Change the polling intervals or the staleness rule (also while running)."""
        if markets_interval is not None and "markets" in self.connector.capabilities:
            if "markets" in self.tasks:
                self.set_interval("markets", markets_interval)
            else:
                self.add_task("markets", self.connector.markets, markets_interval)
        if status_interval is not None and "status" in self.tasks:
            self.set_interval("status", status_interval)
        if time_interval is not None and "time" in self.tasks:
            self.set_interval("time", time_interval)
        if stale_after is not None:
            if stale_after < 1:
                raise ValueError("stale_after must be at least 1")
            self.stale_after = stale_after
        self._after_poll()
        return self

    # -- polling -------------------------------------------------------------------------------

    def _read_clock(self) -> Any:
        clock = self.clock
        before = clock.now()
        reading = self.connector.server_time()  # feeds the clock
        sample = clock.samples[-1]
        if before.error != float("inf"):
            delta = sample.offset - before.offset
            if abs(delta) > before.error + sample.error + self.jump_threshold:
                # The new reading is incompatible with everything before it: the exchange's
                # clock stepped. Older samples describe a clock that no longer exists.
                clock.forget_before(sample.mono_mid)
                self.emit(
                    CLOCK_JUMP,
                    old=before.offset,
                    new=sample.offset,
                    delta=delta,
                    error=before.error + sample.error,
                )
        return reading

    def _observed(self, observation: Observation) -> None:
        if observation.task == "status" and observation.ok:
            with self._state_lock:
                self._reported = observation.value
        elif observation.task == "markets" and observation.ok:
            self._update_markets(observation.value)
        elif observation.task == "time" and observation.ok:
            self._time_next_reading()

    def _time_next_reading(self) -> None:
        """On a coarse clock, move the next background reading onto the estimated tick: over
        a few intervals the readings bisect the uncertainty, as ``sync_clock`` does at once."""
        clock = self.clock
        if clock.resolution < _COARSE:
            return
        estimate = clock.now()
        if not estimate.error < clock.resolution:
            return
        with self._lock:
            task = self._tasks["time"]
            ahead = max(task.next_due - self._monotonic(), 0.0)
            task.next_due += self._until_next_tick(estimate, clock.resolution, ahead)

    def _update_markets(self, markets: list[Market]) -> None:
        new = {m.symbol: m for m in markets}
        with self._state_lock:
            old, self._markets = self._markets, new
        if old is None:
            return
        added = sorted(set(new) - set(old))
        removed = sorted(set(old) - set(new))
        changed = sorted(s for s in set(new) & set(old) if new[s] != old[s])
        if added or removed or changed:
            self.emit(
                MARKETS, old=len(old), new=len(new), added=added, removed=removed, changed=changed
            )

    def _after_poll(self) -> None:
        self._effective_status()

    def _check(self) -> None:
        self._effective_status()

    def _effective_status(self) -> tuple[Status, datetime | None]:
        """The status to report now; emits ``status`` when it differs from the last one."""
        with self._state_lock:
            if "status" not in self.tasks or self._reported is None or self.is_stale("status"):
                status = Status.UNKNOWN
            else:
                status = self._reported.status
            old = self._effective
            if status is old and self._since is not None:
                return status, self._since
            self._effective = status
            last = self.last("status")
            # Into a reported status: since the poll that saw it. Into unknown: since now.
            self._since = last.at if status is not Status.UNKNOWN and last else datetime.now(UTC)
            since = self._since
        if status is not old:
            self.emit(STATUS, old=old, new=status, since=since)
        return status, since

    # -- state ---------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        """The exchange's status now (``unknown`` when stale or not yet seen)."""
        return self._effective_status()[0]

    @property
    def since(self) -> datetime | None:
        """When the agent first saw the status it reports now."""
        return self._effective_status()[1]

    @property
    def markets(self) -> dict[str, Market] | None:
        """The market list by symbol as last polled (None before; needs ``markets_interval``)."""
        with self._state_lock:
            return None if self._markets is None else dict(self._markets)

    def sync_clock(
        self,
        max_error: float | None = None,
        readings: int = 5,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Estimate:
        """Take up to ``readings`` clock readings now (fewer once the error is within
        ``max_error`` seconds) and return the estimate.

        A coarse clock (Kraken counts whole seconds) says little per reading: repeated at once,
        readings fall in the same second. So each reading after the first is timed for the
        instant the estimate puts the exchange's next tick at; whichever side of the tick it
        lands on, it halves the uncertainty (the remote clock intersects the readings). The
        readings go through the ``time`` task: recorded in the history, checked for jumps.
        """
        if "time" not in self.tasks:
            raise self.connector.not_supported("server_time")
        clock = self.clock
        resolution = clock.resolution
        for i in range(max(readings, 1)):
            estimate = clock.now()
            if max_error is not None and estimate.error <= max_error:
                return estimate
            if i and resolution >= _COARSE and estimate.error < resolution:
                sleep(self._until_next_tick(estimate, resolution))
            [observation] = self.poll("time")
            if observation.error is not None:
                raise observation.error
        return clock.now()

    def _until_next_tick(self, estimate: Estimate, resolution: float, ahead: float = 0.0) -> float:
        """Seconds to wait, from ``ahead`` seconds after the estimate, so that a reading's
        midpoint lands on the exchange clock's next tick as estimated."""
        half_trip = max(self.clock.samples[-1].error - resolution / 2, 0.0)
        server_now = estimate.time.timestamp() + ahead
        wait = (math.floor(server_now / resolution) + 1) * resolution - server_now - half_trip
        return wait if wait > 0.01 else wait + resolution

    def now(self) -> Estimate:
        """The estimated exchange time now, with its error bound and offset."""
        return self.clock.now()

    def state(self) -> ExchangeState:
        status, since = self._effective_status()
        estimate = self.now()
        with self._state_lock:
            reported = self._reported
        if "status" in self.tasks:
            task = self.task_state("status")
            stale, missed, checked = task.stale, task.missed, task.last_success
            error = task.last_error if task.failures else None
        else:
            stale, missed, checked, error = True, 0, None, None
        return ExchangeState(
            exchange=self.name,
            status=status,
            since=since,
            reported=reported,
            checked=checked,
            stale=stale,
            missed=missed,
            last_error=str(error) if error is not None else None,
            server_time=estimate.time,
            error=estimate.error,
            offset=estimate.offset,
            running=self.running,
        )


# Clocks this coarse (seconds) get their readings timed around their ticks (see sync_clock).
_COARSE = 0.1
