"""What the pages' buttons do: ask for and accept quotes, prepare, confirm and cancel orders.

Each action checks its input first (:mod:`xest_web.forms`) and goes through the account's one
agent (:class:`~xest.agents.AccountAgent`), so a quote accepted in one tab is executed for
every tab, and a second acceptance is refused by the agent before anything is sent. An order
is placed in two steps: ``prepare`` rounds it to the market's steps and keeps it as a draft;
``confirm`` sends exactly that draft, once.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from typing import Any

import attrs

from xest import errors
from xest_web import forms
from xest_web.hub import Hub
from xest_web.views import num, order_row, quote_row

DRAFT_LIFETIME = 120.0  # seconds a prepared order may wait for its confirmation


@attrs.frozen
class Draft:
    account: str
    request: Any  # xest.trading.OrderRequest
    created: float


class Actions:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._drafts: dict[str, Draft] = {}
        self._lock = threading.Lock()

    # -- quotes --------------------------------------------------------------------------------

    def quote(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = forms.account(self.hub, data)
        symbol = forms.symbol(data, entry.exchange.symbols())
        side = forms.choice(data, "side", ("buy", "sell"))
        amount = forms.amount(data, "amount")
        seconds = forms.lifetime(data)
        live = entry.agent.quote(symbol, side, amount, valid_for=timedelta(seconds=seconds))
        entry.remember_quote(live)
        self.hub.notifier.notify()
        return {"quote": quote_row(live), "message": f"quote {live.id}: firm for {seconds} s"}

    def accept(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = forms.account(self.hub, data)
        quote_id = forms.identifier(data, "quote")
        with entry.lock:
            live = entry.quotes.get(quote_id)
        if live is None:
            raise forms.FormError("quote", f"no quote {quote_id!r} for this account: ask again")
        order = live.accept()  # refused before sending when executed or expired
        entry.remember_order(order)
        self.hub.notifier.notify()
        return {"quote": quote_row(live), "message": f"executed: order {order.id}"}

    # -- orders --------------------------------------------------------------------------------

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = forms.account(self.hub, data)
        symbol = forms.symbol(data, entry.exchange.symbols())
        side = forms.choice(data, "side", ("buy", "sell"))
        kind = forms.choice(data, "type", ("limit", "market"))
        amount = forms.amount(data, "amount")
        price = forms.amount(data, "price") if kind == "limit" else None
        request = entry.agent.prepare_order(symbol, side, kind, amount, price)
        draft_id = secrets.token_urlsafe(12)
        with self._lock:
            self._sweep()
            self._drafts[draft_id] = Draft(entry.key, request, time.monotonic())
        changes = []
        if request.amount != request.requested_amount:
            changes.append(f"amount {num(request.requested_amount)} → {num(request.amount)}")
        if request.price != request.requested_price:
            changes.append(f"price {num(request.requested_price)} → {num(request.price)}")
        return {
            "draft": draft_id,
            "order": {
                "account": entry.key,
                "symbol": request.symbol,
                "side": str(request.side),
                "type": str(request.type),
                "amount": num(request.amount),
                "price": num(request.price),
                "cost": num(request.cost),
            },
            "rounded": changes,
            "message": "check the order as it will be sent, then confirm",
        }

    def confirm(self, data: dict[str, Any]) -> dict[str, Any]:
        draft_id = forms.identifier(data, "draft")
        with self._lock:
            self._sweep()
            draft = self._drafts.pop(draft_id, None)  # used once, whatever happens next
        if draft is None:
            raise forms.FormError(
                "draft", "this order was already sent or waited too long: prepare it again"
            )
        entry = self.hub.account(draft.account)
        order = entry.agent.submit(draft.request)
        entry.remember_order(order)
        self.hub.notifier.notify()
        return {"order": order_row(order), "message": f"order {order.id} placed"}

    def cancel(self, data: dict[str, Any]) -> dict[str, Any]:
        entry = forms.account(self.hub, data)
        order_id = forms.identifier(data, "order")
        order = entry.agent.cancel_order(order_id)
        entry.remember_order(order)
        self.hub.notifier.notify()
        return {"order": order_row(order), "message": f"order {order.id} {order.status}"}

    def _sweep(self) -> None:
        cutoff = time.monotonic() - DRAFT_LIFETIME
        for key in [k for k, d in self._drafts.items() if d.created < cutoff]:
            del self._drafts[key]


def describe(exc: BaseException) -> tuple[int, str, str | None]:
    """HTTP status, message in words and the form field at fault, for an action's failure."""
    if isinstance(exc, forms.FormError):
        return 400, str(exc), exc.field
    if isinstance(exc, errors.QuoteAlreadyExecuted | errors.QuoteExpired):
        return 409, str(exc), "quote"
    if isinstance(exc, errors.InsufficientFunds):
        return 400, f"insufficient funds: {exc}", None
    if isinstance(exc, errors.InvalidOrder | errors.InvalidQuote):
        return 400, str(exc), None
    if isinstance(exc, errors.NetworkError):
        return 502, f"the exchange could not be reached: {exc}", None
    if isinstance(exc, errors.XestError):
        return 400, str(exc), None
    return 500, f"unexpected {type(exc).__name__}: see the server's log", None
