"""Deliberately broken variants of the example connector, one defect each, for the core's tests
of the conformance suite. Installed by the tests as a throwaway distribution (entry point group
``xest``), so the suite finds them exactly as it finds a real plugin."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from xest_example.cases import ERROR_CASES, RECORDED_CASES
from xest_example.connector import ExampleConnector
from xest_example.endpoints import PLACE
from xest_example.errors import ERRORS
from xest_example.simulator import ExampleSimulator

from xest import errors, hookimpl
from xest.models import Balance, Order, OrderBook, PublicTrade, Ticker
from xest.testing import ConnectorKit, RecordedCase


class FloatPrices(ExampleConnector):
    """Parses numbers through float: 43210.4 becomes 43210.40000000000145519152283668518066."""

    exchange = "broken_float"

    def number(self, value: Any) -> Decimal:
        return Decimal(float(value))


class NaiveDatetimes(ExampleConnector):
    """Builds datetimes without a timezone."""

    exchange = "broken_naive"

    def time(self, ms: int) -> datetime:
        return datetime.utcfromtimestamp(ms / 1000)


class RetriedOrder(ExampleConnector):
    """Resends an order placement after a 503: the exchange may have placed it already."""

    exchange = "broken_retry"

    def place_order(self, *args: Any, **kwargs: Any) -> Any:
        for _ in range(2):
            try:
                return super().place_order(*args, **kwargs)
            except errors.ExchangeUnavailable:
                continue
        return super().place_order(*args, **kwargs)


class SecretInError(ExampleConnector):
    """Puts the API secret into the message of an authentication error (outside the transport,
    whose redaction would catch it in ``check_response``)."""

    exchange = "broken_secret"

    def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().request(*args, **kwargs)
        except errors.AuthenticationError as exc:
            raise errors.AuthenticationError(
                f"{exc.message}; signed with secret {self.credentials.secret}",
                exchange=self.exchange,
                code=exc.code,
            ) from None


class WrongMapping(ExampleConnector):
    """Maps the exchange's insufficient-funds code to BadRequest."""

    exchange = "broken_mapping"

    def error_class(self, code: str, status: int) -> type[errors.XestError]:
        if code == "INSUFFICIENT_FUNDS":
            return errors.BadRequest
        return ERRORS.get(code) or super().error_class(code, status)


class UnsortedBook(ExampleConnector):
    """Returns bids lowest first."""

    exchange = "broken_book"

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        book = super().order_book(symbol, depth)
        return OrderBook(
            symbol=book.symbol,
            bids=sorted(book.bids, key=lambda level: level.price),
            asks=book.asks,
            timestamp=book.timestamp,
            raw=book.raw,
        )


class NoShapeChecks(ExampleConnector):
    """Trusts every answer's shape and makes up a result from an unexpected one (the core
    turns a crash on it, KeyError and the like, into BadResponse; a made-up result it cannot
    catch)."""

    exchange = "broken_shape"

    def shaped(self, data: Any, keys: tuple[str, ...], what: str) -> Any:
        return data

    def rows(self, data: Any, key: str) -> Any:
        return data.get(key) or [] if isinstance(data, dict) else []


# -- defects that lazy cases let through: the suite's invariants must catch them ------------------


class MemoisedBalances(ExampleConnector):
    """Keeps balances for a minute: a second read after a change is stale."""

    exchange = "broken_memo"

    def balances(self) -> dict[str, Balance]:
        cached = getattr(self, "_memo", None)
        if cached is not None and time.monotonic() - cached[0] < 60:
            return cached[1]
        value = super().balances()
        self._memo = (time.monotonic(), value)
        return value


class MicrosecondTimes(ExampleConnector):
    """Reads the exchange's millisecond times as microseconds: 1970 dates."""

    exchange = "broken_unit"

    def time(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1_000_000, UTC)


class LockedAsFree(ExampleConnector):
    """Counts funds held by open orders as free."""

    exchange = "broken_locked"

    def balances(self) -> dict[str, Balance]:
        return {k: attrs.evolve(b, free=b.free + b.locked) for k, b in super().balances().items()}


class RemainingAsAmount(ExampleConnector):
    """Reports an order's remaining amount as its amount."""

    exchange = "broken_remaining"

    def _order(self, o: dict[str, Any]) -> Order:
        order = super()._order(o)
        return attrs.evolve(order, amount=order.amount - order.filled)


def _relabel(value: Any, symbol: str) -> Any:
    return attrs.evolve(value, symbol=symbol)


class WrongPairServed(ExampleConnector):
    """Serves ETH/BTC's ticker, book and trades when asked for BTC/USD (labelled BTC/USD)."""

    exchange = "broken_pair_served"

    def _other(self, symbol: str) -> str:
        return "ETH/BTC" if self.market(symbol).symbol == "BTC/USD" else symbol

    def ticker(self, symbol: str) -> Ticker:
        return _relabel(super().ticker(self._other(symbol)), self.market(symbol).symbol)

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        book = super().order_book(self._other(symbol), depth)
        return _relabel(book, self.market(symbol).symbol)

    def trades(self, symbol: str, since=None, limit=None) -> list[PublicTrade]:
        found = super().trades(self._other(symbol), since, limit)
        return [_relabel(t, self.market(symbol).symbol) for t in found]


class WrongSide(ExampleConnector):
    """Sends a buy as a sell (and the other way round)."""

    exchange = "broken_side"

    def place_order(self, symbol, side, type, amount, price=None, **kwargs) -> Order:
        flipped = "sell" if str(side) == "buy" else "buy"
        return super().place_order(symbol, flipped, type, amount, price, **kwargs)


class WrongPairSent(ExampleConnector):
    """Sends BTC/USD placements with ETH-BTC's market id."""

    exchange = "broken_pair_sent"

    def fetch(self, endpoint, params=None, *keys):
        if endpoint is PLACE and params and params.get("market") == "BTC-USD":
            params = {**params, "market": "ETH-BTC"}
        return super().fetch(endpoint, params, *keys)


class NoClientId(ExampleConnector):
    """Leaves the client order id out of what it sends."""

    exchange = "broken_client_id"

    def fetch(self, endpoint, params=None, *keys):
        if endpoint is PLACE and params:
            params = {k: v for k, v in params.items() if k != "clientId"}
        return super().fetch(endpoint, params, *keys)


class LaxSimulator(ExampleSimulator):
    """A simulator whose own checks accept any signature and any timestamp."""

    def _auth(self, request: Any) -> None:
        return None


class LaxAndUndeclared(LaxSimulator):
    """A lax simulator that declares no signature scheme: nothing verifies signatures."""

    signature_scheme = None


class FineOnALaxSimulator(ExampleConnector):
    """A correct connector whose simulator checks nothing: the suite must say so."""

    exchange = "broken_lax_sim"


class BadSignature(ExampleConnector):
    """Leaves the timestamp out of what it signs."""

    exchange = "broken_signature"

    def sign(self, request, credentials, context) -> None:
        super().sign(request, credentials, context)
        payload = request.query if request.method in ("GET", "DELETE") else request.body
        signed = (
            (f"?{payload}" if payload else "") if request.method in ("GET", "DELETE") else payload
        )
        message = f"{request.method}{request.path}{signed}".encode()
        request.headers["X-EX-SIGNATURE"] = hmac.new(
            credentials.secret.encode(), message, hashlib.sha256
        ).hexdigest()


class ReusedNonce(ExampleConnector):
    """Signs every request with the timestamp of its first one."""

    exchange = "broken_nonce"

    def sign(self, request, credentials, context) -> None:
        first = getattr(self, "_first_stamp", None)
        if first is None:
            first = self._first_stamp = context.timestamp_ms()
        super().sign(request, credentials, attrs.evolve(context, timestamp_ms=lambda: first))


BROKEN = [
    FloatPrices,
    NaiveDatetimes,
    RetriedOrder,
    SecretInError,
    WrongMapping,
    UnsortedBook,
    NoShapeChecks,
    MemoisedBalances,
    MicrosecondTimes,
    LockedAsFree,
    RemainingAsAmount,
    WrongPairServed,
    WrongSide,
    WrongPairSent,
    NoClientId,
    BadSignature,
    ReusedNonce,
    FineOnALaxSimulator,
]
LAX = {BadSignature, ReusedNonce}


def lazy_cases() -> list[RecordedCase]:
    """The example's recorded cases made lazy, as a hurried author writes them: one value per
    case (the first that is not an argument), or just the result's type; no request stated."""
    lazy = []
    for case in RECORDED_CASES:
        echoed = [*case.args, *case.kwargs.values()]
        values = [(k, v) for k, v in case.values.items() if v not in echoed][:1]
        check = None
        if not values:
            kind = type(case.expect).__name__

            def check(result: Any, kind: str = kind) -> None:
                assert type(result).__name__ == kind

        lazy.append(
            RecordedCase(
                name=case.name,
                operation=case.operation,
                responses=case.responses,
                args=case.args,
                kwargs=case.kwargs,
                values=dict(values),
                check=check,
            )
        )
    return lazy


@hookimpl
def xest_connectors():
    kits = []
    for cls in BROKEN:
        lazy = cls in LAX or cls in (
            MemoisedBalances,
            MicrosecondTimes,
            LockedAsFree,
            RemainingAsAmount,
            WrongPairServed,
            WrongSide,
            WrongPairSent,
            NoClientId,
        )
        kits.append(
            ConnectorKit(
                cls,
                simulator=LaxAndUndeclared
                if cls is FineOnALaxSimulator
                else LaxSimulator
                if cls in LAX
                else ExampleSimulator,
                error_cases=ERROR_CASES,
                recorded_cases=lazy_cases if lazy else RECORDED_CASES,
            )
        )
    return [*kits, EXTENDED]


# -- a connector whose author extends the suite -------------------------------------------------


class Extended(ExampleConnector):
    exchange = "extended"


def check_books_are_twenty_deep(ctx: Any) -> None:
    """An author's own check: Example always serves 20 levels a side."""
    book = ctx.call("order_book", ctx.symbol)
    assert len(book.bids) == 20, f"{len(book.bids)} bid levels, Example serves 20"


def check_an_author_mistake(ctx: Any) -> None:
    assert ctx.call("ticker", ctx.symbol).bid == 0, "the bid is not zero (on purpose)"


EXTENDED = ConnectorKit(
    Extended,
    simulator=ExampleSimulator,
    error_cases=ERROR_CASES,
    recorded_cases=RECORDED_CASES,
    checks=[check_books_are_twenty_deep, check_an_author_mistake],
    exclude={"test_quote_expires": "Example quotes live 10 s; tests/test_quotes.py covers it"},
)
