"""The contract every connector fulfils.

A connector is a strategy: it turns a common request into the exchange's HTTP calls (through
the transport) and the exchange's JSON back into :mod:`xest.models`. It declares what it can do
in ``capabilities``; every operation it does not declare raises :class:`~xest.errors.NotSupported`,
even if a subclass happens to define the method. It keeps no long-lived state: the agents do.
"""

from __future__ import annotations

__all__ = [
    "OPERATIONS",
    "PRIVATE_OPERATIONS",
    "Capability",
    "Connector",
    "OrderRequest",
    "sane_number",
]

import enum
import functools
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from xest import errors
from xest.credentials import Credentials
from xest.http.endpoint import Endpoint, PreparedRequest, RateLimitPolicy, Response, SigningContext
from xest.markets import MarketIndex
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
    to_decimal,
)
from xest.trading import OrderRequest, prepare_order, sane_number

if TYPE_CHECKING:
    from xest.http.transport import Transport

_F = TypeVar("_F", bound=Callable[..., Any])

# Operations whose public method lives in the base (checks once), and the hook it calls.
HOOKS: Mapping[str, str] = {
    "server_time": "fetch_server_time",
    "place_order": "create_order",
    "candles": "fetch_candles",
    "quote": "create_quote",
}


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


def _guard(name: str, method: _F) -> _F:
    @functools.wraps(method)
    def undeclared(self: Connector, *args: Any, **kwargs: Any) -> Any:
        raise self.not_supported(name)

    return undeclared  # type: ignore[return-value]


_CONTAINERS = (dict, list)  # what request_parsed copies for each caller

# What reading an answer of an unexpected shape raises: turned into BadResponse at the
# connector's boundary, so only XestError leaves the public API.
_SHAPE_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def _contained(name: str, method: Any) -> Any:
    @functools.wraps(method)
    def operation(self: Connector, *args: Any, **kwargs: Any) -> Any:
        try:
            if kwargs:
                return method(self, *args, **kwargs)
            return method(self, *args)  # without **{}: half the wrapper's cost (a cached ticker)
        except errors.XestError:
            raise
        except _SHAPE_ERRORS as exc:
            tb = exc.__traceback__
            if isinstance(exc, TypeError) and tb is not None and tb.tb_next is None:
                raise  # the call itself was wrong (arguments): the caller's bug, not an answer
            raise errors.BadResponse(
                f"{self.exchange} answered {name}() with something xest cannot read: "
                f"{_what(exc)}; if this persists, the exchange changed its API: report it",
                exchange=self.exchange,
            ) from exc

    operation.__xest_contained__ = True  # type: ignore[attr-defined]
    return operation


def _what(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"the field {exc.args[0]!r} is missing"
    if isinstance(exc, RecursionError):
        return "data nested too deeply"
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Connector:
    """Base class of every connector. Subclasses set the class attributes and implement the
    operations they declare in ``capabilities``.

    ``exchange`` is the name users type; ``default_url`` the exchange's REST base URL;
    ``rate_limits`` the exchange's policies by bucket name (see :mod:`xest.http.endpoint`);
    ``time_resolution`` how coarse the exchange's clock readings are.

    Where every exchange needs the same checks, the public method lives here once and calls a
    small hook that gets checked, typed values (template methods):

    ========================  ==============================================================
    public method (here)      hook the connector implements
    ========================  ==============================================================
    ``server_time()``         ``fetch_server_time() -> ServerTime`` (or ``date_endpoint``)
    ``place_order(...)``      ``create_order(request: OrderRequest, market: Market) -> Order``
    ``candles(...)``          ``fetch_candles(market, interval, since, limit) -> list[Candle]``
    ``quote(...)``            ``create_quote(market, side, amount, valid_for) -> Quote``
    ========================  ==============================================================

    A connector may still override a public method instead (the old way); it then does every
    check itself.
    """

    exchange: ClassVar[str] = ""
    default_url: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    rate_limits: ClassVar[Mapping[str, RateLimitPolicy]] = {}
    time_resolution: ClassVar[timedelta] = timedelta(milliseconds=1)
    #: Unified interval name → the exchange's own code for it (``{"1m": 1, "1h": 60}``); a
    #: tuple of names means the exchange uses the unified names. ``candles()`` refuses others.
    candle_intervals: ClassVar[Mapping[str, str | int]] = {}
    #: The times in force the exchange accepts on limit orders; ``place_order`` refuses others.
    order_time_in_force: ClassVar[frozenset[TimeInForce]] = frozenset(
        {TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}
    )
    #: For an exchange with no time endpoint: a cheap public GET whose answer's HTTP ``Date``
    #: header is the exchange's clock (1 s resolution). The base ``fetch_server_time`` reads it.
    date_endpoint: ClassVar[Endpoint | None] = None
    # Streams the connector offers (see xest.streams): ticker, book, trades, orders, balances;
    # ``stream_urls`` are the exchange's websocket endpoints by name ("public", "private").
    streams: ClassVar[frozenset[str]] = frozenset()
    stream_urls: ClassVar[Mapping[str, str]] = {}
    # request_parsed's memo, per connector: name -> (the answer's text, what was parsed, and
    # whether each caller gets a copy of it)
    _parsed: dict[str, tuple[str, Any, bool]] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(Capability(c).value for c in cls.capabilities)
        own = vars(cls).get("server_time")
        if own is not None and own is not Connector.server_time:
            # A first-edition connector overrides server_time() itself: read it as the hook,
            # so that its readings feed the remote clock all the same.
            cls.fetch_server_time = own  # type: ignore[method-assign]
            cls.server_time = Connector.server_time  # type: ignore[method-assign]
        if not isinstance(cls.candle_intervals, Mapping):
            cls.candle_intervals = {name: name for name in cls.candle_intervals}
        for name in OPERATIONS:
            # Guard whatever is not declared, whether defined here or inherited from a parent
            # connector that did declare it; the base's own methods check for themselves.
            method = getattr(cls, name)
            if name not in cls.capabilities and method is not getattr(Connector, name, None):
                setattr(cls, name, _guard(name, method))
            elif method is not getattr(Connector, name, None) and not getattr(
                method, "__xest_contained__", False
            ):
                setattr(cls, name, _contained(name, method))

    @classmethod
    def unimplemented(cls) -> list[str]:
        """The declared operations with neither their method nor their hook implemented."""
        missing = []
        for name in sorted(cls.capabilities):
            hook = HOOKS.get(name)
            if getattr(cls, name) is not getattr(Connector, name) or (
                hook and getattr(cls, hook) is not getattr(Connector, hook)
            ):
                continue
            if name == "server_time" and cls.date_endpoint is not None:
                continue
            missing.append(name)
        return missing

    def __init__(self, transport: Transport, credentials: Credentials | None = None) -> None:
        self.transport = transport
        self.credentials = credentials
        self._stream_urls: dict[str, str] | None = None  # None: the exchange's own
        self._index: MarketIndex | None = None
        if transport is not None and getattr(transport, "clock", None) is None:
            # A transport made by hand: give it the remote clock signers and agents read.
            from xest.clock import RemoteClock

            transport.clock = RemoteClock(resolution=self.time_resolution.total_seconds())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.exchange} at {self.transport.base_url}>"

    # -- plumbing shared by connectors ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        url: str | None = None,
        credentials: Credentials | None = None,
        **options: Any,
    ) -> Connector:
        """A connector with its own transport. ``options`` naming a keyword-only parameter of
        the connector's ``__init__`` go to the connector (Binance ``recv_window=``); the others
        to its transport (``cache=``, ``read_timeout=``...)."""
        accepted = inspect.signature(cls.__init__).parameters.values()
        own = {p.name for p in accepted if p.kind is inspect.Parameter.KEYWORD_ONLY}
        mine = {k: options.pop(k) for k in list(options) if k in own}
        return cls(cls.make_transport(url, **options), credentials, **mine)

    @classmethod
    def make_transport(cls, url: str | None = None, **transport_options: Any) -> Transport:
        """A transport for this exchange: its rate limits, and a remote clock of its
        resolution."""
        from xest.clock import RemoteClock
        from xest.http import Transport

        transport_options.setdefault(
            "clock", RemoteClock(resolution=cls.time_resolution.total_seconds())
        )
        return Transport(
            cls.exchange, url or cls.default_url, rate_limits=cls.rate_limits, **transport_options
        )

    def request(
        self, endpoint: Endpoint, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> Any:
        """Call an endpoint and return its decoded JSON (errors mapped by ``check_response``).

        A signed call refused for its timestamp (``InvalidNonce``) re-reads the server clock,
        forgetting the older readings, and is sent once more if the endpoint is safe to retry.
        """
        try:
            return self._send(endpoint, params, **kw).data
        except errors.InvalidNonce:
            if not endpoint.signed or "server_time" not in self.capabilities:
                raise
            self.resync_clock(forget=True)
            if not endpoint.retry:
                raise
            return self._send(endpoint, params, **kw).data

    def _send(self, endpoint: Endpoint, params: Mapping[str, Any] | None, **kw: Any) -> Response:
        if (
            endpoint.signed
            and self.date_endpoint is not None
            and self.transport.clock is not None
            and self.transport.clock.now().error == float("inf")
        ):
            self.server_time()  # sign with the exchange's time from the first call on
        return self.transport.request(
            endpoint,
            params,
            signer=self.sign,
            credentials=self.credentials,
            check=self.check_response,
            **kw,
        )

    def request_parsed(
        self,
        endpoint: Endpoint,
        params: Mapping[str, Any] | None,
        name: str,
        parse: Callable[[Any], Any],
        *,
        cache: bool | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """``parse(request(endpoint, params))``, parsing an answer only once per body.

        Keeps, per ``name`` (which tells apart the parsers and the requests they parse), the
        last body and what ``parse`` made of it: a cached answer that has not changed (the same
        text) costs no parsing. Safe because models are frozen; a dict or list result is
        copied for each caller. Errors are checked by ``check_response`` before, as always.
        Meant for public reads: unlike :meth:`request`, a refused timestamp is not retried.
        ``cache`` and ``timeout`` are :meth:`Transport.request`'s.
        """
        if endpoint.signed or cache is not None or timeout is not None:
            response = self._send(endpoint, params, cache=cache, timeout=timeout)
        else:  # a public read (the usual caller, a cached ticker): what _send does, directly
            response = self.transport.request(endpoint, params, check=self.check_response)
        memo = self._parsed
        if memo is None:
            memo = self._parsed = {}
        entry = memo.get(name)
        text = response.text
        # Stored only for a non-empty text: a match means the same answer (often the same str).
        if entry is not None and (entry[0] is text or entry[0] == text):
            value, copied = entry[1], entry[2]
        else:
            value = parse(response.data)
            copied = isinstance(value, _CONTAINERS)
            if text:
                if len(memo) >= 64:
                    memo.clear()
                memo[name] = (text, value, copied)
        return type(value)(value) if copied else value

    def sign(
        self, request: PreparedRequest, credentials: Credentials, context: SigningContext
    ) -> None:
        """Add the exchange's authentication to a prepared request (signed endpoints only)."""
        raise errors.NotSupported("this connector signs no request", exchange=self.exchange)

    def check_response(self, response: Response) -> None:
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

    def _require(self, operation: str) -> None:
        if operation not in self.capabilities:
            raise self.not_supported(operation)

    def market_index(self, *, refresh: bool = False) -> MarketIndex:
        """Every market, found by symbol or by any exchange name (loaded once, then kept)."""
        if self._index is None or refresh:
            self._index = MarketIndex(self.markets())
        return self._index

    def market(self, symbol: str) -> Market:
        """The market for a unified symbol or any exchange name for it (``Market.id`` or a
        value of ``Market.ids``); BadSymbol if unknown."""
        index = self._index  # loaded: looked up without a call (every cached ticker does this)
        found = (self.market_index() if index is None else index).get(symbol)
        if found is None:
            raise errors.BadSymbol(
                f"{symbol!r} is not a market on {self.exchange}; "
                f"see `xest markets {self.exchange}` for the symbols",
                exchange=self.exchange,
            )
        return found

    # -- the remote clock ------------------------------------------------------------------------

    def resync_clock(self, *, forget: bool = False) -> ServerTime:
        """Take a clock reading now; ``forget`` drops the earlier ones first (after the exchange
        refused a timestamp, they describe a clock it no longer has)."""
        if forget and self.transport.clock is not None:
            self.transport.clock.forget_before(time.monotonic())
        return self.server_time()

    def server_now(self, *, read: bool = True) -> datetime:
        """The exchange's time now: the remote clock's estimate, after a first reading if there
        was none (and the exchange tells its time, and ``read``); else this machine's clock."""
        clock = self.transport.clock
        if clock is None:
            return datetime.now(UTC)
        if read and clock.now().error == float("inf") and "server_time" in self.capabilities:
            self.server_time()
        return clock.now().time

    # -- operations ------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        raise self.not_supported("status")

    def server_time(self) -> ServerTime:
        """The exchange's clock reading (from ``fetch_server_time``); every reading also feeds
        the transport's remote clock, with the round trip as its error bound."""
        self._require("server_time")
        sent = time.monotonic()
        reading = self.fetch_server_time()
        received = time.monotonic()
        if self.transport.clock is not None:
            self.transport.clock.observe(
                reading.time, sent, received, resolution=reading.resolution
            )
        return reading

    def fetch_server_time(self) -> ServerTime:
        """Hook: one reading of the exchange's clock. By default the HTTP ``Date`` header of
        ``date_endpoint``'s answer (whole seconds, so a 1 s resolution)."""
        if self.date_endpoint is None:
            raise self.not_supported("server_time")
        response = self.transport.request(
            self.date_endpoint, signer=self.sign, check=self.check_response, cache=False
        )
        self.check_date_answer(response.data)
        header = response.headers.get("Date")
        import email.utils  # ~6 ms with socket and calendar: only to read this header

        try:
            when = email.utils.parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError):
            when = None
        if when is None:
            raise errors.BadResponse(
                f"{self.exchange} answered {self.date_endpoint.path} without a usable Date "
                f"header ({header!r}); its clock cannot be read",
                exchange=self.exchange,
            )
        return ServerTime(
            time=when if when.tzinfo else when.replace(tzinfo=UTC),
            resolution=timedelta(seconds=1),
            raw={"date": header},
        )

    def check_date_answer(self, data: Any) -> None:
        """Hook: raise BadResponse unless ``data`` is ``date_endpoint``'s usual answer. A page
        from a proxy in front of the exchange has a Date header too, but not the exchange's
        clock; parsing the body (``parse.status(data)``) is usually enough."""

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
        """Candles of ``interval`` (one of ``candle_intervals``), oldest first; ``since`` the
        first candle's earliest start, ``limit`` how many at most (the latest without
        ``since``)."""
        self._require("candles")
        if interval not in self.candle_intervals:
            raise errors.BadRequest(
                f"{self.exchange} has no {interval!r} candles; use one of "
                f"{', '.join(self.candle_intervals)}",
                exchange=self.exchange,
            )
        if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
            raise errors.BadRequest(
                f"limit must be a positive number of candles, got {limit!r}",
                exchange=self.exchange,
            )
        market = self.market(symbol)
        return self.fetch_candles(market, interval, since, None if limit is None else int(limit))

    def fetch_candles(
        self, market: Market, interval: str, since: datetime | None, limit: int | None
    ) -> list[Candle]:
        """Hook for ``candles``: ``interval`` is checked (its exchange code is
        ``self.candle_intervals[interval]``), ``limit`` positive or None."""
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
        amount: Decimal | str,
        price: Decimal | str | None = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> Order:
        """Place a market or limit order (``validate=True``: the exchange checks it, nothing is
        placed; the answer is an Order with ``id == ""``).

        Checked here before anything is sent: the market exists and trades; side, type and time
        in force are known values (a market order takes no price and no time in force, a limit
        order needs a price); amount and price are exact numbers (strings or Decimals, never
        floats), positive, and within the market's limits. The amount is cut down to the
        market's step, the price rounded to its tick. Every placement carries a client order
        id (a new one unless given), so a lost answer can be looked up. Then the connector's
        ``create_order`` hook sends the checked :class:`~xest.trading.OrderRequest`.
        """
        self._require("place_order")
        market = self.market(symbol)
        request = prepare_order(
            market,
            side,
            type,
            amount,
            price,
            time_in_force=time_in_force,
            client_id=client_id,
            validate=validate,
        )
        tif = request.time_in_force
        if tif is not None and request.type is OrderType.MARKET:
            raise errors.InvalidOrder(
                "a market order takes no time in force; drop it, or place a limit order",
                exchange=self.exchange,
            )
        if tif is not None and tif not in self.order_time_in_force:
            accepted = ", ".join(sorted(t.value for t in self.order_time_in_force))
            raise errors.InvalidOrder(
                f"{self.exchange} limit orders take time in force {accepted}, not {tif.value}",
                exchange=self.exchange,
            )
        return self.create_order(request, market)

    def create_order(self, request: OrderRequest, market: Market) -> Order:
        """Hook for ``place_order``: send ``request`` (checked, on the market's grid, with a
        client id) and return the order as the exchange answered it."""
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
        amount: Decimal | str,
        *,
        valid_for: timedelta | None = None,
    ) -> Quote:
        """A firm quote to buy or sell ``amount`` of ``symbol``'s base asset. Side and amount
        are checked here (InvalidQuote), then the ``create_quote`` hook asks the exchange."""
        self._require("quote")
        try:
            side = Side(side.lower() if isinstance(side, str) else side)
        except ValueError:
            raise errors.InvalidQuote(
                f"side must be buy or sell, got {side!r}", exchange=self.exchange
            ) from None
        try:
            qty = to_decimal(amount)
        except (TypeError, ValueError) as exc:
            raise errors.InvalidQuote(f"amount: {exc}", exchange=self.exchange) from None
        if qty <= 0:
            raise errors.InvalidQuote(
                f"the amount must be positive, got {qty}", exchange=self.exchange
            )
        if valid_for is not None and valid_for < timedelta(0):
            raise errors.InvalidQuote(
                f"valid_for cannot be negative, got {valid_for}", exchange=self.exchange
            )
        return self.create_quote(self.market(symbol), side, qty, valid_for)

    def create_quote(
        self, market: Market, side: Side, amount: Decimal, valid_for: timedelta | None
    ) -> Quote:
        """Hook for ``quote``: side and amount are checked, ``amount`` positive."""
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


# The base's own operations are templates that call the connectors' hooks (parsing happens
# there): contain them too.
for _name in OPERATIONS:
    setattr(Connector, _name, _contained(_name, getattr(Connector, _name)))
del _name
