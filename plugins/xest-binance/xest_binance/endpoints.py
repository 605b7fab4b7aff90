"""Binance's REST endpoints with their request weights, buckets and cache TTLs.

Weights are Binance's documented figures for the spot API (``/api/v3``, counted per IP in the
``public`` bucket, reported in ``X-MBX-USED-WEIGHT-1M``) and for SAPI (``/sapi``, counted per IP
or per account UID, reported in ``X-SAPI-USED-IP-WEIGHT-1M`` / ``X-SAPI-USED-UID-WEIGHT-1M``).
Endpoints whose weight depends on the call (depth, tickers, open orders) are declared at their
base weight and re-weighted per call with :func:`weighted`.
"""

from __future__ import annotations

import attrs

from xest.http import Endpoint, WeightWindow

# The budgets. REQUEST_WEIGHT is 6000 per minute per IP (exchangeInfo ``rateLimits``); SAPI
# counts IP weight (12 000/min) and UID weight (180 000/min) separately.
RATE_LIMITS = {
    "public": WeightWindow(limit=6000, window=60, header="X-MBX-USED-WEIGHT-1M"),
    "sapi_ip": WeightWindow(limit=12000, window=60, header="X-SAPI-USED-IP-WEIGHT-1M"),
    "sapi_uid": WeightWindow(limit=180000, window=60, header="X-SAPI-USED-UID-WEIGHT-1M"),
}

# -- public --------------------------------------------------------------------------------------
PING = Endpoint("ping", "GET", "/api/v3/ping", cost=1)
TIME = Endpoint("time", "GET", "/api/v3/time", cost=1)  # never cached: it feeds the clock
SYSTEM_STATUS = Endpoint("system/status", "GET", "/sapi/v1/system/status", bucket="sapi_ip", ttl=5)
EXCHANGE_INFO = Endpoint("exchangeInfo", "GET", "/api/v3/exchangeInfo", cost=20, ttl=600)
DEPTH = Endpoint("depth", "GET", "/api/v3/depth", cost=5, ttl=1)
TRADES = Endpoint("trades", "GET", "/api/v3/trades", cost=25, ttl=1)
KLINES = Endpoint("klines", "GET", "/api/v3/klines", cost=2, ttl=1)
TICKER_24HR = Endpoint("ticker/24hr", "GET", "/api/v3/ticker/24hr", cost=2, ttl=1)
BOOK_TICKER = Endpoint("ticker/bookTicker", "GET", "/api/v3/ticker/bookTicker", cost=2, ttl=1)

# -- private (signed) ----------------------------------------------------------------------------
ACCOUNT = Endpoint("account", "GET", "/api/v3/account", signed=True, cost=20)
OPEN_ORDERS = Endpoint("openOrders", "GET", "/api/v3/openOrders", signed=True, cost=6)
ALL_ORDERS = Endpoint("allOrders", "GET", "/api/v3/allOrders", signed=True, cost=20)
QUERY_ORDER = Endpoint("order", "GET", "/api/v3/order", signed=True, cost=4)
NEW_ORDER = Endpoint("order", "POST", "/api/v3/order", signed=True, cost=1)
TEST_ORDER = Endpoint("order/test", "POST", "/api/v3/order/test", signed=True, cost=1)
CANCEL_ORDER = Endpoint("order", "DELETE", "/api/v3/order", signed=True, cost=1)
MY_TRADES = Endpoint("myTrades", "GET", "/api/v3/myTrades", signed=True, cost=20)

# -- convert (RFQ) -------------------------------------------------------------------------------
CONVERT_GET_QUOTE = Endpoint(
    "convert/getQuote",
    "POST",
    "/sapi/v1/convert/getQuote",
    signed=True,
    cost=200,
    bucket="sapi_uid",
)
CONVERT_ACCEPT_QUOTE = Endpoint(
    "convert/acceptQuote",
    "POST",
    "/sapi/v1/convert/acceptQuote",
    signed=True,
    cost=500,
    bucket="sapi_uid",
)
CONVERT_ORDER_STATUS = Endpoint(
    "convert/orderStatus",
    "GET",
    "/sapi/v1/convert/orderStatus",
    signed=True,
    cost=100,
    bucket="sapi_uid",
)

ORDER_PATHS = frozenset({NEW_ORDER.path, TEST_ORDER.path})
CONVERT_PATHS = frozenset(
    {CONVERT_GET_QUOTE.path, CONVERT_ACCEPT_QUOTE.path, CONVERT_ORDER_STATUS.path}
)


_weighted: dict[tuple[int, float], tuple[Endpoint, Endpoint]] = {}


def weighted(endpoint: Endpoint, cost: float) -> Endpoint:
    """``endpoint`` costing ``cost``; made once per endpoint and cost (a cached ticker is a few
    microseconds: attrs.evolve on every call would be a fifth of it)."""
    if endpoint.cost == cost:
        return endpoint
    known = _weighted.get((id(endpoint), cost))
    if known is not None and known[0] is endpoint:  # the pinned original: its id is not reused
        return known[1]
    made = attrs.evolve(endpoint, cost=cost)
    if len(_weighted) >= 256:
        _weighted.clear()
    _weighted[(id(endpoint), cost)] = (endpoint, made)
    return made


def depth_weight(limit: int) -> int:
    """``/api/v3/depth``: 5 up to 100 levels, 25 up to 500, 50 up to 1000, 250 up to 5000."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def ticker_weight(count: int | None) -> int:
    """``/api/v3/ticker/24hr``: 2 for one symbol or up to 20, 40 up to 100, 80 beyond or all."""
    if count is None or count > 100:
        return 80
    return 2 if count <= 20 else 40


def open_orders_weight(symbol: str | None) -> int:
    """``/api/v3/openOrders``: 6 for one symbol, 80 for all of them."""
    return 6 if symbol else 80
