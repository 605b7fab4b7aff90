"""Kraken's spot REST endpoints and rate-limit policy, declared once for the transport.

Public calls are GETs, limited to about one per second per IP, and cached for as long as their
data stays useful. Private calls are signed POSTs, never cached and never retried blindly: a
retried private call would reuse its nonce, and a retried AddOrder could place twice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from xest.http import DecayingCounter, Endpoint

# -- public ----------------------------------------------------------------------------------

TIME = Endpoint("Time", "GET", "/0/public/Time")  # never cached: the clock needs fresh readings
SYSTEM_STATUS = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=5)
ASSETS = Endpoint("Assets", "GET", "/0/public/Assets", ttl=3600)
ASSET_PAIRS = Endpoint("AssetPairs", "GET", "/0/public/AssetPairs", ttl=3600)
TICKER = Endpoint("Ticker", "GET", "/0/public/Ticker", ttl=1)
DEPTH = Endpoint("Depth", "GET", "/0/public/Depth", ttl=1)
OHLC = Endpoint("OHLC", "GET", "/0/public/OHLC", ttl=5)
TRADES = Endpoint("Trades", "GET", "/0/public/Trades", ttl=1)


# -- private ---------------------------------------------------------------------------------


def _private(name: str, cost: float = 1, bucket: str = "private") -> Endpoint:
    return Endpoint(
        name, "POST", f"/0/private/{name}", signed=True, cost=cost, bucket=bucket, retry=False
    )


BALANCE = _private("Balance")
BALANCE_EX = _private("BalanceEx")
OPEN_ORDERS = _private("OpenOrders")
CLOSED_ORDERS = _private("ClosedOrders")
QUERY_ORDERS = _private("QueryOrders")
TRADES_HISTORY = _private("TradesHistory", cost=2)  # Kraken counts history calls double
# Adding and cancelling orders spend Kraken's separate per-pair trading counter, not the
# account's call counter.
ADD_ORDER = _private("AddOrder", cost=1, bucket="orders")
CANCEL_ORDER = _private("CancelOrder", cost=1, bucket="orders")
# A short-lived token for the private WebSocket channels (executions, balances).
GET_WEBSOCKETS_TOKEN = _private("GetWebSocketsToken")

# -- intervals -------------------------------------------------------------------------------

INTERVALS: Mapping[str, int] = {
    "1m": 1,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "4h": 240,
    "1d": 1440,
    "1w": 10080,
    "15d": 21600,
}

# -- rate limits -----------------------------------------------------------------------------

# Kraken's call counter by verification tier: (maximum, decay per second).
TIERS: Mapping[str, tuple[float, float]] = {
    "starter": (15, 0.33),
    "intermediate": (20, 0.5),
    "pro": (20, 1.0),
}
# The trading counter: Kraken allows a burst of order operations that decays over time.
ORDER_COUNTER: Mapping[str, tuple[float, float]] = {
    "starter": (60, 1.0),
    "intermediate": (125, 2.34),
    "pro": (180, 3.75),
}


def rate_limits(tier: str | None = None) -> dict[str, DecayingCounter]:
    """The policy for a verification tier (``XEST_KRAKEN_TIER``, default ``starter``)."""
    name = (tier or os.environ.get("XEST_KRAKEN_TIER") or "starter").lower()
    if name not in TIERS:
        name = "starter"
    maximum, decay = TIERS[name]
    orders_max, orders_decay = ORDER_COUNTER[name]
    return {
        # Public endpoints: about one call per second, with a small burst.
        "public": DecayingCounter(maximum=5, decay=1.0),
        "private": DecayingCounter(maximum=maximum, decay=decay, per_key=True),
        "orders": DecayingCounter(maximum=orders_max, decay=orders_decay, per_key=True),
    }
