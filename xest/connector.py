"""The contract every connector fulfils.

A connector is a strategy: it turns a common request into the exchange's HTTP calls (through
the transport) and the exchange's JSON back into :mod:`xest.models`. It declares what it can do
in ``capabilities``; every operation it does not declare raises :class:`~xest.errors.NotSupported`,
even if a subclass happens to define the method. It keeps no long-lived state: the agents do.
"""

from __future__ import annotations

__all__ = ["OPERATIONS", "PRIVATE_OPERATIONS", "Capability", "Connector"]

import enum
import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from xest import errors
from xest.credentials import Credentials
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    OrderType,
    PublicTrade,
    Quote,
    ServerTime,
    Side,
    Ticker,
    TimeInForce,
    Trade,
)


class Capability(enum.StrEnum):
    """An operation a connector may declare. The value is the method's name."""

    STATUS = "status"
    SERVER_TIME = "server_time"
    MARKETS = "markets"
    TICKER = "ticker"
    TICKERS = "tickers"
    ORDER_BOOK = "order_book"
    CANDLES = "candles"
    TRADES = "trades"
    BALANCES = "balances"
    OPEN_ORDERS = "open_orders"
    CLOSED_ORDERS = "closed_orders"
    ORDER = "order"
    PLACE_ORDER = "place_order"
    CANCEL_ORDER = "cancel_order"
    MY_TRADES = "my_trades"
    QUOTE = "quote"
    ACCEPT_QUOTE = "accept_quote"


OPERATIONS: tuple[str, ...] = tuple(c.value for c in Capability)
PRIVATE_OPERATIONS = frozenset(
    {
        "balances",
        "open_orders",
        "closed_orders",
        "order",
        "place_order",
        "cancel_order",
        "my_trades",
        "quote",
        "accept_quote",
    }
)


def _guard(name: str, method: Any) -> Any:
    @functools.wraps(method)
    def undeclared(self: Connector, *args: Any, **kwargs: Any) -> Any:
        raise self.not_supported(name)

    return undeclared


class Connector:
    """Base class of every connector. Subclasses set the class attributes and override the
    operations they declare in ``capabilities``.

    ``exchange`` is the name users type; ``default_url`` the exchange's REST base URL;
    ``rate_limits`` the exchange's policies by bucket name (see :mod:`xest.http.endpoint`);
    ``time_resolution`` how coarse the exchange's clock readings are.
    """

    exchange: ClassVar[str] = ""
    default_url: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    rate_limits: ClassVar[Mapping[str, Any]] = {}
    time_resolution: ClassVar[timedelta] = timedelta(milliseconds=1)
    candle_intervals: ClassVar[tuple[str, ...]] = ()
    # Streams the connector offers (see xest.streams): ticker, book, trades, orders, balances;
    # ``stream_urls`` are the exchange's websocket endpoints by name ("public", "private").
    streams: ClassVar[frozenset[str]] = frozenset()
    stream_urls: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(Capability(c).value for c in cls.capabilities)
        for name in OPERATIONS:
            # Guard whatever is not declared, whether defined here or inherited from a parent
            # connector that did declare it; the base's own methods already raise.
            method = getattr(cls, name)
            if name not in cls.capabilities and method is not getattr(Connector, name, None):
                setattr(cls, name, _guard(name, method))

    def __init__(self, transport: Any, credentials: Credentials | None = None) -> None:
        self.transport = transport
        self.credentials = credentials
        self._markets: dict[str, Market] | None = None
        self._stream_urls: dict[str, str] | None = None  # None: the exchange's own

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.exchange} at {self.transport.base_url}>"

    # -- plumbing shared by connectors ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        url: str | None = None,
        credentials: Credentials | None = None,
        **transport_options: Any,
    ) -> Connector:
        """A connector with its own transport (the facade wires a shared clock and cache)."""
        from xest.http import Transport

        transport = Transport(
            cls.exchange, url or cls.default_url, rate_limits=cls.rate_limits, **transport_options
        )
        return cls(transport, credentials)

    def request(self, endpoint: Any, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """Call an endpoint and return its decoded JSON (errors mapped by ``check_response``)."""
        response = self.transport.request(
            endpoint,
            params,
            signer=self.sign,
            credentials=self.credentials,
            check=self.check_response,
            **kw,
        )
        return response.data

    def sign(self, request: Any, credentials: Credentials, context: Any) -> None:
        """Add the exchange's authentication to a prepared request (signed endpoints only)."""
        raise errors.NotSupported("this connector signs no request", exchange=self.exchange)

    def check_response(self, response: Any) -> None:
        """Raise the xest error that an exchange error payload in ``response`` maps to."""

    # -- streams -------------------------------------------------------------------------------

    def use_stream_urls(self, urls: Mapping[str, str]) -> None:
        """Point the streams elsewhere (a simulator's loopback server); ``{}``: no streams
        (the REST base URL is not the exchange's and no stream endpoint was given)."""
        self._stream_urls = dict(urls)

    def stream_url(self, name: str = "public") -> str:
        urls = self.stream_urls if self._stream_urls is None else self._stream_urls
        try:
            return urls[name]
        except KeyError:
            if self._stream_urls == {}:
                raise errors.ConfigError(
                    f"opened at {self.transport.base_url}, not at {self.exchange}'s own "
                    "URL, so its stream endpoints are unknown: pass "
                    "stream_urls={...} to xest.open (or use sim=True)",
                    exchange=self.exchange,
                ) from None
            raise errors.ConfigError(
                f"the {self.exchange} connector has no {name!r} stream endpoint",
                exchange=self.exchange,
            ) from None

    def stream_feed(self, kind: str, symbol: str | None = None, depth: int | None = None) -> Any:
        """The :class:`xest.streams.Feed` of a declared stream (``ticker``, ``book``,
        ``trades`` need ``symbol``; ``orders`` and ``balances`` need credentials)."""
        raise self.not_supported(f"stream_{kind}")

    def not_supported(self, operation: str) -> errors.NotSupported:
        return errors.NotSupported(
            f"the {self.exchange} connector does not support {operation}()",
            exchange=self.exchange,
        )

    def market(self, symbol: str) -> Market:
        """The market for a unified symbol (or the exchange's own id); BadSymbol if unknown."""
        if self._markets is None:
            markets = self.markets()
            self._markets = {m.symbol: m for m in markets}
            self._markets.update({m.id: m for m in markets if m.id not in self._markets})
        try:
            return self._markets[symbol]
        except KeyError:
            raise errors.BadSymbol(
                f"{symbol!r} is not a market on {self.exchange}; "
                f"see `xest markets {self.exchange}` for the symbols",
                exchange=self.exchange,
            ) from None

    # -- operations ------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        raise self.not_supported("status")

    def server_time(self) -> ServerTime:
        raise self.not_supported("server_time")

    def markets(self) -> list[Market]:
        raise self.not_supported("markets")

    def ticker(self, symbol: str) -> Ticker:
        raise self.not_supported("ticker")

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        raise self.not_supported("tickers")

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        raise self.not_supported("order_book")

    def candles(
        self,
        symbol: str,
        interval: str = "1m",
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        raise self.not_supported("candles")

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        raise self.not_supported("trades")

    def balances(self) -> dict[str, Balance]:
        raise self.not_supported("balances")

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        raise self.not_supported("open_orders")

    def closed_orders(
        self, symbol: str | None = None, since: datetime | None = None
    ) -> list[Order]:
        raise self.not_supported("closed_orders")

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        raise self.not_supported("order")

    def place_order(
        self,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> Order:
        raise self.not_supported("place_order")

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        raise self.not_supported("cancel_order")

    def my_trades(
        self, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Trade]:
        raise self.not_supported("my_trades")

    def quote(
        self,
        symbol: str,
        side: Side | str,
        amount: Decimal,
        *,
        valid_for: timedelta | None = None,
    ) -> Quote:
        raise self.not_supported("quote")

    def accept_quote(self, quote: Quote) -> Order:
        """Execute ``quote``; the order it produced.

        A connector may also define ``quote_order(quote) -> Order`` (no capability needed): the
        order an acceptance of ``quote`` produced, or OrderNotFound when there is none. The
        account agent uses it to reconcile an acceptance whose answer was lost, and to follow a
        quote's order that is not final yet; without it, it tries
        ``order(client_id=quote.id, symbol=quote.symbol)``.
        """
        raise self.not_supported("accept_quote")
