"""A small fake exchange for the trading tests: a connector and its loopback simulator.

It speaks plain JSON through the real transport, with just enough state to trade: accounts
with balances, orders that rest, fill in parts and cancel, and firm quotes that expire by the
simulator's own clock and can be accepted once. Like Kraken for closed orders, it lets a client
order id be used again, so a careless retry *would* show up as a duplicate.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from xest import errors
from xest.connector import Connector
from xest.http import Endpoint, current_placement, record_window
from xest.models import Balance, Market, Order, Quote, ServerTime
from xest.testing.server import LoopbackServer, SimResponse, route

DEMO_KEY = "tradex-demo-key"
DEMO_SECRET = "tradex-demo-secret"
PRICE = Decimal("50000")

TIME = Endpoint("time", "GET", "/time")
MARKETS = Endpoint("markets", "GET", "/markets")
BALANCES = Endpoint("balances", "GET", "/private/balances", signed=True)
OPEN_ORDERS = Endpoint("open_orders", "GET", "/private/orders", signed=True)
ORDER = Endpoint("order", "GET", "/private/order", signed=True)
NEW_ORDER = Endpoint("new_order", "POST", "/private/order/new", signed=True)
CANCEL = Endpoint("cancel", "POST", "/private/order/cancel", signed=True)
QUOTE = Endpoint("quote", "POST", "/private/quote", signed=True)
ACCEPT = Endpoint("accept", "POST", "/private/quote/accept", signed=True)

_ERRORS = {
    "auth": errors.AuthenticationError,
    "order_not_found": errors.OrderNotFound,
    "duplicate": errors.DuplicateOrder,
    "order_closed": errors.InvalidOrder,
    "invalid": errors.InvalidOrder,
    "funds": errors.InsufficientFunds,
    "quote_not_found": errors.InvalidQuote,
    "quote_used": errors.QuoteAlreadyExecuted,
    "quote_expired": errors.QuoteExpired,
}


class TradexConnector(Connector):
    exchange = "tradex"
    default_url = "http://127.0.0.1:9"
    capabilities = frozenset(
        {
            "server_time",
            "markets",
            "balances",
            "open_orders",
            "order",
            "place_order",
            "cancel_order",
            "quote",
            "accept_quote",
        }
    )

    order_validity = timedelta(seconds=0.3)
    records_validity = True

    def sign(self, request: Any, credentials: Any, context: Any) -> None:
        request.headers["X-Key"] = credentials.key

    def check_response(self, response: Any) -> None:
        data = response.data
        if response.status >= 400 and isinstance(data, dict) and "error" in data:
            cls = _ERRORS.get(data["error"], errors.ExchangeError)
            raise cls(
                data.get("message", data["error"]), exchange=self.exchange, code=data["error"]
            )

    def server_time(self) -> ServerTime:
        data = self.request(TIME)
        return ServerTime(datetime.fromtimestamp(data["ms"] / 1000, UTC), raw=data)

    def markets(self) -> list[Market]:
        return [Market(**m) for m in self.request(MARKETS)]

    def balances(self) -> dict[str, Balance]:
        data = self.request(BALANCES)
        return {a: Balance(a, v["free"], v["locked"]) for a, v in data.items()}

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [_order(o) for o in self.request(OPEN_ORDERS)]

    def order(self, order_id=None, *, client_id=None, symbol=None) -> Order:
        return _order(self.request(ORDER, {"id": order_id, "client_id": client_id}))

    def place_order(
        self,
        symbol,
        side,
        type,
        amount,
        price=None,
        *,
        time_in_force=None,
        client_id=None,
        validate=False,
    ) -> Order:
        params = {
            "symbol": symbol,
            "side": str(side),
            "type": str(type),
            "amount": amount,
            "price": price,
            "tif": time_in_force,
            "client_id": client_id,
            "validate": validate or None,
        }
        if not validate and current_placement() is not None:
            # Like Kraken's deadline: the simulator refuses the order after this instant.
            until = self._server_now() + self.order_validity
            params["valid_until_ms"] = int(until.timestamp() * 1000)
            record_window(until)
        return _order(self.request(NEW_ORDER, params))

    def _server_now(self) -> datetime:
        clock = self.transport.clock
        if clock is not None and clock.now().error != float("inf"):
            return clock.now().time
        return self.server_time().time

    def cancel_order(self, order_id=None, *, client_id=None, symbol=None) -> Order:
        return _order(self.request(CANCEL, {"id": order_id, "client_id": client_id}))

    def quote(self, symbol, side, amount, *, valid_for=None) -> Quote:
        seconds = None if valid_for is None else int(valid_for.total_seconds())
        data = self.request(
            QUOTE, {"symbol": symbol, "side": str(side), "amount": amount, "valid_for": seconds}
        )
        return Quote(
            data["id"],
            data["symbol"],
            data["side"],
            data["amount"],
            data["price"],
            data["cost"],
            datetime.fromtimestamp(data["expires_ms"] / 1000, UTC),
            raw=data,
        )

    def accept_quote(self, quote: Quote) -> Order:
        return _order(self.request(ACCEPT, {"quote_id": quote.id}))


def _order(o: dict) -> Order:
    return Order(
        o["id"],
        o["symbol"],
        o["side"],
        o["type"],
        o["status"],
        o["amount"],
        o["filled"],
        o.get("price"),
        o.get("average"),
        client_id=o.get("client_id"),
        raw=o,
    )


class TradexSimulator(LoopbackServer):
    exchange = "tradex"

    def __init__(self, port: int = 0, *, clock_offset: float = 0.0, **options: Any) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.accounts: dict[str, dict[str, Decimal]] = {}
        self.orders: dict[str, dict] = {}  # id -> order, with "owner"
        self.quotes: dict[str, dict] = {}
        self.placed = 0  # orders created (validation excluded)
        self.accepts: dict[str, int] = {}  # quote id -> acceptances that executed
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self.add_account(DEMO_KEY, {"USD": "100000", "BTC": "10"})

    def demo_credentials(self) -> tuple[str, str]:
        return DEMO_KEY, DEMO_SECRET

    def add_account(self, key: str, balances: dict[str, str]) -> None:
        with self.lock:
            self.accounts[key] = {a: Decimal(v) for a, v in balances.items()}

    # -- helpers for tests -----------------------------------------------------------------------

    def by_client(self, client_id: str) -> list[dict]:
        with self.lock:
            return [o for o in self.orders.values() if o["client_id"] == client_id]

    def fill(self, order_id: str, amount: str | Decimal) -> None:
        """Fill ``amount`` more of a resting order at its price."""
        with self.lock:
            o = self.orders[order_id]
            o["filled"] = min(o["amount"], o["filled"] + Decimal(amount))
            o["average"] = o["price"]
            o["status"] = "filled" if o["filled"] == o["amount"] else "partially_filled"

    def expire_quote_now(self, quote_id: str) -> None:
        with self.lock:
            self.quotes[quote_id]["expires"] = self.now() - 1

    # -- dispatch --------------------------------------------------------------------------------

    def handle(self, request):
        if request.path.startswith("/private/"):
            key = request.header("X-Key")
            if key not in self.accounts:
                return SimResponse({"error": "auth", "message": "bad key"}, status=401)
        return super().handle(request)

    def _new_id(self, prefix: str) -> str:
        with self._id_lock:
            return f"{prefix}{next(self._ids):06d}"

    @route("GET", "/time")
    def get_time(self, request):
        return {"ms": int(self.now() * 1000)}

    @route("GET", "/markets")
    def get_markets(self, request):
        return [
            {
                "symbol": "BTC/USD",
                "id": "BTCUSD",
                "base": "BTC",
                "quote": "USD",
                "price_step": "0.1",
                "amount_step": "0.0001",
                "min_amount": "0.001",
                "min_cost": "10",
            }
        ]

    @route("GET", "/private/balances")
    def get_balances(self, request):
        holdings = self.accounts[request.header("X-Key")]
        return {a: {"free": str(v), "locked": "0"} for a, v in holdings.items()}

    @route("GET", "/private/orders")
    def get_open(self, request):
        key = request.header("X-Key")
        return [
            _public(o)
            for o in self.orders.values()
            if o["owner"] == key and o["status"] in ("open", "partially_filled")
        ]

    def _find(self, request) -> dict | None:
        key, params = request.header("X-Key"), request.params
        if params.get("id"):
            o = self.orders.get(params["id"])
            return o if o is not None and o["owner"] == key else None
        mine = [o for o in self.by_client(params.get("client_id", "")) if o["owner"] == key]
        return mine[-1] if mine else None

    @route("GET", "/private/order")
    def get_order(self, request):
        o = self._find(request)
        if o is None:
            return SimResponse({"error": "order_not_found", "message": "no such order"}, 404)
        return _public(o)

    @route("POST", "/private/order/new")
    def post_order(self, request):
        p = request.params
        if p.get("valid_until_ms") and self.now() * 1000 > int(p["valid_until_ms"]):
            return SimResponse({"error": "invalid", "message": "validity window elapsed"}, 400)
        amount = Decimal(p["amount"])
        price = Decimal(p["price"]) if p.get("price") else None
        if amount <= 0:
            return SimResponse({"error": "invalid", "message": "bad amount"}, 400)
        market = p["type"] == "market"
        o = {
            "id": self._new_id("O"),
            "owner": request.header("X-Key"),
            "symbol": p["symbol"],
            "side": p["side"],
            "type": p["type"],
            "amount": amount,
            "price": price,
            "filled": amount if market else Decimal(0),
            "average": PRICE if market else None,
            "status": "filled" if market else "open",
            "client_id": p.get("client_id"),
        }
        if p.get("validate") == "true":
            return _public({**o, "id": "validated", "status": "pending"})
        self.orders[o["id"]] = o
        self.placed += 1
        return _public(o)

    @route("POST", "/private/order/cancel")
    def post_cancel(self, request):
        o = self._find(request)
        if o is None:
            return SimResponse({"error": "order_not_found", "message": "no such order"}, 404)
        if o["status"] not in ("open", "partially_filled"):
            return SimResponse({"error": "order_closed", "message": "order closed"}, 400)
        o["status"] = "cancelled"
        return _public(o)

    @route("POST", "/private/quote")
    def post_quote(self, request):
        p = request.params
        if p.get("valid_until_ms") and self.now() * 1000 > int(p["valid_until_ms"]):
            return SimResponse({"error": "invalid", "message": "validity window elapsed"}, 400)
        amount = Decimal(p["amount"])
        valid = int(p.get("valid_for") or 10)
        q = {
            "id": uuid.uuid4().hex,
            "symbol": p["symbol"],
            "side": p["side"],
            "amount": amount,
            "price": PRICE,
            "cost": amount * PRICE,
            "expires": self.now() + valid,
            "owner": request.header("X-Key"),
            "used": False,
        }
        self.quotes[q["id"]] = q
        return {**_plain(q), "expires_ms": int(q["expires"] * 1000)}

    @route("POST", "/private/quote/accept")
    def post_accept(self, request):
        q = self.quotes.get(request.params.get("quote_id", ""))
        if q is None or q["owner"] != request.header("X-Key"):
            return SimResponse({"error": "quote_not_found", "message": "unknown quote"}, 404)
        if q["used"]:
            return SimResponse({"error": "quote_used", "message": "quote already used"}, 409)
        if self.now() >= q["expires"]:
            return SimResponse({"error": "quote_expired", "message": "quote expired"}, 410)
        q["used"] = True
        self.accepts[q["id"]] = self.accepts.get(q["id"], 0) + 1
        o = {
            "id": self._new_id("Q"),
            "owner": q["owner"],
            "symbol": q["symbol"],
            "side": q["side"],
            "type": "market",
            "amount": q["amount"],
            "price": q["price"],
            "filled": q["amount"],
            "average": q["price"],
            "status": "filled",
            "client_id": q["id"],
        }
        self.orders[o["id"]] = o
        return _public(o)


def _plain(d: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in d.items() if k != "owner"}


def _public(o: dict) -> dict:
    return _plain(o)


def install(monkeypatch: Any) -> None:
    """Make ``tradex`` a known connector and simulator for this test."""
    from xest import registry

    real_connectors, real_simulators = registry.connectors, registry.simulators
    monkeypatch.setattr(
        registry, "connectors", lambda: {**real_connectors(), "tradex": TradexConnector}
    )
    monkeypatch.setattr(
        registry, "simulators", lambda: {**real_simulators(), "tradex": TradexSimulator}
    )
