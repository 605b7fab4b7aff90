"""The account agent with the account's order stream: order changes arrive as the exchange
pushes them, and polling stays as the safety net.

While the ``orders`` stream is live, each streamed order brings its live object up to date at
once (status, filled, average price: the rest of the snapshot stays as REST reported it, so the
two sources never flip fields back and forth), a balance poll is triggered right away, and the
order polls slow down (``slow_factor``). When the stream drops, goes stale or fails, the order
polls return to their pace and run at once; the stream reconnects by itself with backoff. A
``source`` event (``orders`` now ``stream`` or ``poll``) says which one keeps the state.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from xest.agents.account import AccountAgent
from xest.models import Order

log = logging.getLogger("xest.agents")

STREAM, POLL = "stream", "poll"
_ORDER_TASKS = ("orders", "open_orders")


class StreamingAccountAgent(AccountAgent):
    """:class:`AccountAgent` plus the connector's ``orders`` stream (``stream_client`` opens
    it). ``slow_factor``: how much slower the order polls run while the stream is live."""

    def __init__(
        self, connector: Any, *, stream_client: Any, slow_factor: float = 6.0, **options: Any
    ) -> None:
        super().__init__(connector, **options)
        self._stream_client = stream_client
        self.slow_factor = slow_factor
        self._stream: Any = None
        self._paces: dict[str, float] = {}
        self.orders_source: str = POLL
        self.streamed_updates = 0

    @property
    def stream(self) -> Any:
        return self._stream

    def start(self, *, wait: bool = True, timeout: float = 15.0) -> StreamingAccountAgent:
        if self._stream is None or self._stream.closed:
            try:
                self._stream = self._stream_client.stream_orders()
            except Exception as exc:  # no stream: polling alone, as without one
                log.info("%s: no orders stream (%s); polling", self.name, exc)
                self._stream = None
            else:
                self._stream.on_value = self._streamed
                self._stream.subscribe(self._stream_event)
        super().start(wait=wait, timeout=timeout)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().stop(timeout)

    # -- the stream ----------------------------------------------------------------------------

    def _streamed(self, order: Order) -> None:
        self.streamed_updates += 1
        if self.orders_source != STREAM:
            self._switch(STREAM)
        tracked = self.registry.find(order.id)
        if tracked is None:
            with self._lock:
                known = {t.id: t for t in self._open}
            tracked = known.get(order.id)
        if tracked is not None:
            order = attrs.evolve(
                tracked.snapshot,
                status=order.status,
                filled=max(order.filled, tracked.snapshot.filled),
                average_price=order.average_price or tracked.snapshot.average_price,
                updated=order.updated or tracked.snapshot.updated,
            )
            self.registry.order(order, self._new)
        else:
            tracked = self._track(order)
            if not order.is_final:
                with self._lock:
                    self._open = [*self._open, tracked]
        self._due_now("balances")  # an order that moved moved the balances too

    def _stream_event(self, event: Any) -> None:
        if event.kind == "closed":
            return
        self.emit(f"stream_{event.kind}", task="orders", stream=event.source, **event.data)
        if event.kind == "connected":
            self._switch(STREAM)
        elif event.kind in ("disconnected", "stale", "resync", "failed"):
            self._switch(POLL)

    def _switch(self, source: str) -> None:
        with self._lock:
            old, self.orders_source = self.orders_source, source
            if old == source:
                return
            for name in _ORDER_TASKS:
                if name not in self._tasks:
                    continue
                task = self._tasks[name]
                if source == STREAM:
                    self._paces.setdefault(name, task.interval)
                    task.interval = self._paces[name] * self.slow_factor
                else:
                    task.interval = self._paces.pop(name, task.interval)
                    task.next_due = self._monotonic()  # catch up at once
        self.emit("source", old=old, new=source, task="orders")
        self._wake.set()

    def _due_now(self, name: str) -> None:
        with self._lock:
            if name in self._tasks:
                self._tasks[name].next_due = self._monotonic()
        self._wake.set()
