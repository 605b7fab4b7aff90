"""The Example exchange's error codes (``{"error": {"code": ..., "message": ...}}``) mapped onto
:mod:`xest.errors`, with what the user should do about each."""

from __future__ import annotations

from xest import errors

# The exchange's error codes (``{"error": {"code": ..., "message": ...}}``): what each becomes,
# and what the user should do about it.
_FIX_ORDER = "fix the order and try again"
ERRORS = errors.ErrorTable(
    "example",
    exact={
        "INVALID_KEY": (errors.AuthenticationError, "check the account's API key and secret"),
        "INVALID_SIGNATURE": (
            errors.AuthenticationError,
            "check the account's API key and secret",
        ),
        "PERMISSION_DENIED": (errors.PermissionDenied, "give the API key this permission"),
        "TIMESTAMP_OUT_OF_WINDOW": (
            errors.InvalidNonce,
            "the local clock is off; xest resynchronises on the next call",
        ),
        "INVALID_PARAMETER": (errors.BadRequest, "fix the parameter"),
        "UNKNOWN_MARKET": (errors.BadSymbol, "see `xest markets example`"),
        "INSUFFICIENT_FUNDS": (errors.InsufficientFunds, "see `xest balance example`"),
        "INVALID_ORDER": (errors.InvalidOrder, _FIX_ORDER),
        "ORDER_CLOSED": (errors.InvalidOrder, "the order is closed already"),
        "ORDER_NOT_FOUND": (errors.OrderNotFound, "check the order id"),
        "DUPLICATE_CLIENT_ID": (errors.DuplicateOrder, "pick another client id"),
        "QUOTE_EXPIRED": (errors.QuoteExpired, "ask for a new quote"),
        "QUOTE_USED": (errors.QuoteAlreadyExecuted, "ask for a new quote"),
        "QUOTE_NOT_FOUND": (errors.InvalidQuote, "ask for a new quote"),
        "RATE_LIMITED": (errors.RateLimited, "slow down"),
        "MAINTENANCE": (errors.OnMaintenance, "try again after the maintenance"),
        "INTERNAL": (errors.ExchangeUnavailable, "try again later"),
    },
    default=(errors.ExchangeError, ""),
)
