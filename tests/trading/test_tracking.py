"""The account agent follows orders to their final state, and keeps one object per order."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest

from xest import errors
from xest.agents.account import BALANCE, ORDER_LOST
from xest.agents.live import OrderEvents
from xest.models import OrderStatus

CANCEL = "/private/order/cancel"


def _limit(agent, amount="1", price="40000", **kw):
    return agent.place_order("BTC/USD", "buy", "limit", amount, price, **kw)


def test_partial_fills_are_followed_to_the_fill(sim, agent):
    listener = agent.listen()
    order = _limit(agent)
    sim.fill(order.id, "0.25")
    agent.poll("orders")
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled == Decimal("0.25")
    sim.fill(order.id, "0.75")
    agent.poll("orders")
    assert order.status is OrderStatus.FILLED and order.wait(timeout=0) is order.snapshot
    kinds = [e.kind for e in listener.drain() if e.kind.startswith("order")]
    assert kinds == [OrderEvents.NEW, OrderEvents.PARTIAL_FILL, OrderEvents.FILL]
    assert agent.tracked == []


def test_wait_with_the_agent_running(sim, agent):
    agent.start()
    order = _limit(agent)
    threading.Timer(0.05, sim.fill, args=[order.id, "1"]).start()
    assert order.wait(timeout=10).status is OrderStatus.FILLED


def test_wait_without_the_agent_polls_itself(sim, agent):
    order = _limit(agent)
    threading.Timer(0.05, sim.fill, args=[order.id, "1"]).start()
    assert order.wait(timeout=10, poll=0.01).status is OrderStatus.FILLED


def test_every_tracked_order_reaches_its_final_state(sim, agent):
    rng = random.Random(7)
    agent.start()
    orders = [_limit(agent, amount="0.01", price=str(40000 + i)) for i in range(20)]
    for order in orders:
        if rng.random() < 0.5:
            sim.fill(order.id, "0.004")
            sim.fill(order.id, "0.006")
        else:
            sim.fill(order.id, "0.003")
            agent.cancel_order(order.id)
    finals = [order.wait(timeout=10) for order in orders]
    assert all(o.is_final for o in finals) and agent.tracked == []
    cancelled = [o for o in finals if o.status is OrderStatus.CANCELLED]
    assert 0 < len(cancelled) < 20 and all(o.filled == Decimal("0.003") for o in cancelled)


def test_cancel_then_cancelling_again_is_a_clear_local_error(sim, agent):
    listener = agent.listen(OrderEvents.CANCEL)
    order = _limit(agent)
    assert order.cancel().status is OrderStatus.CANCELLED
    assert order.status is OrderStatus.CANCELLED
    assert [e.data["order_id"] for e in listener.drain()] == [order.id]
    with pytest.raises(errors.InvalidOrder, match=r"already cancelled.*nothing to cancel"):
        agent.cancel_order(order.id)
    assert sim.hits[CANCEL] == 1


def test_cancel_by_client_id(sim, agent):
    order = _limit(agent, client_id="my-order-1")
    assert agent.cancel_order(client_id="my-order-1") is order
    assert order.status is OrderStatus.CANCELLED


def test_cancelling_an_order_that_filled_meanwhile_says_so(sim, agent, new_agent):
    order = _limit(agent)
    sim.fill(order.id, "1")  # filled on the exchange; this agent has not seen it yet
    other = new_agent(sim, account="elsewhere")  # same key, same registry
    with pytest.raises(errors.InvalidOrder, match="already filled"):
        other.cancel_order(order.id)
    assert order.status is OrderStatus.FILLED  # the one object learned it too


def test_one_object_per_order(sim, agent, new_agent):
    order = _limit(agent, client_id="abc")
    assert agent.order(order.id) is order
    assert agent.order(client_id="abc") is order
    assert new_agent(sim).order(order.id) is order  # another agent of the same account
    agent.poll("orders")
    assert agent.open_orders == [order]


def test_several_accounts_side_by_side(sim, agent, new_agent):
    sim.add_account("bob-key", {"USD": "5"})
    bob = new_agent(sim, key="bob-key", account="bob")
    assert bob.name == "tradex:bob" and bob.registry is not agent.registry
    mine = _limit(agent)
    agent.start()
    bob.start()
    bob.poll()
    assert bob.open_orders == [] and bob.balances["USD"].free == Decimal("5")
    agent.poll("orders")
    assert agent.open_orders == [mine]
    with pytest.raises(errors.OrderNotFound):
        bob.order(mine.id)


def test_balance_history_and_change_events(sim, agent):
    listener = agent.listen(BALANCE)
    agent.poll("balances")
    agent.poll("balances")
    assert len(agent.balance_history()) == 1
    sim.accounts[sim.demo_credentials()[0]]["BTC"] += Decimal("0.5")
    agent.poll("balances")
    (event,) = listener.drain()
    assert event.data["asset"] == "BTC" and event.data["change"] == Decimal("0.5")
    assert event.old.free == 10 and event.new.free == Decimal("10.5")
    assert [s.balances["BTC"].free for s in agent.balance_history()] == [10, Decimal("10.5")]
    assert agent.balances["BTC"].free == Decimal("10.5")


def test_an_order_the_exchange_forgot_is_given_up_with_an_event(sim, agent):
    listener = agent.listen(ORDER_LOST)
    order = _limit(agent)
    del sim.orders[order.id]
    for _ in range(3):
        agent.poll("orders")
    assert [e.data["order_id"] for e in listener.drain()] == [order.id]
    assert agent.tracked == [] and order.lost
    with pytest.raises(errors.OrderNotFound, match="no longer knows"):
        order.wait(timeout=5)


def test_validate_places_nothing_and_tracks_nothing(sim, agent):
    checked = _limit(agent, validate=True)
    assert checked.status is OrderStatus.PENDING and sim.placed == 0 and agent.tracked == []


def test_orders_are_rounded_before_sending(sim, agent):
    order = _limit(agent, amount="0.123456", price="40000.04")
    (stored,) = sim.by_client(order.client_id)
    assert (stored["amount"], stored["price"]) == (Decimal("0.1234"), Decimal("40000.0"))
    with pytest.raises(errors.InvalidOrder, match="minimum"):
        _limit(agent, amount="0.0001")
    assert sim.hits["/private/order/new"] == 1


def test_an_account_needs_credentials(connector):
    from xest.agents.account import AccountAgent

    connector.credentials = None
    with pytest.raises(errors.AuthenticationError, match="needs an account"):
        AccountAgent(connector)


def test_a_cancel_whose_answer_is_lost_is_checked_not_failed(sim, agent):
    from xest.testing.server import Fault

    order = _limit(agent)
    sim.inject(Fault.lost_response(), path=CANCEL)
    assert agent.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert sim.hits[CANCEL] == 1


def test_following_costs_nothing_while_no_order_is_pending(sim, agent):
    assert agent.poll("orders")[0].value == 0
    assert sim.hits["/private/orders"] == 0 and sim.hits["/private/order"] == 0


def test_orders_placed_elsewhere_are_discovered_and_followed(sim, agent):
    listener = agent.listen(OrderEvents.NEW, OrderEvents.FILL)
    placed = agent.connector.place_order("BTC/USD", "sell", "limit", Decimal("1"), Decimal("9e4"))
    agent.poll("open_orders")
    (found,) = agent.open_orders
    assert found.id == placed.id and agent.tracked == [found]
    sim.fill(placed.id, "1")
    agent.poll("orders")
    assert found.status is OrderStatus.FILLED
    assert [e.kind for e in listener.drain()] == [OrderEvents.NEW, OrderEvents.FILL]
