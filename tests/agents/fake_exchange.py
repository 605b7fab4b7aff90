"""A small fake exchange for the agent and CLI tests: a connector and its loopback simulator.

Independent of the real connectors, so these tests neither wait for nor break with them. The
dialect is deliberately plain JSON; what matters is that it goes through the real transport.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal
from typing import Any

from xest import errors
from xest.connector import Connector
from xest.http import Endpoint
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    PublicTrade,
    ServerTime,
    Ticker,
    Trade,
)
from xest.testing.server import LoopbackServer, SimResponse, route

DEMO_KEY = "fake-demo-key"
DEMO_SECRET = "fake-demo-secret-0123456789"

STATUS = Endpoint("status", "GET", "/status")
TIME = Endpoint("time", "GET", "/time")
MARKETS = Endpoint("markets", "GET", "/markets")
TICKER = Endpoint("ticker", "GET", "/ticker")
BOOK = Endpoint("book", "GET", "/book")
CANDLES = Endpoint("candles", "GET", "/candles")
TRADES = Endpoint("trades", "GET", "/trades")
BALANCES = Endpoint("balances", "GET", "/private/balances", signed=True, bucket="private")
OPEN_ORDERS = Endpoint("open_orders", "GET", "/private/orders", signed=True, bucket="private")
MY_TRADES = Endpoint("my_trades", "GET", "/private/trades", signed=True, bucket="private")


def _sign(secret: str, query: str) -> str:
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


class FakeConnector(Connector):
    exchange = "fakex"
    default_url = "http://127.0.0.1:9"
    capabilities = frozenset(
        {
            "status",
            "server_time",
            "markets",
            "ticker",
            "tickers",
            "order_book",
            "candles",
            "trades",
            "balances",
            "open_orders",
            "my_trades",
        }
    )
    time_resolution = timedelta(milliseconds=1)
    candle_intervals = ("1m", "1h")

    def sign(self, request: Any, credentials: Any, context: Any) -> None:
        from urllib.parse import urlencode

        request.params["nonce"] = str(context.nonce())
        query = urlencode(request.params)
        request.query = query
        request.headers["X-Key"] = credentials.key
        request.headers["X-Sign"] = _sign(credentials.secret, query)

    def check_response(self, response: Any) -> None:
        data = response.data
        if isinstance(data, dict) and data.get("error"):
            code = data["error"]
            cls = {
                "auth": errors.AuthenticationError,
                "maintenance": errors.OnMaintenance,
                "symbol": errors.BadSymbol,
            }.get(code, errors.ExchangeError)
            raise cls(f"fakex says {code}", exchange=self.exchange, code=code)

    def status(self) -> ExchangeStatus:
        return ExchangeStatus(self.request(STATUS)["status"])

    def server_time(self) -> ServerTime:
        ms = self.request(TIME)["ms"]
        return ServerTime(Decimal(ms) / 1000, resolution=self.time_resolution)

    def markets(self) -> list[Market]:
        return [
            Market(
                symbol=m["symbol"],
                id=m["id"],
                base=m["base"],
                quote=m["quote"],
                price_step=m["tick"],
                amount_step=m["step"],
            )
            for m in self.request(MARKETS)
        ]

    def ticker(self, symbol: str) -> Ticker:
        market = self.market(symbol)
        t = self.request(TICKER, {"id": market.id})
        return Ticker(market.symbol, market.id, bid=t["bid"], ask=t["ask"], last=t["last"])

    def tickers(self, symbols: Any = None) -> dict[str, Ticker]:
        names = symbols or [m.symbol for m in self.markets()]
        return {s: self.ticker(s) for s in names}

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        market = self.market(symbol)
        b = self.request(BOOK, {"id": market.id, "depth": depth})
        return OrderBook(market.symbol, b["bids"], b["asks"], id=market.id)

    def candles(self, symbol, interval="1m", since=None, limit=None) -> list[Candle]:
        if interval not in self.candle_intervals:
            raise errors.BadRequest(f"interval {interval!r} not supported", exchange=self.exchange)
        market = self.market(symbol)
        rows = self.request(CANDLES, {"id": market.id, "limit": limit})
        return [Candle(market.symbol, interval, int(r[0]), *r[1:6]) for r in rows]

    def trades(self, symbol, since=None, limit=None) -> list[PublicTrade]:
        market = self.market(symbol)
        rows = self.request(TRADES, {"id": market.id})
        return [PublicTrade(market.symbol, r["price"], r["amount"], r["side"]) for r in rows]

    def balances(self) -> dict[str, Balance]:
        data = self.request(BALANCES)
        return {a: Balance(a, v["free"], v["locked"]) for a, v in data.items()}

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [Order(**o) for o in self.request(OPEN_ORDERS)]

    def my_trades(self, symbol=None, since=None, limit=None) -> list[Trade]:
        rows = self.request(MY_TRADES)
        return [Trade(**r) for r in rows if symbol is None or r["symbol"] == symbol]


class FakeSimulator(LoopbackServer):
    exchange = "fakex"

    def __init__(self, port: int = 0, *, clock_offset: float = 0.0, **options: Any) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.status = "online"
        self.extra_markets: list[dict] = []  # listed on top of the three standard ones
        self.down = False  # every request answers 503 while True
        self.accounts = {
            DEMO_KEY: (
                DEMO_SECRET,
                {
                    "USD": {"free": "1000.50", "locked": "0"},
                    "BTC": {"free": "0.5", "locked": "0.1"},
                },
            )
        }
        self.orders = [
            {
                "id": "O-1",
                "symbol": "BTC/USD",
                "side": "sell",
                "type": "limit",
                "status": "open",
                "amount": "0.1",
                "price": "70000",
                "client_id": "c-1",
            }
        ]
        self.my_trades = [
            {
                "id": "T-1",
                "order_id": "O-0",
                "symbol": "BTC/USD",
                "side": "buy",
                "price": "60000",
                "amount": "0.5",
                "timestamp": 1_700_000_000,
            }
        ]

    def demo_credentials(self) -> tuple[str, str]:
        return DEMO_KEY, DEMO_SECRET

    def add_account(self, key: str, secret: str, balances: dict[str, str]) -> None:
        with self.lock:
            self.accounts[key] = (
                secret,
                {a: {"free": v, "locked": "0"} for a, v in balances.items()},
            )

    def set_status(self, status: str) -> None:
        """``online``, ``maintenance``... as the exchange would report it."""
        self.status = status

    def handle(self, request):
        if self.down:
            return SimResponse("service unavailable", status=503)
        if request.path.startswith("/private/"):
            key = request.header("X-Key")
            account = self.accounts.get(key or "")
            if account is None or not hmac.compare_digest(
                _sign(account[0], request.query_string), request.header("X-Sign") or ""
            ):
                return SimResponse({"error": "auth"}, status=401)
        return super().handle(request)

    def _account(self, request) -> dict:
        return self.accounts[request.header("X-Key")][1]

    @route("GET", "/status")
    def get_status(self, request):
        return {"status": self.status}

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
                "tick": "0.1",
                "step": "0.0001",
            },
            {
                "symbol": "ETH/USD",
                "id": "ETHUSD",
                "base": "ETH",
                "quote": "USD",
                "tick": "0.01",
                "step": "0.001",
            },
            {
                "symbol": "ETH/BTC",
                "id": "ETHBTC",
                "base": "ETH",
                "quote": "BTC",
                "tick": "0.00001",
                "step": "0.001",
            },
            *self.extra_markets,
        ]

    @route("GET", "/ticker")
    def get_ticker(self, request):
        if request.query.get("id") == "BTCUSD":
            return {"bid": "64999.9", "ask": "65000.1", "last": "65000.0"}
        return {"bid": "3199.99", "ask": "3200.01", "last": "3200.00"}

    @route("GET", "/book")
    def get_book(self, request):
        depth = int(request.query.get("depth") or 5)
        bids = [[str(65000 - i), "0.5"] for i in range(1, 11)][:depth]
        asks = [[str(65000 + i), "0.25"] for i in range(1, 11)][:depth]
        return {"bids": bids, "asks": asks}

    @route("GET", "/candles")
    def get_candles(self, request):
        limit = int(request.query.get("limit") or 3)
        return [[1_700_000_000 + 60 * i, "100", "110", "90", "105", "12.5"] for i in range(limit)]

    @route("GET", "/trades")
    def get_trades(self, request):
        return [{"price": "65000", "amount": "0.01", "side": "buy"}]

    @route("GET", "/private/balances")
    def get_balances(self, request):
        return self._account(request)

    @route("GET", "/private/orders")
    def get_orders(self, request):
        return self.orders

    @route("GET", "/private/trades")
    def get_my_trades(self, request):
        return self.my_trades


def install(monkeypatch: Any) -> None:
    """Make ``fakex`` a known connector and simulator for this test."""
    from xest import registry

    real_connectors, real_simulators = registry.connectors, registry.simulators
    monkeypatch.setattr(
        registry, "connectors", lambda: {**real_connectors(), "fakex": FakeConnector}
    )
    monkeypatch.setattr(
        registry, "simulators", lambda: {**real_simulators(), "fakex": FakeSimulator}
    )
