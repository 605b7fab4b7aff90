"""A simulator of the Example exchange: its REST dialect on 127.0.0.1, signatures checked, with
a demo account, a book around a fixed mid price, orders that rest or fill, and quotes that expire
and execute once."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from decimal import Decimal
from typing import Any

from xest.testing.server import LoopbackServer, SimRequest, SimResponse, route
from xest.testing.state import SimBalance, SimOrder, SimPrice
from xest_example.endpoints import SIGNATURE

API = "/api/v1"
DEMO_KEY = "example-demo-key-0001"
DEMO_SECRET = "example-demo-secret-5e1f0a7c93d2"
RECV_WINDOW_MS = 5000
# id, base, quote, tick, lot, min size, min notional, mid price
MARKETS = [
    ("BTC-USD", "BTC", "USD", "0.1", "0.0001", "0.0001", "5", "43210.5"),
    ("ETH-USD", "ETH", "USD", "0.01", "0.001", "0.001", "5", "2345.67"),
    ("ETH-BTC", "ETH", "BTC", "0.00001", "0.001", "0.001", "0.0001", "0.05432"),
]


def error(code: str, message: str, status: int = 400) -> SimResponse:
    return SimResponse({"error": {"code": code, "message": message}}, status=status)


class ExampleSimulator(LoopbackServer):
    exchange = "example"
    signature_scheme = SIGNATURE

    def __init__(self, port: int = 0, *, clock_offset: float = 0.0, **_: Any) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.markets: dict[str, dict[str, Any]] = {
            m[0]: dict(
                zip(
                    ("id", "base", "quote", "tick", "lot", "minSize", "minNotional"),
                    m,
                    strict=False,
                )
            )
            | {"state": "open", "mid": Decimal(m[7])}
            for m in MARKETS
        }
        self.balances = {"USD": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("30")}
        self.held = {asset: Decimal(0) for asset in self.balances}
        self.orders: dict[str, dict[str, Any]] = {}
        self.quotes: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(1001)
        self.maintenance = False

    def demo_credentials(self) -> tuple[str, str]:
        return DEMO_KEY, DEMO_SECRET

    def refuse(self, request: SimRequest, reason: str, kind: str) -> SimResponse:
        if kind == "nonce":
            return error("TIMESTAMP_OUT_OF_WINDOW", reason, 400)
        return error("INVALID_SIGNATURE", reason, 401)

    # -- inspection (xest.testing.state) ---------------------------------------------------------

    def inspect_prices(self) -> dict[str, SimPrice]:
        with self.lock:
            return {
                mid: SimPrice(bids[0][0], asks[0][0])
                for mid, (bids, asks) in ((k, self._book(m, 1)) for k, m in self.markets.items())
            }

    def inspect_balances(self, key: str | None = None) -> dict[str, SimBalance]:
        with self.lock:
            return {
                a: SimBalance(self.balances[a] - self.held[a], self.held[a]) for a in self.balances
            }

    def inspect_orders(self, key: str | None = None) -> list[SimOrder]:
        statuses = {"new": "open", "partial": "open"}
        with self.lock:
            return [
                SimOrder(
                    id=o["id"],
                    market=o["market"],
                    side=o["side"],
                    amount=o["size"],
                    filled=o["filled"],
                    status=statuses.get(o["status"], o["status"]),
                    price=o["price"],
                    client_id=o["clientId"],
                )
                for o in self.orders.values()
            ]

    def credit(self, asset: str, amount: Decimal, key: str | None = None) -> None:
        with self.lock:
            self.balances[asset] = self.balances.get(asset, Decimal(0)) + Decimal(amount)
            self.held.setdefault(asset, Decimal(0))

    def fill_order(self, order_id: str, amount: Decimal | None = None) -> None:
        with self.lock:
            order = self.orders[order_id]
            if order["status"] not in ("open", "partial") or order["price"] is None:
                raise ValueError(f"order {order_id} is not a resting limit order")
            m = self.markets[order["market"]]
            left = order["size"] - order["filled"]
            size = left if amount is None else min(Decimal(amount), left)
            price, sign = order["price"], 1 if order["side"] == "buy" else -1
            # Release what the filled part held, then move the funds.
            if order["side"] == "buy":
                self.held[m["quote"]] -= size * price
            else:
                self.held[m["base"]] -= size
            self.balances[m["base"]] += sign * size
            self.balances[m["quote"]] -= sign * size * price
            order["filled"] += size
            order["status"] = "filled" if order["filled"] == order["size"] else "partial"
            order["avgPrice"] = price
            order["updated"] = self.ms()

    def ms(self) -> int:
        return int(self.now() * 1000)

    def not_found(self, request: SimRequest) -> SimResponse:
        return error("NOT_FOUND", f"no endpoint {request.method} {request.path}", 404)

    # -- public ----------------------------------------------------------------------------------

    @route("GET", f"{API}/status")
    def get_status(self, request: SimRequest) -> Any:
        return {"status": "maintenance" if self.maintenance else "normal", "message": ""}

    @route("GET", f"{API}/time")
    def get_time(self, request: SimRequest) -> Any:
        return {"serverTime": self.ms()}

    @route("GET", f"{API}/markets")
    def get_markets(self, request: SimRequest) -> Any:
        return {
            "markets": [{k: v for k, v in m.items() if k != "mid"} for m in self.markets.values()]
        }

    def _market(self, request: SimRequest) -> dict[str, Any] | SimResponse:
        market = self.markets.get(request.params.get("market", ""))
        return market if market is not None else error("UNKNOWN_MARKET", "unknown market")

    def _book(self, m: dict[str, Any], depth: int = 20) -> tuple[list, list]:
        tick, mid = Decimal(m["tick"]), m["mid"]
        bids = [(mid - tick * (2 * i + 1), Decimal("0.5") + Decimal(i) / 10) for i in range(depth)]
        asks = [(mid + tick * (2 * i + 1), Decimal("0.4") + Decimal(i) / 10) for i in range(depth)]
        return bids, asks

    @route("GET", f"{API}/ticker")
    def get_ticker(self, request: SimRequest) -> Any:
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        bids, asks = self._book(m, 1)
        mid = m["mid"]
        return {
            "market": m["id"],
            "bid": bids[0][0],
            "ask": asks[0][0],
            "last": mid,
            "open": mid * Decimal("0.99"),
            "high": mid * Decimal("1.02"),
            "low": mid * Decimal("0.97"),
            "volume": "1234.5678",
            "time": self.ms(),
        }

    @route("GET", f"{API}/book")
    def get_book(self, request: SimRequest) -> Any:
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        depth = int(request.params.get("depth") or 20)
        bids, asks = self._book(m, min(depth, 50))
        return {"market": m["id"], "bids": bids, "asks": asks, "time": self.ms()}

    @route("GET", f"{API}/candles")
    def get_candles(self, request: SimRequest) -> Any:
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        seconds = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}.get(
            request.params.get("interval", "")
        )
        if seconds is None:
            return error("INVALID_PARAMETER", "interval must be one of 1m, 5m, 1h, 1d")
        limit = min(int(request.params.get("limit") or 100), 500)
        last = int(self.now()) // seconds * seconds
        tick, mid, rows = Decimal(m["tick"]), m["mid"], []
        for i in range(limit, 0, -1):
            start = last - (i - 1) * seconds
            o = mid + tick * (start // seconds % 7 - 3)
            c = mid + tick * (start // seconds % 5 - 2)
            rows.append([start * 1000, o, max(o, c) + tick, min(o, c) - tick, c, "3.25"])
        return {"candles": rows}

    @route("GET", f"{API}/trades")
    def get_trades(self, request: SimRequest) -> Any:
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        now, tick = self.ms(), Decimal(m["tick"])
        return {
            "trades": [
                {
                    "id": 500 + i,
                    "price": m["mid"] + tick * (i % 3 - 1),
                    "size": "0.0150",
                    "side": "buy" if i % 2 else "sell",
                    "time": now - (10 - i) * 1000,
                }
                for i in range(10)
            ]
        }

    # -- private ---------------------------------------------------------------------------------

    def _auth(self, request: SimRequest) -> SimResponse | None:
        key = request.header("X-EX-KEY")
        stamp = request.header("X-EX-TIMESTAMP") or "0"
        if key != DEMO_KEY:
            return error("INVALID_KEY", "unknown API key", 401)
        if not stamp.isdigit() or abs(int(stamp) - self.ms()) > RECV_WINDOW_MS:
            return error("TIMESTAMP_OUT_OF_WINDOW", "timestamp outside the 5 s window", 400)
        if request.method in ("GET", "DELETE"):
            payload = f"?{request.query_string}" if request.query_string else ""
        else:
            payload = request.body
        message = f"{stamp}{request.method}{request.path}{payload}".encode()
        expected = hmac.new(DEMO_SECRET.encode(), message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.header("X-EX-SIGNATURE") or ""):
            return error("INVALID_SIGNATURE", "signature does not match", 401)
        return None

    @route("GET", f"{API}/balances")
    def get_balances(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        return {
            "balances": [
                {"asset": a, "available": self.balances[a] - self.held[a], "held": self.held[a]}
                for a in sorted(self.balances)
            ]
        }

    @route("GET", f"{API}/orders")
    def get_open_orders(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        market = request.params.get("market")
        return {
            "orders": [
                o
                for o in self.orders.values()
                if o["status"] in ("open", "partial") and market in (None, o["market"])
            ]
        }

    def _find(self, request: SimRequest) -> dict[str, Any] | SimResponse:
        params = request.params
        if "id" in params:
            order = self.orders.get(params["id"])
        else:
            order = next(
                (o for o in self.orders.values() if o["clientId"] == params.get("clientId")), None
            )
        return order if order is not None else error("ORDER_NOT_FOUND", "no such order", 404)

    @route("GET", f"{API}/order")
    def get_order(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        return self._find(request)

    @route("DELETE", f"{API}/order")
    def delete_order(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        order = self._find(request)
        if isinstance(order, SimResponse):
            return order
        if order["status"] not in ("open", "partial"):
            return error("ORDER_CLOSED", f"order {order['id']} is already {order['status']}")
        self._release(order)
        order.update(status="cancelled", updated=self.ms())
        return order

    @route("POST", f"{API}/orders")
    def post_order(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        p = request.params
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        try:
            size = Decimal(p["size"])
            price = Decimal(p["price"]) if p.get("price") else None
        except (KeyError, ArithmeticError):
            return error("INVALID_PARAMETER", "size (and price for limit orders) required")
        if p.get("type") not in ("limit", "market") or p.get("side") not in ("buy", "sell"):
            return error("INVALID_PARAMETER", "side must be buy|sell, type limit|market")
        if size < Decimal(m["minSize"]):
            return error("INVALID_ORDER", f"size below the minimum {m['minSize']}")
        if p.get("clientId") and any(o["clientId"] == p["clientId"] for o in self.orders.values()):
            return error("DUPLICATE_CLIENT_ID", "clientId already used", 409)
        bids, asks = self._book(m, 1)
        touch = asks[0][0] if p["side"] == "buy" else bids[0][0]
        fills = p["type"] == "market" or (price >= touch if p["side"] == "buy" else price <= touch)
        fill_price = touch if fills else None
        asset, need = (
            (m["quote"], size * (fill_price or price or Decimal(0)))
            if p["side"] == "buy"
            else (m["base"], size)
        )
        if self.balances[asset] - self.held[asset] < need:
            return error("INSUFFICIENT_FUNDS", f"not enough {asset}")
        order = self._new_order(m, p["side"], p["type"], size, price, p.get("clientId"))
        if p.get("dryRun") == "true":  # checked, not placed
            del self.orders[order["id"]]
            return order | {"id": "0", "status": "new"}
        if fill_price is not None:
            self._fill(order, m, fill_price)
        else:
            self.held[asset] += need
        return order

    def _new_order(self, m, side, type_, size, price, client_id) -> dict[str, Any]:
        now = self.ms()
        order = {
            "id": str(next(self.ids)),
            "clientId": client_id,
            "market": m["id"],
            "side": side,
            "type": type_,
            "status": "open",
            "size": size,
            "filled": Decimal(0),
            "price": price,
            "avgPrice": None,
            "tif": "GTC" if type_ == "limit" else "IOC",
            "created": now,
            "updated": now,
        }
        self.orders[order["id"]] = order
        return order

    def _fill(self, order: dict[str, Any], m: dict[str, Any], price: Decimal) -> None:
        size, sign = order["size"], 1 if order["side"] == "buy" else -1
        self.balances[m["base"]] += sign * size
        self.balances[m["quote"]] -= sign * size * price
        order.update(status="filled", filled=size, avgPrice=price, updated=self.ms())

    def _release(self, order: dict[str, Any]) -> None:
        m = self.markets[order["market"]]
        left = order["size"] - order["filled"]
        if order["side"] == "buy":
            self.held[m["quote"]] -= left * order["price"]
        else:
            self.held[m["base"]] -= left

    @route("POST", f"{API}/quotes")
    def post_quote(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        m = self._market(request)
        if isinstance(m, SimResponse):
            return m
        p = request.params
        bids, asks = self._book(m, 1)
        price = asks[0][0] if p.get("side") == "buy" else bids[0][0]
        size = Decimal(p.get("size") or "0")
        ttl = min(max(int(p.get("ttl") or 10), 1), 60)
        now = self.ms()
        quote = {
            "quoteId": f"q{next(self.ids)}",
            "market": m["id"],
            "side": p.get("side", "buy"),
            "size": size,
            "price": price,
            "cost": size * price,
            "createdAt": now,
            "expiresAt": now + ttl * 1000,
            "used": False,
        }
        self.quotes[quote["quoteId"]] = quote
        return {k: v for k, v in quote.items() if k != "used"}

    @route("POST", f"{API}/quotes/accept")
    def post_accept(self, request: SimRequest) -> Any:
        if denied := self._auth(request):
            return denied
        quote = self.quotes.get(request.params.get("quoteId", ""))
        if quote is None:
            return error("QUOTE_NOT_FOUND", "no such quote", 404)
        if quote["used"]:
            return error("QUOTE_USED", "this quote was already accepted", 409)
        if self.ms() >= quote["expiresAt"]:
            return error("QUOTE_EXPIRED", "this quote has expired", 410)
        m = self.markets[quote["market"]]
        asset = m["quote"] if quote["side"] == "buy" else m["base"]
        need = quote["cost"] if quote["side"] == "buy" else quote["size"]
        if self.balances[asset] - self.held[asset] < need:
            return error("INSUFFICIENT_FUNDS", f"not enough {asset}")
        quote["used"] = True
        order = self._new_order(m, quote["side"], "market", quote["size"], None, None)
        self._fill(order, m, quote["price"])
        return order
