"""Binance convert (RFQ): a firm quote, accepted once, followed to its final state."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from xest import errors
from xest.http import wire_value
from xest.models import Market, Order, Quote, Side
from xest_binance import endpoints as ep
from xest_binance import parse
from xest_binance.trading import _Host

# Convert quote lifetimes Binance offers (validTime), shortest first.
VALID_TIMES = (("10s", 10), ("30s", 30), ("1m", 60), ("2m", 120))


class ConvertOperations(_Host):
    """Mixed into :class:`~xest_binance.connector.BinanceConnector`."""

    _need_credentials: Callable[[str], None]
    convert_poll_interval: float
    convert_timeout: float

    def create_quote(
        self, m: Market, side_: Side, qty: Decimal, valid_for: timedelta | None
    ) -> Quote:
        """A firm convert quote to buy or sell ``qty`` of the base asset of ``m``."""
        self._need_credentials("quote")
        if side_ is Side.BUY:
            params = {"fromAsset": m.quote_id, "toAsset": m.base_id, "toAmount": wire_value(qty)}
        else:
            params = {"fromAsset": m.base_id, "toAsset": m.quote_id, "fromAmount": wire_value(qty)}
        params["validTime"] = _valid_time(valid_for)
        created = self.server_now(read=False)  # the quote's own times decide
        data = self.request(ep.CONVERT_GET_QUOTE, params)
        if not data.get("quoteId"):
            raise errors.InsufficientFunds(
                f"Binance gave no quote id for {side_} {qty} {m.symbol}: it only quotes what the "
                "account can pay for",
                exchange=self.exchange,
            )
        return parse.quote(m.symbol, data, side_, created)

    def accept_quote(self, quote: Quote) -> Order:
        """Accept a convert quote, then follow the convert order to its final state (bounded by
        ``convert_timeout``; a still-processing order comes back pending)."""
        self._need_credentials("accept_quote")
        accepted = self.request(ep.CONVERT_ACCEPT_QUOTE, {"quoteId": quote.id})
        order = parse.convert_order(quote, accepted)
        deadline = time.monotonic() + self.convert_timeout
        while not order.is_final:
            data = self.request(ep.CONVERT_ORDER_STATUS, {"orderId": order.id})
            order = parse.convert_order(quote, {**accepted, **data})
            if order.is_final or time.monotonic() >= deadline:
                break
            time.sleep(self.convert_poll_interval)
        return order

    def quote_order(self, quote: Quote) -> Order:
        """The convert order that accepting ``quote`` produced (``orderStatus?quoteId=``), in
        whatever state; OrderNotFound when Binance has none. The core uses it to reconcile an
        acceptance whose answer was lost, and to follow a convert order still processing."""
        self._need_credentials("quote_order")
        data = self.request(ep.CONVERT_ORDER_STATUS, {"quoteId": quote.id})
        return parse.convert_order(quote, data)


def _valid_time(valid_for: timedelta | None) -> str:
    """The shortest Binance quote lifetime that covers ``valid_for`` (10 s by default)."""
    if valid_for is None:
        return VALID_TIMES[0][0]
    seconds = valid_for.total_seconds()
    for name, length in VALID_TIMES:
        if seconds <= length:
            return name
    raise errors.InvalidQuote(
        f"Binance quotes live at most 2 minutes; valid_for={valid_for} is too long",
        exchange="binance",
    )
