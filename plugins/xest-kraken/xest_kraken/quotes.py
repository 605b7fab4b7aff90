"""Quotes for Kraken, which has no RFQ: derived from the order book, executed as limit IOC.

A quote walks the book for the requested amount. Its ``price`` is the worst level the walk
reaches: accepted as a limit IOC order at that price, the fill can never be worse than quoted
(at worst it fills less, if the book moved). ``cost`` is amount * price, the bound the user is
promised; the expected volume-weighted price and cost are kept in ``raw``.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from xest import errors
from xest.markets import take_levels
from xest.models import OrderBook, Side

DEFAULT_VALIDITY_SECONDS = 10

# cl_ord_id formats Kraken accepts: a long or short UUID, or up to 18 ASCII characters.
_LONG_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_SHORT_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_TEXT = re.compile(r"^[\x21-\x7e]{1,18}$")

# Client order ids of quote acceptances derive from the quote id, so a lost answer can be
# reconciled by looking the order up, and a second acceptance is recognisably the same.
_NAMESPACE = uuid.UUID("6f1c2b8e-4d3a-5e7f-9a0b-1c2d3e4f5a6b")


def valid_client_id(value: str) -> bool:
    return bool(_LONG_UUID.match(value) or _SHORT_UUID.match(value) or _FREE_TEXT.match(value))


def check_client_id(value: str) -> None:
    if not valid_client_id(value):
        raise errors.InvalidOrder(
            f"client order id {value!r} is not one Kraken accepts: use a UUID "
            "(with or without dashes) or up to 18 printable ASCII characters",
            exchange="kraken",
        )


def new_quote_id() -> str:
    return str(uuid.uuid4())


def client_id_for(quote_id: str) -> str:
    """The cl_ord_id of the order that executes quote ``quote_id`` (a UUID, stable per quote)."""
    return str(uuid.uuid5(_NAMESPACE, quote_id))


def walk(book: OrderBook, side: Side, amount: Decimal) -> tuple[Decimal, Decimal, int]:
    """Walk the levels a ``side`` order of ``amount`` would take.

    Returns the worst price reached, the expected cost (sum of price * amount taken) and the
    number of levels used. InvalidQuote when the book is too thin.
    """
    levels = book.asks if side is Side.BUY else book.bids
    fills = take_levels(((lv.price, lv.amount) for lv in levels), amount, buy=side is Side.BUY)
    available = sum((taken for _, taken in fills), Decimal(0))
    if available < amount or not fills:
        raise errors.InvalidQuote(
            f"the {book.symbol} order book holds only {available} on the "
            f"{'ask' if side is Side.BUY else 'bid'} side; ask for a smaller amount",
            exchange="kraken",
        )
    return fills[-1][0], sum((p * a for p, a in fills), Decimal(0)), len(fills)
