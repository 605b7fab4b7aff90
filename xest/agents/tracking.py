"""The registry of live objects: one :class:`TrackedOrder` per order id, one :class:`LiveQuote`
per quote id, for each account in the process.

Two account agents opened on the same account (same exchange, URL and API key) share one
registry, so a quote accepted through one is executed for the other too. Orders that are not
final and quotes still open are held firmly; final ones are kept for a while and then only as
long as someone holds them (weak references), so memory stays bounded without ever handing
two different objects for one id to callers that are still using the first. A small timer
expires open quotes at their deadlines (judged by the exchange's estimated clock).
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from xest.agents.live import TrackedOrder
from xest.agents.quote import LiveQuote
from xest.models import Order, Quote, QuoteState

__all__ = ["Registry"]

_registries: weakref.WeakValueDictionary[tuple[str, str, str], Registry] = (
    weakref.WeakValueDictionary()
)
_registries_lock = threading.Lock()


class Registry:
    """Live orders and quotes of one account. Thread safe."""

    def __init__(self, keep_final: int = 256) -> None:
        self._lock = threading.RLock()
        self._orders: weakref.WeakValueDictionary[str, TrackedOrder] = weakref.WeakValueDictionary()
        self._by_client: weakref.WeakValueDictionary[str, TrackedOrder] = (
            weakref.WeakValueDictionary()
        )
        self._pending: dict[str, TrackedOrder] = {}  # not final: followed, held firmly
        self._recent: collections.deque[Any] = collections.deque(maxlen=keep_final)
        self._quotes: weakref.WeakValueDictionary[str, LiveQuote] = weakref.WeakValueDictionary()
        self._open_quotes: dict[str, LiveQuote] = {}
        self._agents: weakref.WeakSet[Any] = weakref.WeakSet()
        self._timer = _ExpiryTimer(self)

    @classmethod
    def for_account(cls, exchange: str, url: str, api_key: str) -> Registry:
        """The process's registry for one account (created on first use)."""
        # The key is hashed so no table in memory holds it in clear.
        key = (exchange, url, hashlib.sha256(api_key.encode()).hexdigest())
        with _registries_lock:
            registry = _registries.get(key)
            if registry is None:
                registry = _registries[key] = cls()
            return registry

    # -- the agents of this account -------------------------------------------------------------

    def attach(self, agent: Any) -> None:
        """Let ``agent`` receive the events of this account's orders and quotes."""
        with self._lock:
            self._agents.add(agent)

    def detach(self, agent: Any) -> None:
        with self._lock:
            self._agents.discard(agent)

    def followed(self) -> bool:
        """Whether a running agent follows this account's orders."""
        with self._lock:
            return any(agent.running for agent in self._agents)

    def emit(self, kind: str, old: Any, new: Any, data: dict[str, Any]) -> None:
        """Hand an order or quote event to every agent of the account."""
        if isinstance(new, Order) and new.is_final:
            tracked = self.find(new.id)
            if tracked is not None:
                self.settled(tracked)
        with self._lock:
            agents = list(self._agents)
        for agent in agents:
            agent.emit(kind, old=old, new=new, **data)

    # -- orders ----------------------------------------------------------------------------------

    def order(self, snapshot: Order, create: Callable[[Order], TrackedOrder]) -> TrackedOrder:
        """The live object of ``snapshot``'s order, created with ``create`` the first time and
        brought up to date with ``snapshot`` otherwise."""
        return self.add(snapshot, create)[0]

    def add(
        self, snapshot: Order, create: Callable[[Order], TrackedOrder]
    ) -> tuple[TrackedOrder, bool]:
        """Like :meth:`order`, also telling whether the object is new."""
        with self._lock:
            tracked = self._orders.get(snapshot.id)
            is_new = tracked is None
            if tracked is None:
                tracked = create(snapshot)
                self._orders[snapshot.id] = tracked
                self._hold(tracked)
            if snapshot.client_id:
                self._by_client[snapshot.client_id] = tracked
        if not is_new:
            tracked.update(snapshot)
        return tracked, is_new

    def settled(self, tracked: TrackedOrder) -> None:
        """Called when an order turned final: stop holding it as pending."""
        with self._lock:
            if self._pending.pop(tracked.id, None) is not None:
                self._recent.append(tracked)

    def _hold(self, tracked: TrackedOrder) -> None:
        if tracked.is_final:
            self._recent.append(tracked)
        else:
            self._pending[tracked.id] = tracked

    def find(
        self, order_id: str | None = None, *, client_id: str | None = None
    ) -> TrackedOrder | None:
        with self._lock:
            if order_id is not None:
                return self._orders.get(order_id)
            if client_id is not None:
                return self._by_client.get(client_id)
        return None

    def pending(self) -> list[TrackedOrder]:
        """Orders not yet final, oldest first: the ones to follow."""
        with self._lock:
            return [t for t in self._pending.values() if not t.is_final]

    def orders(self) -> list[TrackedOrder]:
        with self._lock:
            return list(self._orders.values())

    # -- quotes ----------------------------------------------------------------------------------

    def quote(self, snapshot: Quote, create: Callable[[Quote], LiveQuote]) -> LiveQuote:
        """The live object of a quote; a new one is also given to the expiry timer."""
        with self._lock:
            live = self._quotes.get(snapshot.id)
            is_new = live is None
            if live is None:
                live = create(snapshot)
                self._quotes[snapshot.id] = live
                self._open_quotes[snapshot.id] = live
        if is_new:
            self._timer.schedule(live)
        return live

    def find_quote(self, quote_id: str) -> LiveQuote | None:
        with self._lock:
            return self._quotes.get(quote_id)

    def open_quotes(self) -> list[LiveQuote]:
        with self._lock:
            return list(self._open_quotes.values())

    def sweep_quotes(self) -> list[LiveQuote]:
        """Expire open quotes past their deadline and let go of settled ones; returns those
        that left the open set."""
        done = []
        for live in self.open_quotes():
            live.check_expiry()
            if live.state is not QuoteState.OPEN:
                done.append(live)
        with self._lock:
            for live in done:
                self._open_quotes.pop(live.id, None)
                self._recent.append(live)
        return done


class _ExpiryTimer:
    """Expires each open quote at its deadline, so ``quote_expired`` is emitted on time even
    when no agent polls. One daemon thread per registry, only while quotes are pending."""

    def __init__(self, registry: Registry) -> None:
        self._registry = weakref.ref(registry)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, weakref.ref[LiveQuote]]] = []
        self._thread: threading.Thread | None = None

    def schedule(self, live: LiveQuote, *, after: float | None = None) -> None:
        delay = max(live.seconds_left(), 0.0) if after is None else after
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, id(live), weakref.ref(live)))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="xest-quote-expiry", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._heap or self._registry() is None:  # nothing left, or nobody
                    self._heap.clear()
                    self._thread = None
                    return
                due, _, ref = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, 1.0))
                    continue
                heapq.heappop(self._heap)
            live = ref()
            if live is None or live.state is not QuoteState.OPEN:  # ``state`` expires it
                registry = self._registry()
                if registry is not None:
                    registry.sweep_quotes()
                continue
            left = live.seconds_left()
            if left > 0:  # the clock estimate moved since: look again at the new deadline
                self.schedule(live, after=left)
            # Past the deadline yet open: an acceptance is deciding; it settles the state.
