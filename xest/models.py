"""The common models every connector returns.

All models are frozen attrs classes. Money and amounts are :class:`decimal.Decimal`, converted
from strings or integers and never through ``float``; times are timezone-aware UTC
:class:`datetime.datetime`; symbols are unified (``BTC/USD``) with the exchange's own id kept
beside them. Each model keeps the ``raw`` payload it was parsed from, excluded from ``repr`` and
equality so two readings of the same state compare equal.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

import attrs

__all__ = [
    "Balance",
    "Candle",
    "ExchangeStatus",
    "Market",
    "Order",
    "OrderBook",
    "OrderStatus",
    "OrderType",
    "PriceLevel",
    "PriceLevels",
    "PublicTrade",
    "Quote",
    "QuoteState",
    "ServerTime",
    "Side",
    "Status",
    "Ticker",
    "TimeInForce",
    "Trade",
    "candles",
    "price_levels",
    "public_trades",
    "steady_times",
    "to_decimal",
    "to_decimals",
    "to_utc",
    "unify_symbol",
]


# -- converters, next to nothing else so every model uses the same rules ----------------------


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert an exchange number (string, int or Decimal) to Decimal; floats are refused.

    Floats are refused because ``Decimal(0.1)`` is not 0.1: a connector must hand over the
    exchange's own digits (JSON is decoded with ``parse_float=Decimal``).
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"expected a number, got a bool ({value!r})")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    elif isinstance(value, float):
        raise TypeError(
            f"float {value!r} given where a Decimal is required: pass the exchange's string "
            "or a Decimal, never a float"
        )
    else:
        raise TypeError(f"expected a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _optional_decimal(value: Decimal | int | str | None) -> Decimal | None:
    return None if value is None or value == "" else to_decimal(value)


def to_utc(value: datetime | int | Decimal) -> datetime:
    """Accept an aware datetime (converted to UTC) or UNIX seconds; naive datetimes are refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"naive datetime {value!r}: give a timezone-aware datetime (xest works in UTC)"
            )
        return value.astimezone(UTC)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    raise TypeError(f"expected an aware datetime or UNIX seconds, got {type(value).__name__}")


def _optional_utc(value: datetime | int | Decimal | None) -> datetime | None:
    return None if value is None else to_utc(value)


def unify_symbol(base: str, quote: str) -> str:
    """The unified symbol of a market: ``BTC/USD``."""
    return f"{base.upper()}/{quote.upper()}"


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must be >= 0, got {value}")


def _symbol(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if getattr(instance, "listed", True) is False:  # a delisted market: the exchange's own id
        if not value or not isinstance(value, str):
            raise ValueError(f"{attribute.name} must name the exchange's market, got {value!r}")
        return
    base, sep, quote = value.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ValueError(f"{attribute.name} must be a unified symbol like 'BTC/USD', got {value!r}")


def _names(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """``Market.ids``: a mapping of name kinds to names, e.g. ``{"altname": "XBTUSD"}``."""
    if isinstance(value, Mapping):
        found = dict(value)
    elif isinstance(value, set | frozenset | str):
        raise TypeError(
            f"Market.ids must map the kind of each name to the name, e.g. "
            f"{{'altname': 'XBTUSD'}}; got a {type(value).__name__}"
        )
    else:
        found = dict(value)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        raise TypeError(f"Market.ids keys and values must be strings, got {found!r}")
    return found


# -- enums -------------------------------------------------------------------------------------


class Status(enum.StrEnum):
    """What an exchange says about itself. ``UNKNOWN`` is xest's: it could not tell lately."""

    ONLINE = "online"
    MAINTENANCE = "maintenance"
    CANCEL_ONLY = "cancel_only"
    POST_ONLY = "post_only"
    UNKNOWN = "unknown"


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(enum.StrEnum):
    GTC = "GTC"  # good till cancelled
    IOC = "IOC"  # immediate or cancel
    FOK = "FOK"  # fill or kill
    GTD = "GTD"  # good till date


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # accepted by the exchange, not yet in the book
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_ORDER_STATUSES


_FINAL_ORDER_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class QuoteState(enum.StrEnum):
    OPEN = "open"
    EXECUTED = "executed"
    EXPIRED = "expired"
    FAILED = "failed"


# -- exchange state ----------------------------------------------------------------------------


@attrs.frozen
class ExchangeStatus:
    status: Status = attrs.field(converter=Status)
    message: str = ""
    updated: datetime | None = attrs.field(default=None, converter=_optional_utc)
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)

    @property
    def is_online(self) -> bool:
        return self.status is Status.ONLINE


@attrs.frozen
class ServerTime:
    """The exchange's clock reading; ``resolution`` is how coarse it is (Kraken 1 s)."""

    time: datetime = attrs.field(converter=to_utc)
    resolution: timedelta = timedelta(milliseconds=1)
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)


# -- markets -----------------------------------------------------------------------------------


def _quantize(value: Decimal, step: Decimal | None, rounding: str) -> Decimal:
    if step is None or step == 0:
        return value
    # Enough precision for every integral digit of the quotient and 30 more: the default 28
    # digits would round a 29-digit amount *up* before it is cut down to the step.
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() - step.adjusted() + 30)
        if rounding == ROUND_DOWN:
            ctx.rounding = ROUND_DOWN  # the division itself must not round up either
        return (value / step).to_integral_value(rounding=rounding) * step


@attrs.frozen
class Market:
    """A tradable pair, with what the exchange accepts for prices and amounts.

    ``id`` is the exchange's own name (Kraken ``XXBTZUSD``, Binance ``BTCUSDT``); ``ids`` keeps
    the other names the exchange uses for it, as a mapping from what the name is to the name:
    ``{"altname": "XBTUSD", "wsname": "XBT/USD"}`` (any mapping, or pairs, of strings; a set is
    refused: the kind of each name is part of the data). ``Connector.market()`` finds a market
    by its symbol, its id or any of these names.
    """

    symbol: str = attrs.field(validator=_symbol)
    id: str
    base: str
    quote: str
    base_id: str = ""
    quote_id: str = ""
    active: bool = True
    status: str = ""
    price_step: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    amount_step: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    cost_step: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    min_amount: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    max_amount: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    min_price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    max_price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    min_cost: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    market_min_amount: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    market_max_amount: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    ids: Mapping[str, str] = attrs.field(factory=dict, converter=_names, eq=False, hash=False)
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)

    def round_price(self, price: Any, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        """The nearest price on the exchange's tick grid."""
        return _quantize(to_decimal(price), self.price_step, rounding)

    def round_amount(self, amount: Any) -> Decimal:
        """The amount cut down to the exchange's step (never rounded up: that could overspend)."""
        return _quantize(to_decimal(amount), self.amount_step, ROUND_DOWN)


# -- market data -------------------------------------------------------------------------------


@attrs.frozen
class Ticker:
    symbol: str = attrs.field(validator=_symbol)
    id: str = ""
    bid: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    ask: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    last: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    open: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    high: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    low: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    volume: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    quote_volume: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    vwap: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    timestamp: datetime | None = attrs.field(default=None, converter=_optional_utc)
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)


@attrs.frozen
class PriceLevel:
    price: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    amount: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)


class PriceLevels(tuple):  # type: ignore[type-arg]
    """A tuple of :class:`PriceLevel` already checked as a whole (made by
    :func:`price_levels`): ``OrderBook`` takes it as it is."""

    __slots__ = ()


def _levels(value: Any) -> tuple[PriceLevel, ...]:
    if type(value) is PriceLevels:
        return value
    return tuple(
        level if isinstance(level, PriceLevel) else PriceLevel(level[0], level[1])
        for level in value
    )


@attrs.frozen
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first."""

    symbol: str = attrs.field(validator=_symbol)
    bids: tuple[PriceLevel, ...] = attrs.field(converter=_levels)
    asks: tuple[PriceLevel, ...] = attrs.field(converter=_levels)
    timestamp: datetime | None = attrs.field(default=None, converter=_optional_utc)
    id: str = ""
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)

    @property
    def best_bid(self) -> PriceLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> PriceLevel | None:
        return self.asks[0] if self.asks else None


@attrs.frozen
class Candle:
    symbol: str = attrs.field(validator=_symbol)
    interval: str
    open_time: datetime = attrs.field(converter=to_utc)
    open: Decimal = attrs.field(converter=to_decimal)
    high: Decimal = attrs.field(converter=to_decimal)
    low: Decimal = attrs.field(converter=to_decimal)
    close: Decimal = attrs.field(converter=to_decimal)
    volume: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    vwap: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    count: int | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)


@attrs.frozen
class PublicTrade:
    symbol: str = attrs.field(validator=_symbol)
    price: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    amount: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    side: Side | None = attrs.field(default=None, converter=attrs.converters.optional(Side))
    timestamp: datetime | None = attrs.field(default=None, converter=_optional_utc)
    id: str = ""
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)


# -- account -----------------------------------------------------------------------------------


@attrs.frozen
class Balance:
    """What the account holds of one asset: ``free`` to use, ``locked`` in orders."""

    asset: str
    free: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    locked: Decimal = attrs.field(default=Decimal(0), converter=to_decimal, validator=_non_negative)
    id: str = ""  # the exchange's asset code (Kraken XXBT)
    note: str = ""  # e.g. why a suffixed Kraken sub-balance (ETH2.S, USD.M) is kept apart
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@attrs.frozen
class Order:
    """A snapshot of one order as the exchange reported it."""

    id: str
    symbol: str = attrs.field(validator=_symbol)
    side: Side = attrs.field(converter=Side)
    type: OrderType = attrs.field(converter=OrderType)
    status: OrderStatus = attrs.field(converter=OrderStatus)
    amount: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    filled: Decimal = attrs.field(default=Decimal(0), converter=to_decimal, validator=_non_negative)
    price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    average_price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_non_negative
    )
    client_id: str | None = None
    time_in_force: TimeInForce | None = attrs.field(
        default=None, converter=attrs.converters.optional(TimeInForce)
    )
    created: datetime | None = attrs.field(default=None, converter=_optional_utc)
    updated: datetime | None = attrs.field(default=None, converter=_optional_utc)
    fee: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    fee_asset: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)
    # False when the order's market is no longer listed (a delisted pair keeps its history):
    # ``symbol`` is then the exchange's own market id, as there is no unified symbol for it.
    listed: bool = True

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.filled, Decimal(0))

    @property
    def is_final(self) -> bool:
        return self.status.is_final


@attrs.frozen
class Trade:
    """One fill of one of the account's orders."""

    id: str
    order_id: str
    symbol: str = attrs.field(validator=_symbol)
    side: Side = attrs.field(converter=Side)
    price: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    amount: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    timestamp: datetime = attrs.field(converter=to_utc)
    fee: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    fee_asset: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)
    listed: bool = True  # as Order.listed: False for a delisted market (symbol = exchange id)

    @property
    def cost(self) -> Decimal:
        return self.price * self.amount


@attrs.frozen
class Quote:
    """A firm price for a short time: buy or sell ``amount`` of the base at ``price``.

    ``cost`` is the quote-asset amount. The quote is only good until ``expires_at`` (server
    time); the account agent holds the live state (open, executed, expired) around this snapshot.
    """

    id: str
    symbol: str = attrs.field(validator=_symbol)
    side: Side = attrs.field(converter=Side)
    amount: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    price: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    cost: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    expires_at: datetime = attrs.field(converter=to_utc)
    created_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    raw: Any = attrs.field(default=None, repr=False, eq=False, hash=False)

    def seconds_left(self, now: datetime) -> float:
        return (self.expires_at - now).total_seconds()


# Validated bulk constructors (books, trades, candles by the thousand), built on the classes above.
from xest.bulk import (  # noqa: E402
    candles,
    price_levels,
    public_trades,
    steady_times,
    to_decimals,
)
