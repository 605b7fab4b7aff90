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
    agent = new_agent(sim, read_timeout=0.2, timeout_settle=0.6)
    sim.inject(Fault.slow(0.5), path=NEW)  # answered after we stopped waiting, then handled
    order = _place(agent, 0)
    assert sim.hits[NEW] == 1 and sim.placed == 1
    assert [o["id"] for o in sim.by_client(order.client_id)] == [order.id]


def test_when_the_exchange_cannot_be_asked_nothing_is_sent_again(sim, agent):
    sim.inject(Fault.lost_response(), path=NEW)
    sim.inject(*[Fault.http(503)] * 9, path=LOOKUP)
    with pytest.raises(errors.ExchangeUnavailable, match="--client-id") as info:
        _place(agent, 0)
    assert sim.hits[NEW] == 1 and sim.placed == 1
    client_id = str(info.value).split("--client-id ")[1].rstrip("`")
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
