"""A local order book built from a snapshot and updates, served only while it is known right.

The book itself is exchange-agnostic: absolute quantities set per price level (zero removes
it), truncation to a depth, the top levels in order. Whether it is *right* is the feed's
business (Kraken's checksum, Binance's update ids); the feed calls :meth:`LocalBook.invalidate`
the moment it learns otherwise, and :meth:`snapshot` then refuses to serve it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xest.errors import XestError
from xest.models import OrderBook, PriceLevel


class BookNotSynced(XestError):
    """The local book is not known right (resyncing, disconnected): nothing is served."""


class LocalBook:
    """Price levels by side. Not thread safe: one feed thread owns it."""

    def __init__(self, symbol: str, depth: int | None = None, *, id: str = "") -> None:
        self.symbol = symbol
        self.id = id
        self.depth = depth
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.synced = False
        self.update_id: int | None = None  # the exchange's sequence, where it has one
        self.updated: datetime | None = None

    def __repr__(self) -> str:
        state = "synced" if self.synced else "not synced"
        return f"<LocalBook {self.symbol} {len(self.bids)}x{len(self.asks)} {state}>"

    def load(
        self,
        bids: Iterable[tuple[Any, Any]],
        asks: Iterable[tuple[Any, Any]],
        *,
        update_id: int | None = None,
    ) -> None:
        """Replace the whole book with a snapshot (not yet synced: the feed says when)."""
        self.bids, self.asks = {}, {}
        for price, qty in bids:
            self.set("bid", price, qty)
        for price, qty in asks:
            self.set("ask", price, qty)
        self.update_id = update_id
        self.updated = datetime.now(UTC)

    def set(self, side: str, price: Any, qty: Any) -> None:
        """The absolute quantity at a level; zero removes the level (absent or not)."""
        levels = self.bids if side == "bid" else self.asks
        price, qty = Decimal(price), Decimal(qty)
        if qty == 0:
            levels.pop(price, None)
        else:
            levels[price] = qty
        self.updated = datetime.now(UTC)

    def truncate(self, depth: int | None = None) -> None:
        """Keep the best ``depth`` levels per side (levels out of scope are not announced)."""
        depth = depth if depth is not None else self.depth
        if depth is None:
            return
        for side, levels in (("bid", self.bids), ("ask", self.asks)):
            if len(levels) > depth:
                keep = dict(self.top(side, depth))
                levels.clear()
                levels.update(keep)

    def top(self, side: str, n: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """The best ``n`` levels of a side, best first, as (price, quantity)."""
        levels = self.bids if side == "bid" else self.asks
        prices = sorted(levels, reverse=side == "bid")
        if n is not None:
            prices = prices[:n]
        return [(p, levels[p]) for p in prices]

    def invalidate(self) -> None:
        self.synced = False

    def clear(self) -> None:
        self.bids, self.asks = {}, {}
        self.synced = False
        self.update_id = None

    def snapshot(self, depth: int | None = None) -> OrderBook:
        """The book as a model (best ``depth`` levels); BookNotSynced when not known right."""
        if not self.synced:
            raise BookNotSynced(f"the {self.symbol} book is resyncing; try again shortly")
        depth = depth if depth is not None else self.depth
        return OrderBook(
            symbol=self.symbol,
            bids=tuple(PriceLevel(p, q) for p, q in self.top("bid", depth)),
            asks=tuple(PriceLevel(p, q) for p, q in self.top("ask", depth)),
            timestamp=self.updated,
            id=self.id,
            raw={"update_id": self.update_id},
        )
