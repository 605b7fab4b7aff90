"""Request weight as the simulated Binance counts it: per clock minute, 429 past the limit,
418 (a ban) for a client that keeps calling after ``ban_after`` refusals; SAPI weight counted
per IP and per UID and reported in its own headers."""

from __future__ import annotations

import math

from xest.testing.server import SimRequest, SimResponse

_WEIGHTS = {
    "/api/v3/ping": 1,
    "/api/v3/time": 1,
    "/api/v3/exchangeInfo": 20,
    "/api/v3/trades": 25,
    "/api/v3/klines": 2,
    "/api/v3/account": 20,
    "/api/v3/allOrders": 20,
    "/api/v3/myTrades": 20,
    "/api/v3/order/test": 1,
}

_SAPI_WEIGHTS = {
    "/sapi/v1/system/status": ("ip", 1),
    "/sapi/v1/convert/getQuote": ("uid", 200),
    "/sapi/v1/convert/acceptQuote": ("uid", 500),
    "/sapi/v1/convert/orderStatus": ("uid", 100),
}


def _weight(request: SimRequest) -> int:
    p, params = request.path, request.params
    if p == "/api/v3/depth":
        raw = params.get("limit") or "100"
        limit = int(raw) if raw.isdigit() else 100  # a bad limit is refused after counting
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if p in ("/api/v3/ticker/24hr", "/api/v3/ticker/bookTicker"):
        if "symbol" in params:
            return 2
        if p.endswith("bookTicker"):
            return 4
        count = params.get("symbols", "").count(",") + 1 if "symbols" in params else 999
        return 2 if count <= 20 else 40 if count <= 100 else 80
    if p == "/api/v3/openOrders":
        return 6 if "symbol" in params else 80
    if p == "/api/v3/order":
        return 4 if request.method == "GET" else 1
    return _WEIGHTS.get(p, 1)


class WeightBook:
    """The simulator's weight counters. Callers hold the simulator's lock."""

    def __init__(self, weight_limit: int, ban_after: int, ban_seconds: float) -> None:
        self.weight_limit = weight_limit
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds
        self._window = -1
        self._used = 0
        self._rejected = 0  # calls answered 429 in this window
        self._sapi_window = -1
        self._sapi_used = {"ip": 0, "uid": 0}
        self.banned_until = 0.0

    def headers(self, request: SimRequest, response: SimResponse, now: float) -> SimResponse:
        headers = dict(response.headers)
        if request.path.startswith("/api/"):
            headers["X-MBX-USED-WEIGHT-1M"] = str(self._used)
        elif request.path.startswith("/sapi/"):
            # SAPI counts per IP and, for account endpoints, per UID, in separate windows.
            window = int(now // 60)
            if window != self._sapi_window:
                self._sapi_window, self._sapi_used = window, {"ip": 0, "uid": 0}
            kind, weight = _SAPI_WEIGHTS.get(request.path, ("ip", 1))
            self._sapi_used[kind] += weight
            headers["X-SAPI-USED-IP-WEIGHT-1M"] = str(self._sapi_used["ip"])
            if kind == "uid":
                headers["X-SAPI-USED-UID-WEIGHT-1M"] = str(self._sapi_used["uid"])
        return SimResponse(response.body, response.status, headers)

    def limit(self, request: SimRequest, now: float) -> SimResponse | None:
        if not request.path.startswith("/api/"):
            return None
        if now < self.banned_until:
            return self._banned(now)
        window = int(now // 60)
        if window != self._window:
            self._window, self._used, self._rejected = window, 0, 0
        self._used += _weight(request)
        if self._used <= self.weight_limit:
            return None
        self._rejected += 1
        if self._rejected > self.ban_after:
            self.banned_until = now + self.ban_seconds
            return self._banned(now)
        retry = max(1, math.ceil((window + 1) * 60 - now))
        return SimResponse(
            {
                "code": -1003,
                "msg": f"Too much request weight used; current limit is "
                f"{self.weight_limit} request weight per 1 MINUTE. Please use WebSocket Streams "
                "for live updates to avoid polling the API.",
            },
            status=429,
            headers={"Retry-After": str(retry), "X-MBX-USED-WEIGHT-1M": str(self._used)},
        )

    def _banned(self, now: float) -> SimResponse:
        until_ms = int(self.banned_until * 1000)
        return SimResponse(
            {
                "code": -1003,
                "msg": f"Way too much request weight used; IP banned until "
                f"{until_ms}. Please use WebSocket Streams for live updates to avoid bans.",
            },
            status=418,
            headers={"Retry-After": str(max(1, math.ceil(self.banned_until - now)))},
        )
