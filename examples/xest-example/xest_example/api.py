"""The Example exchange's REST API as the connector sees it: endpoints, error codes and the
exchange's words for statuses (see ``README.md``). Facts about the exchange live here; how xest
maps them lives in ``connector.py``."""

from __future__ import annotations

from xest import errors
from xest.http import Endpoint
from xest.models import Status

API = "/api/v1"
STATUS = Endpoint("status", "GET", f"{API}/status", ttl=5)
TIME = Endpoint("time", "GET", f"{API}/time")
MARKETS = Endpoint("markets", "GET", f"{API}/markets", ttl=300)
TICKER = Endpoint("ticker", "GET", f"{API}/ticker", ttl=1)
BOOK = Endpoint("book", "GET", f"{API}/book", ttl=1)
CANDLES = Endpoint("candles", "GET", f"{API}/candles", ttl=10)
TRADES = Endpoint("trades", "GET", f"{API}/trades", ttl=1)
BALANCES = Endpoint("balances", "GET", f"{API}/balances", signed=True, bucket="private")
OPEN_ORDERS = Endpoint("open_orders", "GET", f"{API}/orders", signed=True, bucket="private")
ORDER = Endpoint("order", "GET", f"{API}/order", signed=True, bucket="private")
PLACE = Endpoint("place_order", "POST", f"{API}/orders", signed=True, bucket="private")
CANCEL = Endpoint("cancel_order", "DELETE", f"{API}/order", signed=True, bucket="private")
QUOTE = Endpoint("quote", "POST", f"{API}/quotes", signed=True, bucket="private")
ACCEPT = Endpoint("accept_quote", "POST", f"{API}/quotes/accept", signed=True, bucket="private")

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
ORDER_KEYS = ("id", "market", "side", "type", "status", "size", "filled", "created", "updated")
QUOTE_KEYS = ("quoteId", "side", "size", "price", "cost", "createdAt", "expiresAt")
STATUSES = {
    "normal": Status.ONLINE,
    "maintenance": Status.MAINTENANCE,
    "cancel_only": Status.CANCEL_ONLY,
}
ORDER_STATUSES = {
    "new": "pending",
    "open": "open",
    "partial": "partially_filled",
    "filled": "filled",
    "cancelled": "cancelled",
    "rejected": "rejected",
    "expired": "expired",
}
