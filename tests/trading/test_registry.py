"""The registry: one object per id while anyone holds it, bounded memory, shared per account."""

from __future__ import annotations

import gc

from xest.agents.live import TrackedOrder
from xest.agents.tracking import Registry
from xest.models import Order


def _order(i, status="open"):
    return Order(f"O{i}", "BTC/USD", "buy", "limit", status, "1", price="100", client_id=f"c{i}")


def test_one_object_per_id_and_by_client_id():
    registry = Registry()
    first = registry.order(_order(1), TrackedOrder)
    again = registry.order(_order(1, "cancelled"), TrackedOrder)
    assert again is first and first.status == "cancelled"
    assert registry.find("O1") is first and registry.find(client_id="c1") is first


def test_open_orders_are_kept_final_ones_only_while_recent_or_held():
    registry = Registry(keep_final=2)
    held = registry.order(_order(0, "filled"), TrackedOrder)
    for i in range(1, 5):
        registry.order(_order(i, "filled"), TrackedOrder)
    pending = registry.order(_order(9), TrackedOrder)
    del pending
    gc.collect()
    kept = {t.id for t in registry.orders()}
    assert kept == {"O0", "O3", "O4", "O9"}  # held by us, the 2 most recent, the open one
    assert registry.find("O0") is held and registry.pending()[0].id == "O9"


def test_one_registry_per_account_and_url():
    a = Registry.for_account("x", "http://h", "key-a")
    assert Registry.for_account("x", "http://h", "key-a") is a
    assert Registry.for_account("x", "http://h", "key-b") is not a
    assert Registry.for_account("x", "http://other", "key-a") is not a
