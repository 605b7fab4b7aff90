"""Finding a market by any of its names: the unified symbol or any name the exchange uses.

Exchanges name one pair several ways (Kraken: ``XXBTZUSD`` as key, ``XBTUSD`` as altname,
``XBT/USD`` in websockets); answers use whichever they like. :class:`MarketIndex` resolves them
all, so no connector keeps its own lookup tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from xest.models import Market

__all__ = ["MarketIndex", "take_levels"]


def take_levels(
    levels: Iterable[tuple[Decimal, Decimal]],
    amount: Decimal,
    *,
    buy: bool,
    limit: Decimal | None = None,
) -> list[tuple[Decimal, Decimal]]:
    """The ``(price, amount)`` fills a taker order for ``amount`` gets from ``levels`` (best
    first: asks for a buy, bids for a sell), never past ``limit`` (a limit order's price). What
    the book cannot fill is left out: compare the fills' total with ``amount``. Connectors use
    it to quote from a book, simulators to match orders."""
    fills: list[tuple[Decimal, Decimal]] = []
    left = amount
    for price, size in levels:
        if left <= 0:
            break
        if limit is not None and (price > limit if buy else price < limit):
            break
        take = min(size, left)
        fills.append((price, take))
        left -= take
    return fills


class MarketIndex:
    """Markets by unified symbol (``BTC/USD``), exchange id (``Market.id``) and every other
    exchange name (the values of ``Market.ids``). On a clash the symbol wins over an id, and an
    id over another name; among equals the first market listed wins."""

    def __init__(self, markets: Iterable[Market]) -> None:
        self.markets: tuple[Market, ...] = tuple(markets)
        names: dict[str, Market] = {}
        for m in self.markets:
            names.setdefault(m.symbol, m)
        for m in self.markets:
            names.setdefault(m.id, m)
        for m in self.markets:
            for name in m.ids.values():
                names.setdefault(name, m)
        self._names = names

    def get(self, name: str) -> Market | None:
        """The market ``name`` designates (symbol, id or other exchange name), or None."""
        return self._names.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[Market]:
        return iter(self.markets)

    def __len__(self) -> int:
        return len(self.markets)

    def symbols(self) -> list[str]:
        return [m.symbol for m in self.markets]
