"""Deliberately broken variants of the example connector, one defect each, for the core's tests
of the conformance suite. Installed by the tests as a throwaway distribution (entry point group
``xest``), so the suite finds them exactly as it finds a real plugin."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from xest_example.cases import ERROR_CASES, RECORDED_CASES
from xest_example.connector import ExampleConnector
from xest_example.errors import ERRORS
from xest_example.simulator import ExampleSimulator

from xest import errors, hookimpl
from xest.models import OrderBook


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


BROKEN = [
    FloatPrices,
    NaiveDatetimes,
    RetriedOrder,
    SecretInError,
    WrongMapping,
    UnsortedBook,
    NoShapeChecks,
]


@hookimpl
def xest_register_connectors(register):
    for cls in BROKEN:
        register(cls)


@hookimpl
def xest_simulators(register):
    for cls in BROKEN:
        register(cls.exchange, ExampleSimulator)


@hookimpl
def xest_error_payloads(register):
    for cls in BROKEN:
        for case in ERROR_CASES:
            register(cls.exchange, case)


@hookimpl
def xest_recorded_payloads(register):
    for cls in BROKEN:
        for case in RECORDED_CASES:
            register(cls.exchange, case)
