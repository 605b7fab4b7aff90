"""The live objects on their own: state machines, events, stale snapshots, waiting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from xest import errors
from xest.agents.live import OrderEvents, TrackedOrder
from xest.agents.quote import LiveQuote
from xest.models import Order, Quote, QuoteState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _order(status="open", filled="0"):
    return Order("O1", "BTC/USD", "buy", "limit", status, "1", filled, "100")


def _tracked(**kw):
    return TrackedOrder(_order(), **kw)


def test_partial_fills_then_fill_emit_events_in_order():
    seen = []
    t = _tracked()
    t.subscribe(lambda e: seen.append((e.kind, str(e.data["filled_delta"]))))
    t.update(_order("partially_filled", "0.25"))
    t.update(_order("partially_filled", "0.25"))  # nothing new: no event
    t.update(_order("partially_filled", "0.75"))
    t.update(_order("filled", "1"))
    assert seen == [
        (OrderEvents.PARTIAL_FILL, "0.25"),
        (OrderEvents.PARTIAL_FILL, "0.50"),
        (OrderEvents.FILL, "0.25"),
    ]
    assert t.is_final and [o.filled for o in t.history][-1] == 1


def test_every_snapshot_field_reads_through():
    t = _tracked()
    assert t.time_in_force is None and t.fee is None and t.raw is None
    assert (t.id, t.price, t.remaining) == ("O1", 100, 1)


def test_cancel_after_a_partial_fill_reports_both():
    t = _tracked()
    events = t.update(_order("cancelled", "0.5"))
    assert [e.kind for e in events] == [OrderEvents.PARTIAL_FILL, OrderEvents.CANCEL]


def test_stale_snapshots_never_step_back():
    t = _tracked()
    t.update(_order("partially_filled", "0.5"))
    assert t.update(_order("open", "0.25")) == []  # an older answer arriving late
    t.update(_order("cancelled", "0.5"))
    assert t.update(_order("partially_filled", "0.5")) == []
    assert t.status == "cancelled" and t.filled == 0.5


def test_wait_returns_when_another_thread_finishes_the_order():
    t = _tracked(followed=lambda: True)
    threading.Timer(0.05, t.update, args=[_order("filled", "1")]).start()
    assert t.wait(timeout=5).status == "filled"


def test_wait_polls_by_itself_without_an_agent():
    answers = iter([_order("open"), _order("partially_filled", "0.5"), _order("filled", "1")])
    t = _tracked(refresh=lambda tracked: tracked.update(next(answers)))
    assert t.wait(timeout=5, poll=0.001).status == "filled"


def test_wait_times_out():
    t = _tracked(followed=lambda: True)
    with pytest.raises(TimeoutError, match="still open"):
        t.wait(timeout=0.01)


class FakeServerClock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def _live(clock, execute):
    quote = Quote("q1", "BTC/USD", "buy", "1", "100", "100", T0 + timedelta(seconds=10))
    return LiveQuote(quote, execute=execute, server_now=clock)


def test_a_quote_expires_by_the_clock_it_is_given():
    clock, calls = FakeServerClock(), []
    live = _live(clock, lambda q: calls.append(q))
    clock.now = T0 + timedelta(seconds=9.9)
    assert live.state is QuoteState.OPEN and live.seconds_left() == pytest.approx(0.1)
    clock.now = T0 + timedelta(seconds=10)
    assert live.state is QuoteState.EXPIRED
    with pytest.raises(errors.QuoteExpired):
        live.accept()
    assert calls == []


def test_an_acceptance_in_flight_is_not_expired_under_its_feet():
    clock = FakeServerClock()
    release, started = threading.Event(), threading.Event()

    def execute(quote):
        started.set()
        release.wait(5)
        return _tracked()

    live = _live(clock, execute)
    worker = threading.Thread(target=live.accept)
    worker.start()
    started.wait(5)
    clock.now = T0 + timedelta(seconds=11)
    assert live.state is QuoteState.OPEN  # the exchange's answer decides
    release.set()
    worker.join(5)
    assert live.state is QuoteState.EXECUTED


def test_a_lost_acceptance_the_exchange_then_calls_used_counts_as_executed():
    # Like Kraken's derived client id or Binance's used quoteId: no lookup finds the order,
    # but the exchange refuses the resend because the first one did execute.
    outcomes = [errors.ExchangeUnavailable("reset"), errors.QuoteAlreadyExecuted("used")]

    def execute(quote):
        raise outcomes.pop(0)

    live = LiveQuote(
        _live(FakeServerClock(), execute).snapshot,
        execute=execute,
        server_now=FakeServerClock(),
        reconcile=lambda quote: None,
    )
    with pytest.raises(errors.QuoteAlreadyExecuted, match="earlier attempt"):
        live.accept()
    assert live.state is QuoteState.EXECUTED and outcomes == []


def test_a_quote_used_elsewhere_fails():
    def execute(quote):
        raise errors.QuoteAlreadyExecuted("used")

    live = _live(FakeServerClock(), execute)
    with pytest.raises(errors.QuoteAlreadyExecuted):
        live.accept()
    assert live.state is QuoteState.FAILED


def test_a_refused_timestamp_leaves_the_quote_open_and_is_retried_once():
    outcomes = [errors.InvalidNonce("-1021"), _tracked()]

    def execute(quote):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    live = _live(FakeServerClock(), execute)
    assert live.accept().id == "O1" and live.state is QuoteState.EXECUTED and not live.uncertain


def test_a_rate_limited_acceptance_leaves_the_quote_open():
    def execute(quote):
        raise errors.RateLimited("429")

    live = _live(FakeServerClock(), execute)
    with pytest.raises(errors.RateLimited):
        live.accept()
    assert live.state is QuoteState.OPEN and not live.uncertain
