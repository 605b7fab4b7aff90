"""Checking what a person typed, before anything reaches an exchange.

Every failure is a :class:`FormError` naming the field and saying what to type instead; the
page shows it next to the form and nothing is sent.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from xest_web.hub import AccountEntry, Hub

_PLAIN_NUMBER = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,18})?$")
QUOTE_LIFETIMES = (10, 30, 60)  # seconds; Binance's convert offers 10 s, 30 s, 1 min, 2 min


class FormError(ValueError):
    """Bad input: ``field`` is the form field at fault, the message says what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise FormError(field, f"{field} must be text")
    return str(value).strip()


def account(hub: Hub, data: dict[str, Any]) -> AccountEntry:
    key = text(data, "account")
    if not key:
        raise FormError("account", "select an account first")
    if key not in hub.accounts:
        raise FormError("account", f"unknown account {key!r}: select one from the list")
    return hub.accounts[key]


def symbol(data: dict[str, Any], symbols: list[str]) -> str:
    value = text(data, "symbol").upper()
    if not value:
        raise FormError("symbol", "enter a symbol, e.g. BTC/USD")
    if not symbols:
        raise FormError("symbol", "the market list is not loaded yet: try again in a moment")
    if value not in symbols:
        hint = ", ".join(s for s in symbols if s.startswith(value.split("/")[0]))[:80]
        more = f" (e.g. {hint})" if hint else ""
        raise FormError("symbol", f"unknown symbol {value!r} on this exchange{more}")
    return value


def choice(data: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = text(data, field).lower()
    if value not in choices:
        raise FormError(field, f"{field} must be one of {', '.join(choices)}")
    return value


def amount(data: dict[str, Any], field: str, what: str | None = None) -> Decimal:
    """A positive number written plainly (``0.01``): no sign, no exponent, no infinity."""
    what = what or field
    raw = text(data, field)
    if not raw:
        raise FormError(field, f"enter the {what}")
    if not _PLAIN_NUMBER.match(raw):
        raise FormError(
            field, f"the {what} must be a plain positive number like 0.01, not {raw[:24]!r}"
        )
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise FormError(field, f"the {what} is not a number") from None
    if value <= 0:
        raise FormError(field, f"the {what} must be greater than zero")
    return value


def lifetime(data: dict[str, Any]) -> int:
    raw = text(data, "valid_for") or str(QUOTE_LIFETIMES[0])
    if raw not in {str(s) for s in QUOTE_LIFETIMES}:
        raise FormError("valid_for", f"valid for must be one of {QUOTE_LIFETIMES} seconds")
    return int(raw)


def identifier(data: dict[str, Any], field: str) -> str:
    value = text(data, field)
    if not value or len(value) > 80 or not value.isprintable() or " " in value:
        raise FormError(field, f"{field} is missing or malformed")
    return value
