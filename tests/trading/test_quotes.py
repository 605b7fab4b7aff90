"""Quotes: one live object per id, executed once, expired by the server's clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from xest import errors
from xest.models import Order, OrderStatus, QuoteState
from xest.testing.server import Fault

ACCEPT = "/private/quote/accept"


def _quote(agent, seconds=30):
    return agent.quote("BTC/USD", "buy", "0.1", valid_for=timedelta(seconds=seconds))


def test_a_quote_executes_once(sim, agent):
    quote = _quote(agent)
    assert quote.state is QuoteState.OPEN and 29 < quote.seconds_left() <= 30
    order = quote.accept()
    assert quote.state is QuoteState.EXECUTED and quote.order is order
    assert order.status is OrderStatus.FILLED and order.client_id == quote.id
    with pytest.raises(errors.QuoteAlreadyExecuted, match="already executed"):
        quote.accept()
    with pytest.raises(errors.QuoteAlreadyExecuted):
        agent.accept_quote(quote.id)
    assert sim.hits[ACCEPT] == 1 and sim.accepts[quote.id] == 1


def test_many_threads_one_quote_one_request(sim, agent):
    quote = _quote(agent)
    start = threading.Barrier(32)
    results = []

    def accept():
        start.wait()
        try:
            results.append(agent.accept_quote(quote))
        except errors.QuoteAlreadyExecuted as exc:
            results.append(exc)

    threads = [threading.Thread(target=accept) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    orders = [r for r in results if not isinstance(r, Exception)]
    assert len(results) == 32 and len(orders) == 1
    assert sim.hits[ACCEPT] == 1 and sim.accepts == {quote.id: 1}


def test_one_live_object_per_quote_id_across_agents_of_one_account(sim, new_agent):
    first, second = new_agent(sim), new_agent(sim)
    quote = _quote(first)
    assert second.registry is first.registry
    assert second.accept_quote(quote.snapshot) is quote.order  # the snapshot maps to the one
    assert quote.state is QuoteState.EXECUTED
    with pytest.raises(errors.QuoteAlreadyExecuted):
        first.accept_quote(quote.id)
    assert sim.hits[ACCEPT] == 1


def test_seconds_left_come_from_the_server_clock(new_sim, new_agent):
    # The exchange runs 60 s ahead of us: by our own clock this quote has 90 s left.
    agent = new_agent(new_sim(clock_offset=60.0))
    quote = _quote(agent, seconds=30)
    assert 28 < quote.seconds_left() <= 30


def test_a_quote_past_its_server_deadline_is_refused_locally(new_sim, new_agent):
    sim = new_sim(clock_offset=60.0)
    agent = new_agent(sim)
    quote = _quote(agent, seconds=30)
    # The exchange's clock moves on 40 s; the exchange agent would see the jump and drop the
    # old readings, so the next estimate comes from a fresh server-time reading.
    sim.clock_offset += 40
    agent.clock.forget_before(time.monotonic())
    assert quote.state is QuoteState.EXPIRED
    with pytest.raises(errors.QuoteExpired, match="ask for a new quote"):
        quote.accept()
    assert sim.hits[ACCEPT] == 0  # nothing was sent


def test_a_quote_our_clock_calls_expired_is_still_good_by_the_server(new_sim, new_agent):
    # The exchange runs 120 s behind us: by our clock the deadline passed 90 s ago.
    sim = new_sim(clock_offset=-120.0)
    agent = new_agent(sim)
    quote = _quote(agent, seconds=30)
    assert quote.expires_at < datetime.now(UTC)
    assert quote.accept().status is OrderStatus.FILLED
    assert sim.accepts == {quote.id: 1}


def test_the_exchange_refusing_an_expired_quote_expires_it(sim, agent):
    quote = _quote(agent)
    sim.expire_quote_now(quote.id)  # the exchange disagrees with our estimate
    with pytest.raises(errors.QuoteExpired):
        quote.accept()
    assert quote.state is QuoteState.EXPIRED
    with pytest.raises(errors.QuoteExpired):
        quote.accept()
    assert sim.hits[ACCEPT] == 1


def test_a_refused_acceptance_fails_the_quote(sim, agent):
    quote = _quote(agent)
    sim.inject(Fault.http(400, '{"error": "funds", "message": "not enough USD"}'), path=ACCEPT)
    with pytest.raises(errors.InsufficientFunds):
        quote.accept()
    assert quote.state is QuoteState.FAILED and "not enough USD" in str(quote.error)
    with pytest.raises(errors.InvalidQuote, match="failed"):
        quote.accept()
    assert sim.hits[ACCEPT] == 1


def test_a_lost_acceptance_is_found_not_repeated(sim, agent):
    quote = _quote(agent)
    sim.inject(Fault.lost_response(), path=ACCEPT)
    order = quote.accept()
    assert quote.state is QuoteState.EXECUTED and order.client_id == quote.id
    assert sim.hits[ACCEPT] == 1 and sim.accepts == {quote.id: 1}


def test_an_acceptance_that_never_arrived_is_sent_again(sim, agent):
    quote = _quote(agent)
    sim.inject(Fault.reset(), path=ACCEPT)
    quote.accept()
    assert sim.hits[ACCEPT] == 2 and sim.accepts == {quote.id: 1}


def test_when_the_exchange_cannot_tell_the_quote_stays_uncertain(sim, agent):
    quote = _quote(agent)
    sim.inject(Fault.lost_response(), path=ACCEPT)
    sim.inject(Fault.http(503), path="/private/order")
    with pytest.raises(errors.ExchangeUnavailable, match="call accept\\(\\) again"):
        quote.accept()
    assert quote.uncertain and quote.state is QuoteState.OPEN
    order = quote.accept()  # asks first, finds the order, sends nothing
    assert quote.state is QuoteState.EXECUTED and quote.order is order
    assert sim.hits[ACCEPT] == 1


def test_an_order_filled_at_once_reports_its_fill(sim, agent):
    listener = agent.listen()
    order = _quote(agent).accept()
    kinds = [e.kind for e in listener.drain() if e.data.get("order_id") == order.id]
    assert kinds == ["order_new", "order_filled", "quote_executed"]


def test_expiry_and_execution_are_events(sim, agent):
    listener = agent.listen("quote_executed", "quote_expired")
    done, old = _quote(agent), _quote(agent, seconds=1)
    done.accept()
    sim.clock_offset += 2
    agent.clock.forget_before(time.monotonic())
    assert {q.id for q in agent.registry.sweep_quotes()} == {done.id, old.id}
    assert old.state is QuoteState.EXPIRED
    kinds = {(e.kind, e.data["quote_id"]) for e in listener.drain()}
    assert kinds == {("quote_executed", done.id), ("quote_expired", old.id)}
    assert agent.quotes() == []


def test_a_timer_expires_quotes_without_any_poll(sim, agent):
    listener = agent.listen("quote_expired")
    quote = _quote(agent, seconds=1)
    assert not agent.running
    event = listener.get(timeout=10)  # emitted at the deadline, nobody asked
    assert event.data["quote_id"] == quote.id and quote.state is QuoteState.EXPIRED
    assert agent.quotes() == []
    assert sim.hits[ACCEPT] == 0


def test_unknown_quote_id_is_a_clear_error(agent):
    with pytest.raises(errors.InvalidQuote, match="ask for a quote first"):
        agent.accept_quote("nope")


def test_a_pending_quote_order_is_followed_through_the_quote(sim, agent):
    # Binance convert: acceptQuote answers PROCESS; the order is read back by quote, not by
    # the spot order endpoint, when the connector offers ``quote_order``.
    connector = agent.connector
    quote = _quote(agent)
    pending = Order("C1", "BTC/USD", "buy", "market", "pending", quote.amount, client_id=quote.id)
    done = attrs.evolve(pending, status="filled", filled=quote.amount)
    answers = iter([pending, done])
    connector.accept_quote = lambda q: pending
    connector.quote_order = lambda q: next(answers)
    order = quote.accept()
    assert order.status is OrderStatus.PENDING
    assert order.wait(timeout=5, poll=0.01).status is OrderStatus.FILLED
