"""Kraken's error envelope, mapped onto :mod:`xest.errors`.

Kraken answers most failures with HTTP 200 and ``{"error": ["EOrder:Insufficient funds"]}``,
often without ``result``. Each string is ``<E|W><category>:<message>[:<extra>]``; ``W`` marks a
warning that comes with a good result. Errors map by prefix; warnings are logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from xest import errors

log = logging.getLogger("xest.kraken")

EXCHANGE = "kraken"


class InvalidArguments(errors.InvalidOrder, errors.BadRequest):
    """``EGeneral:Invalid arguments``: a refused parameter. For an order it is an invalid order;
    for any other call a bad request; the class is both so either ``except`` catches it."""


# (prefix, class, what to do). The longest matching prefix wins.
TABLE = errors.ErrorTable(
    EXCHANGE,
    prefixes=[
        (
            "EAPI:Invalid key",
            errors.AuthenticationError,
            "check the API key configured for this account (it may be revoked or mistyped)",
        ),
        (
            "EAPI:Invalid signature",
            errors.AuthenticationError,
            "check the API secret configured for this account "
            "(it must be Kraken's base64 private key)",
        ),
        (
            "EAPI:Invalid nonce",
            errors.InvalidNonce,
            "another program may share this API key; "
            "give each program its own key or a nonce window",
        ),
        ("EAPI:Rate limit exceeded", errors.RateLimited, "slow down and retry in a while"),
        ("EAPI:Feature disabled", errors.PermissionDenied, "this feature is disabled for the key"),
        (
            "EGeneral:Permission denied",
            errors.PermissionDenied,
            "give the API key the permission this call needs (Kraken: Settings > API)",
        ),
        ("EGeneral:Too many requests", errors.RateLimited, "slow down and retry in a while"),
        (
            "EGeneral:Temporary lockout",
            errors.ExchangeUnavailable,
            "Kraken locked this key out for about 15 minutes after too many failed calls; wait",
        ),
        ("EGeneral:Internal error", errors.ExchangeUnavailable, "Kraken failed internally; retry"),
        ("EGeneral:Invalid arguments", InvalidArguments, "fix the argument and try again"),
        (
            "EService:Unavailable",
            errors.ExchangeUnavailable,
            "Kraken is unavailable (maintenance or an outage); see `xest status kraken`",
        ),
        ("EService:Busy", errors.ExchangeUnavailable, "Kraken is busy; retry shortly"),
        ("EService:Throttled", errors.RateLimited, "Kraken throttled the request; retry later"),
        (
            "EService:Market in cancel_only mode",
            errors.OnMaintenance,
            "the market only accepts cancellations right now; see `xest status kraken`",
        ),
        (
            "EService:Market in post_only mode",
            errors.OnMaintenance,
            "the market only accepts post-only limit orders right now; see `xest status kraken`",
        ),
        (
            "EService:Market in limit_only mode",
            errors.OnMaintenance,
            "the market only accepts limit orders right now; see `xest status kraken`",
        ),
        (
            "EService:Deadline elapsed",
            errors.ExchangeUnavailable,
            "the order reached Kraken after its deadline; try again",
        ),
        (
            "EQuery:Unknown asset pair",
            errors.BadSymbol,
            "see `xest markets kraken` for the symbols Kraken lists",
        ),
        ("EQuery:Unknown asset", errors.BadSymbol, "check the asset code"),
        (
            "EOrder:Insufficient funds",
            errors.InsufficientFunds,
            "the account does not hold enough for this order; check `xest balance kraken`",
        ),
        (
            "EOrder:Insufficient margin",
            errors.InsufficientFunds,
            "not enough margin for this order",
        ),
        (
            "EOrder:Unknown order",
            errors.OrderNotFound,
            "no such order for this account (check the id; it may belong to another account)",
        ),
        (
            "EOrder:Rate limit exceeded",
            errors.RateLimited,
            "too many orders added or cancelled; wait before the next one",
        ),
        (
            "EOrder:Domain rate limit exceeded",
            errors.RateLimited,
            "too many orders added or cancelled; wait before the next one",
        ),
        (
            "EOrder:Duplicate",
            errors.DuplicateOrder,
            "an order with this client order id is already open; pick another client id",
        ),
        ("EOrder:", errors.InvalidOrder, "Kraken refused the order; fix it and try again"),
    ],
    default=(errors.ExchangeError, "Kraken refused the request"),
)

_MAINTENANCE_HINT = "see `xest status kraken`"


def classify(text: str) -> tuple[type[errors.XestError], str]:
    """The xest error class for one Kraken error string, and advice for the message."""
    if "maintenance" in text.lower():
        return errors.OnMaintenance, f"Kraken is in maintenance; {_MAINTENANCE_HINT}"
    if text.startswith("EOrder:") and "duplicate" in text.lower():
        return errors.DuplicateOrder, "an order with this client order id already exists"
    return TABLE.classify(text)


def error_for(texts: Iterable[str]) -> errors.XestError:
    """The xest error for the ``error`` array of one Kraken answer (its first entry decides)."""
    texts = [str(t) for t in texts]
    first = texts[0]
    cls, advice = classify(first)
    message = f"{'; '.join(texts)} ({advice})"
    kwargs: dict[str, Any] = {"exchange": EXCHANGE, "code": first}
    if cls is errors.RateLimited:
        kwargs["retry_after"] = _retry_after(first)
    elif cls is InvalidArguments:
        argument = _argument(first)
        if argument:
            message = f"{first}: Kraken refused the argument {argument!r} ({advice})"
    return cls(message, **kwargs)


def check_payload(data: Any) -> None:
    """Raise the mapped error if a decoded Kraken answer carries errors; log its warnings."""
    if not isinstance(data, dict):
        raise errors.BadResponse(
            f"Kraken answered with a JSON {type(data).__name__}, not its {{error, result}} "
            "envelope",
            exchange=EXCHANGE,
        )
    messages = data.get("error") or []
    if isinstance(messages, str):  # seen from proxies in front of the API
        messages = [messages]
    failures = [m for m in messages if not str(m).startswith("W")]
    for warning in (m for m in messages if str(m).startswith("W")):
        log.warning("kraken warning: %s", warning)
    if failures:
        raise error_for(failures)
    if "result" not in data:
        raise errors.BadResponse(
            "Kraken's answer has neither errors nor a result", exchange=EXCHANGE
        )


def _argument(text: str) -> str:
    # "EGeneral:Invalid arguments:volume" → "volume"
    parts = text.split(":", 2)
    return parts[2].strip() if len(parts) > 2 else ""


def _retry_after(text: str) -> float | None:
    # "EService:Throttled:1700000000" names the UNIX time after which to retry.
    parts = text.split(":")
    if len(parts) > 2:
        try:
            return max(0.0, float(parts[-1]) - time.time())
        except ValueError:
            return None
    return None
