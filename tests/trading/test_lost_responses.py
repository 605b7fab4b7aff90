"""Lost answers against a real loopback server: every order exists exactly once afterwards."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from xest import errors
from xest.testing.server import Fault

NEW = "/private/order/new"
LOOKUP = "/private/order"


def _place(agent, i):
    return agent.place_order("BTC/USD", "buy", "limit", "0.01", str(40000 + i))


def test_a_lost_answer_is_found_by_client_id(sim, agent):
    sim.inject(Fault.lost_response(), path=NEW)
    order = _place(agent, 0)
    (stored,) = sim.by_client(order.client_id)
    assert order.id == stored["id"] and sim.placed == 1
    assert sim.hits[NEW] == 1 and sim.hits[LOOKUP] == 1


def test_a_request_that_never_arrived_is_sent_again(sim, agent):
    sim.inject(Fault.reset(), path=NEW)  # dropped before the simulator handled it
    order = _place(agent, 0)
    assert sim.hits[NEW] == 2 and sim.placed == 1
    assert [o["id"] for o in sim.by_client(order.client_id)] == [order.id]


def test_a_timed_out_placement_still_in_the_exchanges_hands_is_not_doubled(sim, new_agent):
    agent = new_agent(sim, read_timeout=0.1)
    # Handled 0.2 s after it left: after the first look-ups found nothing, inside the 0.3 s
    # validity window. Only look-ups follow until the window closed: the order is found.
    sim.inject(Fault.slow(0.2), path=NEW)
    order = _place(agent, 0)
    assert sim.hits[NEW] == 1 and sim.placed == 1
    assert sim.hits[LOOKUP] >= 2  # it was not there at first
    assert [o["id"] for o in sim.by_client(order.client_id)] == [order.id]


def test_a_placement_held_past_its_window_is_refused_then_sent_once_more(sim, new_agent):
    agent = new_agent(sim, read_timeout=0.1)
    sim.inject(Fault.slow(0.6), path=NEW)  # arrives after its window: the exchange refuses it
    order = _place(agent, 0)
    assert sim.hits[NEW] == 2 and sim.placed == 1
    assert [o["id"] for o in sim.by_client(order.client_id)] == [order.id]


def test_a_garbled_answer_to_a_placement_is_reconciled(sim, agent):
    sim.inject(Fault.truncated(), path=NEW)  # executed, then half a JSON body
    order = _place(agent, 0)
    assert sim.hits[NEW] == 1 and sim.placed == 1 and sim.hits[LOOKUP] >= 1
    assert [o["id"] for o in sim.by_client(order.client_id)] == [order.id]
    assert agent.registry.find(order.id) is order  # tracked


def test_when_the_exchange_cannot_be_asked_nothing_is_sent_again(sim, agent):
    sim.inject(Fault.lost_response(), path=NEW)
    sim.inject(*[Fault.http(503)] * 99, path=LOOKUP)
    agent.patience = 0.5
    with pytest.raises(errors.OrderStateUnknown, match="--client-id") as info:
        _place(agent, 0)
    assert sim.hits[NEW] == 1 and sim.placed == 1
    client_id = str(info.value).split("--client-id ")[1].split()[0]
    assert client_id == info.value.client_id
    sim.clear_faults()
    # Later, the order is found by that client id: it existed exactly once all along.
    assert agent.order(client_id=client_id).id == sim.by_client(client_id)[0]["id"]


def test_a_thousand_lost_answers_make_no_duplicate_and_lose_no_order(sim, agent):
    """Each placement loses its answer after the simulator accepted it; some look-ups are lost
    too, and some requests never arrive. Afterwards: one order per placement, none twice."""
    rng = random.Random(8)
    placed = []
    for i in range(1000):
        sim.inject(Fault.lost_response(), path=NEW)
        roll = rng.random()
        if roll < 0.15:
            sim.inject(Fault.reset(), path=LOOKUP)  # the first look-up is lost as well
        elif roll < 0.25:
            sim.clear_faults()
            sim.inject(Fault.reset(), path=NEW)  # this time the request itself is lost
        placed.append(_place(agent, i))
    sim.clear_faults()
    assert len({o.client_id for o in placed}) == 1000
    assert sim.placed == 1000
    for order in placed:
        (stored,) = sim.by_client(order.client_id)  # exactly one, no duplicate
        assert stored["id"] == order.id
        assert stored["price"] == order.price
    assert len({o.id for o in placed}) == 1000
    assert sum(o.amount for o in placed) == Decimal("10.00")
