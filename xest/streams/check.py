"""Helpers to check a streamed book against the book it mirrors (tests, conformance, bench)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

Levels = Sequence[tuple[Decimal, Decimal]]


def levels(book: Any) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """(bids, asks) of an :class:`~xest.models.OrderBook` as (price, amount) pairs."""
    return (
        [(lv.price, lv.amount) for lv in book.bids],
        [(lv.price, lv.amount) for lv in book.asks],
    )


def same_book(book: Any, bids: Levels, asks: Levels, depth: int) -> bool:
    """Whether ``book`` is exactly the best ``depth`` levels of ``bids``/``asks``."""
    if book is None:
        return False
    got_bids, got_asks = levels(book)
    return got_bids == list(bids[:depth]) and got_asks == list(asks[:depth])


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.01) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
