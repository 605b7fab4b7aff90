"""The Example exchange's REST API as the connector sees it: endpoints and the exchange's words
for statuses (see ``README.md``). Facts about the exchange live here (its error codes in
``errors.py``); how xest maps them lives in ``connector.py``."""

from __future__ import annotations

from xest.http import Endpoint
from xest.models import Status
from xest.testing.signing import HmacScheme

API = "/api/v1"


def signed_message(request) -> bytes:
    """What Example signs: timestamp, method, path, then ``?query`` (GET, DELETE) or the body."""
    if request.method in ("GET", "DELETE"):
        payload = f"?{request.query_string}" if request.query_string else ""
    else:
        payload = request.body
    stamp = request.header("X-EX-TIMESTAMP") or ""
    return f"{stamp}{request.method}{request.path}{payload}".encode()


# How private requests are signed: HMAC-SHA256, hex, in three headers. The simulator's base
# verifies every signed request with it; the connector must sign exactly this way.
SIGNATURE = HmacScheme(
    key_at=("header", "X-EX-KEY"),
    signature_at=("header", "X-EX-SIGNATURE"),
    nonce_at=("header", "X-EX-TIMESTAMP"),
    message=signed_message,
    nonce_kind="timestamp",
)
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
