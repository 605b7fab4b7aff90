"""Placing orders safely: checked against the market before sending, always with a client order
id, and never duplicated when an answer is lost.

The transport never retries a POST. When a placement times out or its connection drops, the
exchange may or may not have the order, so :func:`place_once` asks it, by client order id: if
the order is there, that is the order; only when the exchange says it is not (``OrderNotFound``)
is it sent again, with the same client id. When the exchange cannot be asked, nothing is sent and
the error names the client id to look up later.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from xest import errors
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


def _number(value: Any, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidOrder(f"{what}: {exc}") from None


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
    """Whether a request that raised ``exc`` may have been handled by the exchange although no
    answer came back (a timeout, a dropped connection), as opposed to refused before handling
    (rate limit, maintenance, a stale timestamp or nonce)."""
    if isinstance(exc, errors.RateLimited | errors.OnMaintenance | errors.InvalidNonce):
        return False  # the exchange answered: refused before handling
    return isinstance(exc, errors.RequestTimeout | errors.ExchangeUnavailable)


def place_once(
    connector: Any,
    request: OrderRequest,
    *,
    attempts: int = 3,
    lookups: int = 3,
    lookup_delay: float = 0.2,
    timeout_settle: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Order:
    """Place ``request`` so that it exists exactly once on the exchange.

    At most ``attempts`` placements are sent, each after the exchange confirmed the previous
    one did not land. ``lookups`` bounds the look-ups after each lost answer, the first after
    ``lookup_delay`` seconds (the exchange may need a moment to show a fresh order), then
    doubling. After a timeout (rather than a dropped connection) the exchange may still be
    handling the request, so absence is confirmed again ``timeout_settle`` seconds later.
    """
    if attempts < 1 or lookups < 1:
        raise ValueError("attempts and lookups must be at least 1")

    def send() -> Order:
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
        return _retry_safe(send, attempts, lookup_delay, sleep)
    lost: errors.NetworkError | None = None
    resynced = False
    attempt = 0
    while attempt < attempts:
        attempt += 1
        try:
            return send()
        except errors.InvalidNonce:
            # Refused before handling (Binance -1021, a Kraken nonce): the connector has re-read
            # the clock or moved its nonce on, so one immediate retry is safe and usually enough.
            if resynced:
                raise
            resynced, attempt = True, attempt - 1
            continue
        except errors.DuplicateOrder:
            if lost is None:
                raise  # the caller's client id is already in use: not ours to adopt
            # An earlier attempt did land after all and the look-up missed it: adopt it.
            found = _find(connector, request, lost, lookups, lookup_delay, sleep)
            if found is None:
                raise
            return found
        except errors.NetworkError as exc:
            if not answer_may_be_lost(exc):
                raise
            lost = exc
            log.info("placing %s: answer lost (%s); looking it up", request.client_id, exc)
        found = _find(connector, request, lost, lookups, lookup_delay, sleep)
        if found is None and isinstance(lost, errors.RequestTimeout) and timeout_settle > 0:
            # A timed-out request may still be in the exchange's hands: give it time to land
            # before taking "not found" for "never placed".
            sleep(timeout_settle)
            found = _find(connector, request, lost, lookups, 0.0, sleep)
        if found is not None:
            return found
    assert lost is not None
    raise type(lost)(
        f"the order was not placed: {attempts} attempts lost their answers and the exchange "
        f"has no order with client id {request.client_id}; try again later",
        exchange=lost.exchange,
    )


def _find(
    connector: Any,
    request: OrderRequest,
    lost: errors.NetworkError | None,
    lookups: int,
    delay: float,
    sleep: Callable[[float], None],
) -> Order | None:
    """The order with our client id; None only when the exchange says there is none."""
    cause: BaseException | None = lost
    for i in range(lookups):
        if delay > 0:
            sleep(delay * 2**i)
        try:
            order = connector.order(client_id=request.client_id, symbol=request.symbol)
        except errors.OrderNotFound:
            return None
        except errors.NetworkError as exc:
            cause = exc
            continue
        except errors.XestError as exc:  # cannot ask (not supported, refused): cannot tell
            cause = exc
            break
        if not request.matches(order):
            raise errors.DuplicateOrder(
                f"client order id {request.client_id} belongs to another order ({order.id}: "
                f"{order.side} {order.amount} {order.symbol}); use a new client id",
                exchange=getattr(lost, "exchange", None),
            )
        return order
    exchange = getattr(cause, "exchange", None) or getattr(lost, "exchange", None)
    cls = type(lost) if lost is not None else errors.ExchangeUnavailable
    raise cls(
        f"the answer to placing order {request.client_id} was lost and the exchange could not "
        f"be asked whether it has it ({cause}); nothing was sent again. Look it up with "
        f"`xest order-status {exchange or 'EXCHANGE'} --client-id {request.client_id}`",
        exchange=exchange,
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
