"""Placing orders safely: checked against the market before sending, always with a client order
id, and never duplicated when an answer is lost.

The transport never retries a POST. A placement is sent once. When its answer is lost or
unusable (a timeout, a dropped connection, a garbled or truncated body), the exchange may or
may not have the order, and a request held up on the way may still arrive: so
:func:`place_once` only looks the order up by client order id, until it is found or until the
exchange's own validity window for that request has provably closed (by the exchange's clock)
and a look-up after that finds nothing. Only then may it be sent again. When that cannot be
established, nothing is sent and :class:`~xest.errors.OrderStateUnknown` names the command to
look the order up; the placement journal keeps the intent, and the account agent reconciles it
when it next starts.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from xest import errors
from xest.http.validity import Placement, placing
from xest.models import Market, Order, OrderType, Side, TimeInForce, to_decimal

__all__ = [
    "OrderRequest",
    "answer_may_be_lost",
    "new_client_id",
    "place_once",
    "prepare_order",
]

log = logging.getLogger("xest.trading")
_E = TypeVar("_E", Side, OrderType, TimeInForce)

# Binance allows up to 36 characters of [.A-Z:/a-z0-9_-]; Kraken a UUID or 18 characters of
# free text. A 32-hex-digit UUID suits both.
_CLIENT_ID_MAX = 36


def new_client_id() -> str:
    """A fresh client order id: 32 hex digits (a UUID4 without dashes)."""
    return uuid.uuid4().hex


@attrs.frozen
class OrderRequest:
    """An order ready to send: amounts and prices on the market's grid, a client id set.

    ``requested_amount``/``requested_price`` keep what the caller asked for, so a front end
    can say what rounding changed.
    """

    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None
    client_id: str
    time_in_force: TimeInForce | None = None
    validate: bool = False
    requested_amount: Decimal | None = None
    requested_price: Decimal | None = None

    @property
    def adjusted(self) -> bool:
        return self.amount != self.requested_amount or self.price != self.requested_price

    @property
    def cost(self) -> Decimal | None:
        return None if self.price is None else self.amount * self.price

    def matches(self, order: Order) -> bool:
        """Whether ``order`` (found by our client id) is this request, not an older namesake."""
        if order.symbol != self.symbol or order.side is not self.side:
            return False
        if order.amount != self.amount:
            return False
        return self.price is None or order.price is None or order.price == self.price


def _enum(cls: type[_E], value: Any, what: str) -> _E:
    if isinstance(value, str) and not isinstance(value, cls):
        value = value.upper() if cls is TimeInForce else value.lower()
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(v.value for v in cls)
        raise errors.InvalidOrder(f"{what} must be one of {choices}, got {value!r}") from None


# No exchange trades amounts or prices past these: larger inputs are typing accidents (or
# attacks on the encoder: a 5000-digit volume must not go on the wire).
MAX_DIGITS = 40
MAX_MAGNITUDE = 10**18


def sane_number(value: Any, what: str, exchange: str | None = None) -> Decimal:
    """``value`` as a finite Decimal of sane size, or InvalidOrder saying what is wrong."""
    try:
        number = to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidOrder(f"{what}: {exc}", exchange=exchange) from None
    if not number.is_finite():
        raise errors.InvalidOrder(
            f"{what} must be a finite number, got {value!r}", exchange=exchange
        )
    if abs(number) >= MAX_MAGNITUDE:
        raise errors.InvalidOrder(
            f"{what} {number:.6g} is out of range (at most {MAX_MAGNITUDE:.0e})", exchange=exchange
        )
    digits = len(number.as_tuple().digits)
    if digits > MAX_DIGITS:
        raise errors.InvalidOrder(
            f"{what} has {digits} significant digits; give at most {MAX_DIGITS}",
            exchange=exchange,
        )
    return number


def _number(value: Any, what: str) -> Decimal:
    return sane_number(value, what)


def prepare_order(
    market: Market | None,
    side: Side | str,
    type: OrderType | str,
    amount: Any,
    price: Any = None,
    *,
    symbol: str | None = None,
    time_in_force: TimeInForce | str | None = None,
    client_id: str | None = None,
    validate: bool = False,
) -> OrderRequest:
    """Check an order against ``market`` and put it on the market's grid, or refuse it with
    :class:`~xest.errors.InvalidOrder` saying what would be accepted.

    The amount is cut down to the amount step (never up: that could overspend); the price is
    rounded to the nearest tick. Without a market (connector without ``markets``) only the
    basic checks apply.
    """
    symbol = market.symbol if market is not None else symbol
    if not symbol:
        raise errors.InvalidOrder("an order needs a symbol, e.g. 'BTC/USD'")
    side = _enum(Side, side, "side")
    type = _enum(OrderType, type, "type")
    tif = None if time_in_force is None else _enum(TimeInForce, time_in_force, "time in force")
    asked_amount = _number(amount, "amount")
    asked_price = None if price is None else _number(price, "price")
    if asked_amount <= 0:
        raise errors.InvalidOrder(f"the amount must be positive, got {asked_amount}")
    if type is OrderType.LIMIT and asked_price is None:
        raise errors.InvalidOrder("a limit order needs a price (--limit PRICE)")
    if type is OrderType.MARKET and asked_price is not None:
        raise errors.InvalidOrder("a market order takes no price: drop it, or place a limit order")
    if asked_price is not None and asked_price <= 0:
        raise errors.InvalidOrder(f"the price must be positive, got {asked_price}")
    client_id = _client_id(client_id)
    amount_ok, price_ok = asked_amount, asked_price
    if market is not None:
        amount_ok, price_ok = _fit(market, type, asked_amount, asked_price)
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=type,
        amount=amount_ok,
        price=price_ok,
        client_id=client_id,
        time_in_force=tif,
        validate=validate,
        requested_amount=asked_amount,
        requested_price=asked_price,
    )


def _client_id(client_id: str | None) -> str:
    if client_id is None:
        return new_client_id()
    if not isinstance(client_id, str) or not client_id or len(client_id) > _CLIENT_ID_MAX:
        raise errors.InvalidOrder(
            f"a client order id is 1 to {_CLIENT_ID_MAX} characters, got {client_id!r}"
        )
    if any(c.isspace() or not c.isprintable() or not c.isascii() for c in client_id):
        raise errors.InvalidOrder(
            f"a client order id is printable ASCII without spaces, got {client_id!r}"
        )
    return client_id


def _fit(
    market: Market, type: OrderType, amount: Decimal, price: Decimal | None
) -> tuple[Decimal, Decimal | None]:
    sym, base, quote = market.symbol, market.base, market.quote
    if not market.active:
        raise errors.InvalidOrder(
            f"{sym} is not trading now (status {market.status or 'inactive'}); try later"
        )
    fitted = market.round_amount(amount)
    if fitted <= 0:
        raise errors.InvalidOrder(
            f"amount {amount} {base} is smaller than {sym}'s amount step {market.amount_step}"
        )
    low, high = market.min_amount, market.max_amount
    if type is OrderType.MARKET:
        low = market.market_min_amount if market.market_min_amount is not None else low
        high = market.market_max_amount if market.market_max_amount is not None else high
    if low is not None and fitted < low:
        raise errors.InvalidOrder(f"amount {fitted} {base} is below {sym}'s minimum of {low}")
    if high is not None and high > 0 and fitted > high:
        raise errors.InvalidOrder(f"amount {fitted} {base} is above {sym}'s maximum of {high}")
    if price is None:
        return fitted, None
    tick = market.round_price(price)
    if tick <= 0:
        raise errors.InvalidOrder(
            f"price {price} {quote} is smaller than {sym}'s price step {market.price_step}"
        )
    if market.min_price is not None and tick < market.min_price:
        raise errors.InvalidOrder(
            f"price {tick} {quote} is below {sym}'s minimum of {market.min_price}"
        )
    if market.max_price is not None and market.max_price > 0 and tick > market.max_price:
        raise errors.InvalidOrder(
            f"price {tick} {quote} is above {sym}'s maximum of {market.max_price}"
        )
    if market.min_cost is not None and fitted * tick < market.min_cost:
        raise errors.InvalidOrder(
            f"order value {fitted * tick} {quote} is below {sym}'s minimum of "
            f"{market.min_cost} {quote}: raise the amount"
        )
    return fitted, tick


def answer_may_be_lost(exc: BaseException) -> bool:
    """Whether a placement that raised ``exc`` may have been executed by the exchange although
    no usable answer came back: a timeout, a dropped connection, a garbled or truncated answer,
    any failure that is not the exchange's own refusal. Refused before handling (rate limit,
    maintenance, a stale timestamp or nonce, an exchange error payload) is not a doubt."""
    if isinstance(exc, errors.RateLimited | errors.OnMaintenance | errors.InvalidNonce):
        return False  # the exchange answered: refused before handling
    if isinstance(exc, errors.NetworkError | errors.BadResponse):
        return True  # GatewayError (a 5xx page) is both: a proxy may have passed it on
    if isinstance(exc, errors.XestError):
        return False  # the exchange's own verdict (or a check before sending)
    return isinstance(exc, Exception)  # a bug or a decoder blow-up after the request left


def place_once(
    connector: Any,
    request: OrderRequest,
    *,
    attempts: int = 3,
    lookups: int = 3,
    lookup_delay: float = 0.2,
    patience: float = 120.0,
    journal: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Order:
    """Place ``request`` so that it exists at most once on the exchange, and say so when its
    fate cannot be known.

    The placement is sent once. After any doubt (see :func:`answer_may_be_lost`) the only path
    is to look the order up by its client id, until it is found or until the exchange's own
    validity window for that request (recorded by the connector while signing: Binance's
    ``timestamp + recvWindow``, Kraken's ``deadline``; see :mod:`xest.http.validity`) has
    provably closed by the exchange's clock *and* a look-up after that still finds nothing.
    Only then is it sent again (same client id), at most ``attempts`` times in all. A
    connector that records no window never gets a second placement.

    Look-ups start after ``lookup_delay`` seconds and back off (at most 2 s apart); when
    ``patience`` seconds of look-ups pass without an answer (the exchange cannot be asked, or
    has no window), the error raised says the order's state is unknown and the command to look
    it up. ``lookups`` is the least number of look-ups made before giving up that way.

    ``journal`` (a :class:`xest.journal.Journal`) gets the intent before the request leaves,
    the window's end as soon as it is known, and is closed when the outcome is known; an entry
    left open is reconciled by the account agent when it starts.
    """
    if attempts < 1 or lookups < 1:
        raise ValueError("attempts and lookups must be at least 1")

    def send(placement: Placement) -> Order:
        with placing(placement):
            return connector.place_order(
                request.symbol,
                request.side,
                request.type,
                request.amount,
                request.price,
                time_in_force=request.time_in_force,
                client_id=request.client_id,
                validate=request.validate,
            )

    if request.validate:  # nothing is created: asking again is harmless
        return _retry_safe(
            lambda: send(Placement(request.client_id)), attempts, lookup_delay, sleep
        )
    entry = journal.open(request) if journal is not None else None
    known = False  # whether the outcome is known (the journal entry may be closed)
    try:
        order = _place(
            connector,
            request,
            send,
            entry,
            journal,
            attempts,
            lookups,
            lookup_delay,
            patience,
            sleep,
        )
        known = True
        return order
    except errors.OrderStateUnknown:
        raise
    except errors.XestError:
        known = True  # refused, or provably not placed
        raise
    finally:
        if journal is not None:
            if known:
                journal.close(request.client_id)
            else:
                journal.release(request.client_id)


def _place(
    connector: Any,
    request: OrderRequest,
    send: Callable[[Placement], Order],
    entry: Any,
    journal: Any,
    attempts: int,
    lookups: int,
    lookup_delay: float,
    patience: float,
    sleep: Callable[[float], None],
) -> Order:
    doubt: BaseException | None = None
    resynced = False
    attempt = 0
    while attempt < attempts:
        attempt += 1
        placement = Placement(request.client_id)
        if journal is not None and entry is not None:
            placement.on_window = lambda at, e=entry: journal.window(e, at)
        try:
            return send(placement)
        except errors.InvalidNonce:
            # Refused before handling (Binance -1021, a Kraken nonce): the connector has re-read
            # the clock or moved its nonce on, so one immediate retry is safe and usually enough.
            if resynced:
                raise
            resynced, attempt = True, attempt - 1
            continue
        except errors.DuplicateOrder:
            if doubt is None:
                raise  # the caller's client id is already in use: not ours to adopt
            # An earlier attempt did land after all: adopt it.
            found = _reconcile(connector, request, placement, doubt, lookups, 0.0, patience, sleep)
            if found is None:
                raise
            return found
        except Exception as exc:
            if not answer_may_be_lost(exc):
                raise
            doubt = exc
            log.warning(
                "placing %s: no usable answer (%s: %s); looking it up by client id",
                request.client_id,
                type(exc).__name__,
                exc,
            )
        found = _reconcile(
            connector, request, placement, doubt, lookups, lookup_delay, patience, sleep
        )
        if found is not None:
            return found
        log.info("placing %s: provably not placed; sending it again", request.client_id)
    assert doubt is not None
    raise errors.ExchangeUnavailable(
        f"the order was not placed: {attempts} attempts got no usable answer and the exchange "
        f"has no order with client id {request.client_id} (their validity windows closed); "
        "try again later",
        exchange=_exchange(connector, doubt),
    )


def _exchange(connector: Any, exc: BaseException | None) -> str | None:
    return getattr(exc, "exchange", None) or getattr(connector, "exchange", None)


def _window_closed(connector: Any, placement: Placement) -> bool:
    """Whether the exchange's clock is provably past the placement's validity window."""
    until = placement.valid_until
    if until is None:
        return False
    clock = getattr(getattr(connector, "transport", None), "clock", None)
    if clock is not None and hasattr(clock, "now"):
        estimate = clock.now()
        if (
            estimate.error != float("inf")
            and estimate.time + timedelta(seconds=estimate.error) < until
        ):
            return False  # not yet, by the estimate: spare the exchange a question
    try:
        reading = connector.server_time()
    except errors.XestError:
        return False
    # A reading is taken before it arrives and is never ahead of the exchange's clock (Kraken
    # truncates to the second): a reading past the window proves the window closed.
    return reading.time > until


def _reconcile(
    connector: Any,
    request: OrderRequest,
    placement: Placement,
    doubt: BaseException,
    lookups: int,
    delay: float,
    patience: float,
    sleep: Callable[[float], None],
) -> Order | None:
    """The order with our client id; None once the exchange provably never will have it."""
    cause: BaseException = doubt
    waited = 0.0
    i = 0
    while True:
        if delay > 0 or i > 0:
            pause = min((delay or 0.01) * 2**i, 2.0)
            sleep(pause)
            waited += pause
        i += 1
        closed = _window_closed(connector, placement)  # before the look-up: then it is final
        try:
            order = connector.order(client_id=request.client_id, symbol=request.symbol)
        except errors.OrderNotFound as exc:
            if closed:
                return None
            cause = exc
        except (errors.NetworkError, errors.BadResponse) as exc:
            cause = exc
        except errors.XestError as exc:  # cannot ask (not supported, refused): cannot tell
            cause = exc
            break
        else:
            if not request.matches(order):
                raise errors.DuplicateOrder(
                    f"client order id {request.client_id} belongs to another order ({order.id}: "
                    f"{order.side} {order.amount} {order.symbol}); use a new client id",
                    exchange=_exchange(connector, doubt),
                )
            return order
        if i >= lookups and waited >= patience:
            break
    exchange = _exchange(connector, doubt)
    why = (
        "it could not be asked"
        if not isinstance(cause, errors.OrderNotFound)
        else "it has no such order yet, and its validity window for the request"
        + (" has no known end" if placement.valid_until is None else " has not provably closed")
    )
    raise errors.OrderStateUnknown(
        f"the state of order {request.client_id} is unknown: the answer to placing it was "
        f"lost ({type(doubt).__name__}) and {why} ({cause}); nothing was sent again. Look it "
        f"up with `xest order-status {exchange or 'EXCHANGE'} --client-id "
        f"{request.client_id} --symbol {request.symbol}`",
        exchange=exchange,
        client_id=request.client_id,
    )


def _retry_safe(
    send: Callable[[], Order], attempts: int, delay: float, sleep: Callable[[float], None]
) -> Order:
    for attempt in range(attempts):
        try:
            return send()
        except errors.NetworkError as exc:
            if not answer_may_be_lost(exc) or attempt == attempts - 1:
                raise
            if delay > 0:
                sleep(delay * 2**attempt)
    raise AssertionError("unreachable")
