"""What an account does, as opposed to what it watches: place, find and cancel orders, ask for
and accept quotes. Mixed into :class:`~xest.agents.account.AccountAgent`.

Orders go through :func:`xest.trading.place_once` (checked, rounded, exactly once); every order
and quote comes back as the account's one live object for its id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from xest import errors, quote_book
from xest.agents.live import TrackedOrder
from xest.agents.quote import LiveQuote
from xest.agents.tracking import Registry
from xest.http import plain_decimal
from xest.models import Order, OrderStatus, OrderType, Quote, QuoteState, Side, TimeInForce
from xest.trading import OrderRequest, place_once, prepare_order

__all__ = ["Trader"]


class Trader:
    """Order and quote operations; the host class provides the attributes declared here."""

    connector: Any
    registry: Registry
    lookup_delay: float
    patience: float
    journal: Any
    attempts: int
    lookups: int
    _sleep: Callable[[float], None]
    _quote_of: dict[str, Quote]
    _track: Callable[..., TrackedOrder]
    server_now: Callable[[], datetime]

    @property
    def exchange(self) -> str:
        return self.connector.exchange

    # -- orders ----------------------------------------------------------------------------------

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
        refresh: bool = True,
    ) -> TrackedOrder:
        """The live object of an order, by exchange id or client id; final orders are answered
        from memory, others are asked for (unless ``refresh=False``)."""
        if order_id is None and client_id is None:
            raise errors.InvalidOrder("give an order id or a client order id")
        tracked = self.registry.find(order_id, client_id=client_id)
        if tracked is not None and (tracked.is_final or not refresh):
            return tracked
        if tracked is not None:  # ask by the exchange's id, which every exchange keeps
            order_id, client_id, symbol = tracked.id, None, symbol or tracked.symbol
        snapshot = self.connector.order(order_id, client_id=client_id, symbol=symbol)
        return self._track(snapshot)

    def place_order(
        self,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        amount: Decimal | str | int,
        price: Decimal | str | int | None = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> TrackedOrder | Order:
        """Check, round, place exactly once, and follow the order until final.

        With ``validate=True`` the exchange only checks the order: the answer is returned as is
        (an :class:`~xest.models.Order` snapshot) and nothing is followed.
        """
        request = self.prepare_order(
            symbol,
            side,
            type,
            amount,
            price,
            time_in_force=time_in_force,
            client_id=client_id,
            validate=validate,
        )
        return self.submit(request)

    def prepare_order(
        self,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        amount: Any,
        price: Any = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> OrderRequest:
        """The order as it would be sent (rounded, checked, with a client id), not sent."""
        market = self.connector.market(symbol) if "markets" in self.connector.capabilities else None
        return prepare_order(
            market,
            side,
            type,
            amount,
            price,
            symbol=symbol,
            time_in_force=time_in_force,
            client_id=client_id,
            validate=validate,
        )

    def submit(self, request: OrderRequest) -> TrackedOrder | Order:
        """Place a prepared order exactly once (see :func:`xest.trading.place_once`)."""
        self.server_now()  # a fresh clock reading first: signed timestamps come from it
        order = place_once(
            self.connector,
            request,
            attempts=self.attempts,
            lookups=self.lookups,
            lookup_delay=self.lookup_delay,
            patience=self.patience,
            journal=self.journal,
            sleep=self._sleep,
        )
        if request.validate:
            return order
        return self._track(order, placed=True)

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> TrackedOrder:
        """Cancel an order. Cancelling a final order raises InvalidOrder saying how it ended."""
        if order_id is None and client_id is None:
            raise errors.InvalidOrder("give an order id or a client order id to cancel")
        tracked = self.registry.find(order_id, client_id=client_id)
        if tracked is not None:
            if tracked.is_final:
                raise _already_final(tracked.snapshot)
            order_id, client_id = tracked.id, None
            symbol = symbol or tracked.symbol
        for attempt in range(2):
            try:
                result = self.connector.cancel_order(order_id, client_id=client_id, symbol=symbol)
            except errors.InvalidOrder:
                # Unknown or not cancellable: often because it just ended. Say how, if so.
                current = self._peek(order_id, client_id, symbol)
                if current is not None and current.is_final:
                    raise _already_final(self._track(current).snapshot) from None
                raise
            except errors.NetworkError as exc:
                if isinstance(exc, errors.RateLimited) or attempt:
                    raise
                current = self._peek(order_id, client_id, symbol)  # cancelling twice is harmless
                if current is not None and current.is_final:
                    tracked = self._track(current)
                    if current.status is OrderStatus.CANCELLED:
                        return tracked  # our cancel landed; only its answer was lost
                    raise _already_final(tracked.snapshot) from None
                continue
            return self._track(result)
        raise AssertionError("unreachable")

    def _peek(
        self, order_id: str | None, client_id: str | None, symbol: str | None
    ) -> Order | None:
        try:
            return self.connector.order(order_id, client_id=client_id, symbol=symbol)
        except errors.XestError:
            return None

    # -- quotes ----------------------------------------------------------------------------------

    def quote(
        self,
        symbol: str,
        side: Side | str,
        amount: Decimal | str | int,
        *,
        valid_for: timedelta | None = None,
    ) -> LiveQuote:
        """A firm quote, held as the account's one live object for its id."""
        request = prepare_order(None, side, OrderType.MARKET, amount, symbol=symbol)
        self.server_now()  # the deadline is judged by it, and signed timestamps come from it
        snapshot = self.connector.quote(symbol, request.side, request.amount, valid_for=valid_for)
        quote_book.remember(self.exchange, self._api_key(), snapshot)  # acceptable elsewhere
        self.registry.sweep_quotes()  # let go of settled quotes, even when nothing polls
        return self._live(snapshot)

    def _live(self, snapshot: Quote) -> LiveQuote:
        return self.registry.quote(
            snapshot,
            lambda q: LiveQuote(
                q,
                execute=self._execute_quote,
                server_now=self.server_now,
                reconcile=self._find_quote_order,
                sink=self.registry.emit,
            ),
        )

    def accept_quote(self, quote: LiveQuote | Quote | str) -> TrackedOrder:
        """Execute a quote once; the resulting order is followed until final."""
        if isinstance(quote, LiveQuote):
            live = quote
        elif isinstance(quote, Quote):
            live = self._live(quote)
        else:
            found = self.find_quote(str(quote))
            if found is None:
                raise errors.InvalidQuote(
                    f"no quote {quote!r} was asked for on this account from this machine: "
                    "ask for a quote first",
                    exchange=self.exchange,
                )
            live = found
        self._claim(live)
        return live.accept()

    def find_quote(self, quote_id: str) -> LiveQuote | None:
        """The live quote ``quote_id``: this process's, else one another process on this
        machine asked for on this account (see :mod:`xest.quote_book`), else None."""
        found = self.registry.find_quote(quote_id)
        if found is None:
            shared = quote_book.recall(self.exchange, self._api_key(), quote_id)
            found = self._live(shared) if shared is not None else None
        return found

    def quotes(self) -> list[LiveQuote]:
        """The quotes still open."""
        self.registry.sweep_quotes()
        return self.registry.open_quotes()

    def _api_key(self) -> str | None:
        credentials = self.connector.credentials
        return credentials.key if credentials is not None else None

    def _claim(self, live: LiveQuote) -> None:
        """Refuse locally, before anything is sent, a quote another process already sent for
        execution (the store's claims; this process's own claim lets its retries through)."""
        claims = self._quote_claims()
        if (
            claims is not None
            and live.state is QuoteState.OPEN
            and claims.claimed(live.id)
            and not claims.claim(live.id)  # claimed, and not by this process
        ):
            raise errors.QuoteAlreadyExecuted(
                f"quote {live.id} was already accepted by another xest process sharing this "
                "API key; a quote executes at most once: ask for a new one",
                exchange=self.exchange,
            )

    def _execute_quote(self, quote: Quote) -> TrackedOrder:
        # One execution across processes and machines too: the store's claim is taken before
        # the acceptance leaves, and given back only when the exchange refused it.
        claims = self._quote_claims()
        if claims is not None and not claims.claim(quote.id):
            raise errors.QuoteAlreadyExecuted(
                f"quote {quote.id} was already sent for execution by another xest process "
                "sharing this API key; a quote executes once",
                exchange=self.exchange,
            )
        try:
            order = self.connector.accept_quote(quote)
        except errors.ExchangeError as exc:
            if claims is not None and not isinstance(exc, errors.QuoteAlreadyExecuted):
                claims.release(quote.id)  # refused: it did not execute
            raise
        if not order.is_final:  # followed through the quote where the connector can
            self._quote_of[order.id] = quote
        return self._track(order, placed=True)

    def _quote_claims(self) -> Any:
        credentials = getattr(self.connector, "credentials", None)
        if credentials is None:
            return None
        from xest.http import store

        return store.current().executed_quotes(self.exchange, credentials.key)

    def _find_quote_order(self, quote: Quote) -> TrackedOrder | None:
        """The order an acceptance produced, for a lost answer: a connector may offer
        ``quote_order(quote)``; otherwise the order is looked up by the quote id as client id."""
        finder = getattr(self.connector, "quote_order", None)
        try:
            if finder is not None:
                order = finder(quote)
            else:
                order = self.connector.order(client_id=quote.id, symbol=quote.symbol)
        except errors.OrderNotFound:
            return None
        return self._track(order)


def _already_final(order: Order) -> errors.InvalidOrder:
    return errors.InvalidOrder(
        f"order {order.id} is already {order.status.value} "
        f"({_num(order.filled)}/{_num(order.amount)} filled): there is nothing to cancel"
    )


def _num(value: Decimal) -> str:
    return plain_decimal(value)
