"""The simulator inspection API: what a simulator holds, read and changed by the conformance
suite independently of the connector under test.

Every simulator built on :class:`xest.testing.server.LoopbackServer` inherits these methods and
implements the ones its exchange needs (the suite says which are missing):

- reads: :meth:`~Inspection.inspect_prices` (best bid and ask per market, as served),
  :meth:`~Inspection.inspect_balances` (free and locked per asset of an account),
  :meth:`~Inspection.inspect_orders` (an account's orders), and ``now()`` (the clock);
- changes, made between two reads by the suite to prove a private read is never stale:
  :meth:`~Inspection.credit` (add free funds) and :meth:`~Inspection.fill_order` (fill a
  resting order, in part or whole, at its own price).

Markets and assets are named the exchange's way (``XXBTZUSD``, ``ZUSD``; ``BTC-USD``,
``USD``): the suite matches them through the connector's ``Market.id`` / ``Market.ids`` and
``Balance.id``. ``key`` selects an account by API key; ``None`` is the demo account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

__all__ = ["Inspection", "SimBalance", "SimOrder", "SimPrice"]


@attrs.frozen
class SimPrice:
    """A market's best bid and ask exactly as the simulator serves them, and its mid."""

    bid: Decimal
    ask: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@attrs.frozen
class SimBalance:
    """One asset of an account: ``free`` to trade, ``locked`` in open orders."""

    free: Decimal
    locked: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@attrs.frozen
class SimOrder:
    """An order as the simulator holds it. ``market`` is the exchange's market id; ``side``
    ``buy``/``sell``; ``status`` one of ``open``, ``filled``, ``cancelled``, ``rejected``,
    ``expired`` (a partly filled open order is ``open`` with ``filled > 0``)."""

    id: str
    market: str
    side: str
    amount: Decimal
    filled: Decimal
    status: str
    price: Decimal | None = None
    client_id: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled


class Inspection:
    """Mixed into :class:`~xest.testing.server.LoopbackServer`; override what applies."""

    def inspect_prices(self) -> dict[str, SimPrice]:
        """Best bid and ask per market id, exactly as the ticker and book endpoints serve them."""
        raise NotImplementedError(_missing(self, "inspect_prices()"))

    def inspect_balances(self, key: str | None = None) -> dict[str, SimBalance]:
        """Free and locked amount per asset code of the account ``key`` (None: demo)."""
        raise NotImplementedError(_missing(self, "inspect_balances()"))

    def inspect_orders(self, key: str | None = None) -> list[SimOrder]:
        """Every order of the account ``key`` (None: demo), open or not, oldest first."""
        raise NotImplementedError(_missing(self, "inspect_orders()"))

    def credit(self, asset: str, amount: Decimal, key: str | None = None) -> None:
        """Add ``amount`` of ``asset`` (its exchange code) to the account's free funds."""
        raise NotImplementedError(_missing(self, "credit()"))

    def fill_order(self, order_id: str, amount: Decimal | None = None) -> Any:
        """Fill the resting order ``order_id`` (all of it, or ``amount``) at its own price, as
        a maker, moving the account's balances as the exchange would (what it returns, if
        anything, is the simulator's own)."""
        raise NotImplementedError(_missing(self, "fill_order()"))

    def inspect_order(self, order_id: str, key: str | None = None) -> SimOrder | None:
        return next((o for o in self.inspect_orders(key) if o.id == order_id), None)


def _missing(sim: object, method: str) -> str:
    return (
        f"{type(sim).__name__} does not implement {method} of the simulator inspection API "
        "(xest.testing.state): the conformance suite checks the connector against it"
    )
