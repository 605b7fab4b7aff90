"""The account agent: one account's balances, orders and quotes, held locally.

It needs credentials. In the background (``start()``) it polls balances and open orders, keeps
the history of balance snapshots, and follows every order it placed or was asked to follow
until the order is final, emitting events on the way. Without the thread, every operation
still works, and ``TrackedOrder.wait()`` polls by itself.

Orders and quotes are live objects from the account's registry (:mod:`xest.agents.tracking`):
one per id in the process, shared by every caller and by every agent of the same account. The
trading operations (place, cancel, quote, accept) come from :class:`~xest.agents.trader.Trader`.

Events: ``balance`` (one per asset that changed: old and new :class:`~xest.models.Balance`,
``None`` when it appeared or vanished), the order events of
:class:`~xest.agents.live.OrderEvents`, ``quote_executed`` / ``quote_expired`` /
``quote_failed``, ``order_lost`` (a followed order the exchange no longer knows), and the base
``poll_failed`` / ``poll_recovered``.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from xest import errors
from xest.agents.base import Agent
from xest.agents.live import OrderEvents, TrackedOrder, final_event
from xest.agents.tracking import Registry
from xest.agents.trader import Trader
from xest.journal import Entry, Journal
from xest.models import Balance, Order, Quote

if TYPE_CHECKING:
    from xest.clock import RemoteClock
    from xest.connector import Connector

__all__ = ["BALANCE", "ORDER_LOST", "ORDER_UNKNOWN", "AccountAgent", "BalanceSnapshot"]

log = logging.getLogger("xest.agents")

BALANCE = "balance"
ORDER_LOST = "order_lost"
ORDER_UNKNOWN = "order_unknown"
_LOST_AFTER = 3  # consecutive "no such order" answers before a followed order is given up
_MAX_SYMBOL_CALLS = 4  # followed orders on more symbols: one call for all open orders instead


@attrs.frozen
class BalanceSnapshot:
    """The balances as one poll saw them (kept when they differ from the previous poll)."""

    at: datetime
    balances: Mapping[str, Balance]


class AccountAgent(Trader, Agent):
    """One account on one exchange. Several run side by side, one per account.

    Tasks (seconds between polls): ``balances`` (``balance_interval``), ``open_orders`` (every
    open order of the account, ``open_orders_interval``) and ``orders`` (the orders followed
    until final, ``orders_interval``; no request while none is pending).
    ``clock`` is the exchange's :class:`~xest.clock.RemoteClock` and ``refresh_clock`` a
    callable that takes a fresh server-time reading (the connector's ``server_time``): quote
    deadlines are checked against the estimated server time, refreshed when its error exceeds
    ``max_clock_error`` seconds. ``lookup_delay``, ``patience``, ``attempts`` and
    ``lookups`` tune the reconciliation of lost placement answers (:func:`xest.trading.place_once`).
    Every placement is written to the account's placement journal (:mod:`xest.journal`) first;
    the ``journal`` task (``journal_interval``) reconciles the entries a killed process left
    open, starting with the first round after ``start()``.
    """

    def __init__(
        self,
        connector: Connector,
        *,
        clock: RemoteClock | None = None,
        refresh_clock: Callable[[], object] | None = None,
        balance_interval: float = 10.0,
        orders_interval: float = 2.0,
        open_orders_interval: float = 10.0,
        stale_after: int = 3,
        history: int = 1000,
        max_clock_error: float = 2.0,
        lookup_delay: float = 0.2,
        patience: float = 120.0,
        journal_interval: float = 30.0,
        attempts: int = 3,
        lookups: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = connector.credentials
        if credentials is None:
            raise errors.missing_credentials(connector.exchange, "the account agent")
        self.account = credentials.account or "default"
        super().__init__(
            f"{connector.exchange}:{self.account}",
            history=history,
            stale_after=stale_after,
            monotonic=monotonic,
        )
        self.connector = connector
        self.clock = clock
        self.max_clock_error = max_clock_error
        self.lookup_delay = lookup_delay
        self.patience = patience
        self.attempts = attempts
        self.lookups = lookups
        self._refresh_clock = refresh_clock
        self._clock_retry_at = 0.0
        self._clock_lock = threading.Lock()
        self._sleep = sleep
        self.registry = Registry.for_account(
            connector.exchange, connector.transport.base_url, credentials.key
        )
        self.registry.attach(self)
        self.journal = Journal.for_account(
            connector.exchange, connector.transport.base_url, credentials.key
        )
        self._balances: dict[str, Balance] | None = None
        self._balances_at: datetime | None = None
        self._snapshots: collections.deque[BalanceSnapshot] = collections.deque(maxlen=history)
        self._open: list[TrackedOrder] = []
        self._misses: dict[str, int] = {}
        self._quote_of: dict[str, Quote] = {}  # order id -> the quote it executed
        caps = connector.capabilities
        if "balances" in caps:
            self.add_task("balances", self._poll_balances, balance_interval)
        if "open_orders" in caps:
            self.add_task("open_orders", self._poll_open_orders, open_orders_interval)
        if "open_orders" in caps or "order" in caps:
            self.add_task("orders", self._poll_orders, orders_interval)
        if "order" in caps:
            self.add_task("journal", self.reconcile_journal, journal_interval)

    # -- state -----------------------------------------------------------------------------------

    @property
    def balances(self) -> dict[str, Balance] | None:
        """The balances the last successful poll saw (None before one); see ``is_stale``."""
        with self._lock:
            return None if self._balances is None else dict(self._balances)

    @property
    def balances_at(self) -> datetime | None:
        return self._balances_at

    def balance_history(self) -> tuple[BalanceSnapshot, ...]:
        """Every distinct balance snapshot seen, oldest first (bounded)."""
        with self._lock:
            return tuple(self._snapshots)

    @property
    def open_orders(self) -> list[TrackedOrder]:
        """The orders open at the last poll (live objects)."""
        with self._lock:
            return [t for t in self._open if not t.is_final]

    @property
    def tracked(self) -> list[TrackedOrder]:
        """Orders being followed until final."""
        return self.registry.pending()

    def server_now(self) -> datetime:
        """The estimated exchange time, refreshed when its error bound is too wide."""
        if self.clock is None:
            return datetime.now(UTC)
        if self._refresh_clock is not None and self.clock.needs_refresh(self.max_clock_error):
            now = time.monotonic()
            # One reading at a time (others use the estimate as it is), and a failing exchange
            # is not asked at every call.
            blind = self.clock.now().error == float("inf")  # no reading yet: wait for one
            if now >= self._clock_retry_at and self._clock_lock.acquire(blocking=blind):
                try:
                    if blind and self.clock.now().error != float("inf"):
                        return self.clock.now().time  # another thread just took the reading
                    self._refresh_clock()
                    self._clock_retry_at = 0.0
                except errors.XestError as exc:
                    self._clock_retry_at = now + 5.0
                    log.debug("%s: server time refresh failed: %s", self.name, exc)
                finally:
                    self._clock_lock.release()
        return self.clock.now().time

    # -- polling ---------------------------------------------------------------------------------

    def _poll_balances(self) -> dict[str, Balance]:
        balances = self.connector.balances()
        at = datetime.now(UTC)
        with self._lock:
            old = self._balances
            self._balances, self._balances_at = dict(balances), at
            if old != balances:
                self._snapshots.append(BalanceSnapshot(at, dict(balances)))
        if old is not None:
            for asset in sorted(set(old) | set(balances)):
                before, after = old.get(asset), balances.get(asset)
                if before != after:
                    self.emit(
                        BALANCE, old=before, new=after, asset=asset, change=_delta(before, after)
                    )
        return balances

    def _poll_open_orders(self) -> int:
        """Every open order of the account (also those placed elsewhere); returns how many."""
        opened = [self._track(o) for o in self.connector.open_orders()]
        with self._lock:
            self._open = opened
        return len(opened)

    def _poll_orders(self) -> int:
        """Follow the orders not yet final; returns how many. Nothing is asked when there are
        none. The open orders of their symbols come in one call per symbol (Binance charges far
        more for all symbols at once); a followed order no longer among them is asked for
        alone, once, to learn how it ended."""
        pending = self.registry.pending()
        if not pending:
            return 0
        seen: set[str] = set()
        if "open_orders" in self.connector.capabilities:
            symbols = sorted({t.symbol for t in pending})
            groups = [None] if len(symbols) > _MAX_SYMBOL_CALLS else symbols
            fresh = [self._track(o) for s in groups for o in self.connector.open_orders(s)]
            seen = {t.id for t in fresh}
            with self._lock:
                kept = [t for t in self._open if None not in groups and t.symbol not in groups]
                self._open = kept + fresh
        failure: Exception | None = None
        for tracked in pending:
            if tracked.id in seen:
                continue
            try:
                self._refresh(tracked)
            except errors.NetworkError as exc:
                failure = exc
        self.registry.sweep_quotes()
        if failure is not None:
            raise failure  # recorded as a failed poll; the rest was still done
        return len(pending)

    def reconcile_journal(self) -> int:
        """Settle the placements a killed process left open in the journal; returns how many
        are still unknown.

        Each open entry is looked up by client id: found, it is followed like any order (and
        the entry closed); not found once its validity window has provably closed by the
        exchange's clock, it was never placed (entry closed); otherwise it stays for the next
        round, and an ``order_unknown`` event says so.
        """
        unknown = 0
        for entry in self.journal.orphans():
            try:
                order = self.connector.order(client_id=entry.client_id, symbol=entry.symbol)
            except errors.OrderNotFound:
                if entry.valid_until is not None and self._past(entry.valid_until):
                    log.info("%s: journaled order %s was never placed", self.name, entry.client_id)
                    self.journal.close(entry.client_id)
                    continue
                if entry.valid_until is None and self._sent_nothing(entry):
                    self.journal.close(entry.client_id)
                    continue
                unknown += 1
                self.emit(ORDER_UNKNOWN, new=entry, client_id=entry.client_id)
                continue
            except errors.NetworkError:
                unknown += 1
                continue
            self._track(order)
            self.journal.close(entry.client_id)
        return unknown

    def _past(self, instant: datetime) -> bool:
        """Whether the exchange's clock is provably past ``instant`` (a server reading)."""
        try:
            return bool(self.connector.server_time().time > instant)
        except errors.XestError:
            return False

    def _sent_nothing(self, entry: Entry) -> bool:
        """An entry without a window: the process died before signing, so before sending, if
        the connector records windows at all (its other entries have one); else unknown."""
        return bool(getattr(self.connector, "records_validity", False))

    def _after_poll(self) -> None:
        self.registry.sweep_quotes()

    # -- orders ----------------------------------------------------------------------------------

    def _new(self, order: Order) -> TrackedOrder:
        return TrackedOrder(
            order,
            refresh=self._refresh,
            cancel=lambda t: self.cancel_order(t.id, symbol=t.symbol).snapshot,
            followed=self.registry.followed,
            sink=self.registry.emit,
        )

    def _track(self, order: Order, *, placed: bool = False) -> TrackedOrder:
        tracked, is_new = self.registry.add(order, self._new)
        if is_new:
            data = {"order_id": order.id, "symbol": order.symbol}
            self.registry.emit(OrderEvents.NEW, None, order, data)
            if placed and order.is_final:  # filled (or refused) at once: that is news too
                self.registry.emit(final_event(order.status), None, order, data)
        return tracked

    def track(
        self, order: Order | TrackedOrder | str, *, symbol: str | None = None
    ) -> TrackedOrder:
        """Follow an order (a snapshot, or an id to look up) until it is final."""
        if isinstance(order, TrackedOrder):
            return order
        if isinstance(order, Order):
            return self._track(order)
        return self.order(order, symbol=symbol)

    def _refresh(self, tracked: TrackedOrder) -> None:
        quote = self._quote_of.get(tracked.id)
        finder = getattr(self.connector, "quote_order", None)
        try:
            if quote is not None and finder is not None:  # e.g. a Binance convert order
                snapshot = finder(quote)
            else:
                snapshot = self.connector.order(tracked.id, symbol=tracked.symbol)
        except errors.OrderNotFound:
            misses = self._misses[tracked.id] = self._misses.get(tracked.id, 0) + 1
            if misses >= _LOST_AFTER:
                self._misses.pop(tracked.id, None)
                self._quote_of.pop(tracked.id, None)
                self.registry.settled(tracked)
                tracked.mark_lost()
                self.emit(ORDER_LOST, new=tracked.snapshot, order_id=tracked.id)
            return
        self._misses.pop(tracked.id, None)
        if snapshot.is_final:
            self._quote_of.pop(tracked.id, None)
        self.registry.order(snapshot, self._new)


def _delta(before: Balance | None, after: Balance | None) -> Decimal:
    return (after.total if after else Decimal(0)) - (before.total if before else Decimal(0))
