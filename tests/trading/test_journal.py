"""The placement journal: an order placed by a process killed before it learned the outcome is
reconciled by the next account agent that starts, whether it is still open or finished."""

from __future__ import annotations

import os

import pytest

from xest.agents.account import ORDER_UNKNOWN
from xest.journal import Journal

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _killed_while_placing(agent, request):
    """Place ``request`` in a child process that dies the moment the order has landed, before
    it could record the outcome."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            agent.journal.close = lambda client_id: os._exit(0)
            agent.submit(request)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_orders_of_a_killed_process_are_reconciled_when_the_agent_starts(sim, new_agent):
    agent = new_agent(sim)
    done = agent.prepare_order("BTC/USD", "buy", "limit", "0.01", "40000")
    still_open = agent.prepare_order("BTC/USD", "buy", "limit", "0.01", "40001")
    for request in (done, still_open):
        _killed_while_placing(agent, request)
    assert len(agent.journal.orphans()) == 2
    (landed,) = sim.by_client(done.client_id)
    sim.fill(landed["id"], "0.01")  # finished while nobody watched

    restarted = new_agent(sim)
    restarted.start()
    assert restarted.journal.orphans() == []
    found = restarted.registry.find(None, client_id=done.client_id)
    assert found is not None and found.id == landed["id"] and found.is_final
    assert restarted.registry.find(None, client_id=still_open.client_id) is not None


def test_an_intent_that_never_left_is_closed_and_an_unknown_one_is_kept(sim, new_agent):
    agent = new_agent(sim)
    journal = agent.journal
    never_sent = agent.prepare_order("BTC/USD", "buy", "limit", "0.01", "40002")
    journal.open(never_sent)  # killed before signing: no window was recorded
    journal.release(never_sent.client_id)
    in_window = agent.prepare_order("BTC/USD", "buy", "limit", "0.01", "40003")
    entry = journal.open(in_window)
    journal.window(entry, entry.written_at.replace(year=entry.written_at.year + 1))
    journal.release(in_window.client_id)
    events = []
    agent.subscribe(events.append)
    assert agent.reconcile_journal() == 1
    assert [e.client_id for e in journal.orphans()] == [in_window.client_id]
    assert [e.kind for e in events if e.kind == ORDER_UNKNOWN] == [ORDER_UNKNOWN]


def test_an_entry_in_flight_elsewhere_is_left_alone(tmp_path):
    class Request:
        client_id, symbol, side, type, amount, price = "c1", "BTC/USD", "buy", "limit", "1", "2"

    placing = Journal(tmp_path)
    placing.open(Request())
    assert Journal(tmp_path).orphans() == []  # locked by its process
    placing.release("c1")
    assert [e.client_id for e in Journal(tmp_path).orphans()] == ["c1"]
    placing.close("c1")
    assert Journal(tmp_path).orphans() == []
