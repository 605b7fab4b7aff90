"""A loopback HTTP server speaking Binance's spot REST dialect (and convert), for tests and
``--sim``.

Same paths, ``{"code", "msg"}`` errors with Binance's HTTP statuses, signatures (-1022), API
keys (-2014/-2015) and ``timestamp``/``recvWindow`` (-1021) checked against the simulator's own
clock, which ``clock_offset`` can put ahead of or behind ours. Request weight is counted per
minute like Binance does: past ``weight_limit`` it answers 429 with ``Retry-After``, and a client
that keeps calling after ``ban_after`` 429s is banned with 418 until the ban ends.

Options: ``clock_offset`` (s), ``weight_limit``, ``ban_after``, ``ban_seconds``,
``convert_settle_delay`` (s a convert order stays PROCESS), ``quote_lifetime`` (s, overrides
every ``validTime`` so tests see a quote expire quickly). Test hooks: :meth:`demo_credentials`,
:meth:`add_account`, :meth:`set_status`, :meth:`set_price`, :meth:`set_market_status`,
:meth:`fill_order`, :meth:`balances`; faults through :meth:`inject`.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

from xest.testing.server import SimRequest, SimResponse, route
from xest.testing.state import SimBalance, SimOrder, SimPrice
from xest_binance import signing
from xest_binance.simulator.limits import WeightBook
from xest_binance.simulator.market import INTERVAL_MS, default_markets
from xest_binance.simulator.quotes import ConvertDesk
from xest_binance.simulator.trading import Account, Exchange, SimError, missing
from xest_binance.simulator.ws import StreamRoutes

DEMO_BALANCES = {
    "USDT": Decimal("100000"),
    "BTC": Decimal("2"),
    "ETH": Decimal("25"),
    "BNB": Decimal("100"),
}
# A second, smaller demo account, so that "select a user" shows different figures.
BOB_BALANCES = {
    "USDT": Decimal("3000"),
    "BTC": Decimal("0.05"),
    "ETH": Decimal("1.5"),
}


def _strip_signature(text: str) -> str:
    return "&".join(part for part in text.split("&") if not part.startswith("signature="))


STATUSES = {
    "NEW": "open",
    "PARTIALLY_FILLED": "open",
    "FILLED": "filled",
    "CANCELED": "cancelled",
    "REJECTED": "rejected",
    "EXPIRED": "expired",
}


class BinanceSimulator(StreamRoutes):
    exchange = "binance"
    signature_scheme = signing.scheme()

    def __init__(
        self,
        port: int = 0,
        *,
        clock_offset: float = 0.0,
        weight_limit: int = 6000,
        ban_after: int = 3,
        ban_seconds: float = 120.0,
        convert_settle_delay: float = 0.0,
        quote_lifetime: float | None = None,
        **_: Any,
    ) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.weights = WeightBook(weight_limit, ban_after, ban_seconds)
        self.markets = default_markets()
        self.exchange_state = Exchange(self.markets)
        self.convert = ConvertDesk(
            self.markets,
            int(convert_settle_delay * 1000),
            None if quote_lifetime is None else int(quote_lifetime * 1000),
        )
        self.system_status = (0, "normal")
        self._demo = self.exchange_state.new_account(dict(DEMO_BALANCES))
        self._bob = self.exchange_state.new_account(dict(BOB_BALANCES))

    # -- what tests and other components drive ----------------------------------------------------

    def demo_credentials(self) -> tuple[str, str]:
        """API key and secret of the first demo account (alice)."""
        return self._demo.key, self._demo.secret

    def demo_accounts(self) -> dict[str, tuple[str, str]]:
        """The funded demo accounts by name (alice, bob), each a (key, secret) pair."""
        return {"alice": self.demo_credentials(), "bob": (self._bob.key, self._bob.secret)}

    def add_account(self, balances: dict[str, Any] | None = None) -> tuple[str, str]:
        """A new account with ``balances`` (asset → amount); returns its key and secret."""
        with self.lock:
            amounts = {a: Decimal(str(v)) for a, v in (balances or {}).items()}
            account = self.exchange_state.new_account(amounts)
            return account.key, account.secret

    def set_status(self, status: int = 1, msg: str = "system_maintenance") -> None:
        """What ``/sapi/v1/system/status`` says: 0 normal, 1 maintenance."""
        self.system_status = (status, msg if status else "normal")

    def set_price(self, symbol: str, price: Any) -> None:
        """Move a symbol's mid price; resting orders the new book crosses fill."""
        with self.lock:
            m = self.markets[symbol]
            m.mid = Decimal(str(price))
            self.overlay.clear(symbol)  # a new mid moves the whole book
            self.exchange_state.cross(m, self.now_ms())
        self.publish()

    def set_market_status(self, symbol: str, status: str) -> None:
        self.markets[symbol].status = status

    def fill_order(self, order_id: int | str, amount: Any = None) -> dict:
        """Fill a resting order, wholly or ``amount`` of it, at its own price."""
        with self.lock:
            qty = None if amount is None else Decimal(str(amount))
            filled = dict(self.exchange_state.fill_order(int(order_id), qty, self.now_ms()))
        self.publish()
        return filled

    def balances(self, key: str) -> dict[str, tuple[Decimal, Decimal]]:
        account = self.exchange_state.accounts[key]
        return {a: (f, lk) for a, (f, lk) in account.balances.items()}

    # -- inspection (xest.testing.state) and the base's signature checks ---------------------------

    def api_secret(self, key: str) -> str | None:
        account = self.exchange_state.accounts.get(key)
        return account.secret if account is not None else None

    def refuse(self, request: SimRequest, reason: str, kind: str) -> SimResponse:
        if kind == "nonce":
            return SimResponse({"code": -1021, "msg": f"Timestamp reused: {reason}"}, status=400)
        return SimResponse({"code": -1022, "msg": "Signature for this request is not valid."}, 400)

    def inspect_prices(self) -> dict[str, SimPrice]:
        with self.lock:
            return {s: SimPrice(m.best_bid(), m.best_ask()) for s, m in self.markets.items()}

    def inspect_balances(self, key: str | None = None) -> dict[str, SimBalance]:
        with self.lock:
            account = self.exchange_state.accounts[key or self._demo.key]
            return {a: SimBalance(f, lk) for a, (f, lk) in account.balances.items()}

    def inspect_orders(self, key: str | None = None) -> list[SimOrder]:
        with self.lock:
            account = self.exchange_state.accounts[key or self._demo.key]
            return [
                SimOrder(
                    id=str(o["orderId"]),
                    market=o["symbol"],
                    side=o["side"].lower(),
                    amount=Decimal(o["origQty"]),
                    filled=Decimal(o["executedQty"]),
                    status=STATUSES.get(o["status"], o["status"].lower()),
                    price=Decimal(o["price"]) if Decimal(o["price"]) else None,
                    client_id=o["clientOrderId"],
                )
                for o in self.exchange_state._of(account)
            ]

    def credit(self, asset: str, amount: Any, key: str | None = None) -> None:
        with self.lock:
            account = self.exchange_state.accounts[key or self._demo.key]
            account.add(asset, Decimal(str(amount)))

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    # -- dispatch: weights, errors ----------------------------------------------------------------

    def handle(self, request: SimRequest) -> SimResponse:
        limited = self.weights.limit(request, self.now())
        if limited is not None:
            return limited
        try:
            response = super().handle(request)
        except SimError as exc:
            response = SimResponse({"code": exc.code, "msg": exc.msg}, status=exc.status)
        except (ValueError, ArithmeticError):  # a number parameter that is not one
            response = SimResponse(
                {"code": -1100, "msg": "Illegal characters found in a parameter."}, status=400
            )
        return self.weights.headers(request, response, self.now())

    def not_found(self, request: SimRequest) -> SimResponse:
        return SimResponse({"code": -1000, "msg": f"Unknown path {request.path}."}, status=404)

    # -- authentication ---------------------------------------------------------------------------

    def _signed(self, request: SimRequest) -> tuple[Account, dict[str, str]]:
        """The caller's account and parameters, once key, signature and timestamp check out."""
        key = request.header("X-MBX-APIKEY")
        if not key:
            raise SimError(-2014, "API-key format invalid.", 401)
        account = self.exchange_state.accounts.get(key)
        if account is None:
            raise SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        params = {**request.form, **request.query}  # the query string wins on a clash
        sig = params.get("signature")
        if not sig:
            raise missing("signature")
        if not params.get("timestamp"):
            raise missing("timestamp")
        payload = _strip_signature(request.query_string) + _strip_signature(request.body)
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sig.isascii() or not hmac.compare_digest(expected, sig.lower()):
            raise SimError(-1022, "Signature for this request is not valid.")
        try:
            stamp = int(params["timestamp"])
            window = Decimal(params.get("recvWindow") or 5000)
        except (ValueError, ArithmeticError):
            raise SimError(-1100, "Illegal characters found in parameter 'timestamp'.") from None
        if window > 60000 or window <= 0:
            raise SimError(-1131, "recvWindow must be less than 60000")
        server = self.now_ms()
        if stamp >= server + 1000:
            raise SimError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if server - stamp > window:
            raise SimError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return account, params

    # -- public -----------------------------------------------------------------------------------

    @route("GET", "/api/v3/ping")
    def ping(self, request: SimRequest) -> Any:
        return {}

    @route("GET", "/api/v3/time")
    def time(self, request: SimRequest) -> Any:
        return {"serverTime": self.now_ms()}

    @route("GET", "/sapi/v1/system/status")
    def system(self, request: SimRequest) -> Any:
        return {"status": self.system_status[0], "msg": self.system_status[1]}

    @route("GET", "/api/v3/exchangeInfo")
    def exchange_info(self, request: SimRequest) -> Any:
        wanted = self._symbols(request.params)
        return {
            "timezone": "UTC",
            "serverTime": self.now_ms(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": self.weights.weight_limit,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            "exchangeFilters": [],
            "symbols": [self.markets[s].info() for s in wanted],
        }

    def _symbols(self, params: dict[str, str]) -> list[str]:
        if params.get("symbol"):
            return [self.exchange_state.market(params["symbol"]).symbol]
        if params.get("symbols"):
            raw = params["symbols"].strip("[]")
            names = [s.strip().strip('"') for s in raw.split(",") if s.strip()]
            return [self.exchange_state.market(n).symbol for n in names]
        return list(self.markets)

    @route("GET", "/api/v3/ticker/24hr")
    def ticker(self, request: SimRequest) -> Any:
        return self._tickers(request, lambda m: m.ticker(self.now_ms()))

    @route("GET", "/api/v3/ticker/bookTicker")
    def book_ticker(self, request: SimRequest) -> Any:
        return self._tickers(request, lambda m: m.book_ticker())

    def _tickers(self, request: SimRequest, build: Any) -> Any:
        params = request.params
        if params.get("symbol") and params.get("symbols"):
            raise SimError(-1128, "Combination of optional parameters invalid.")
        names = self._symbols(params)
        rows = [build(self.markets[n]) for n in names]
        return rows[0] if params.get("symbol") else rows

    @route("GET", "/api/v3/depth")
    def depth(self, request: SimRequest) -> Any:
        m = self.exchange_state.market(request.params.get("symbol"))
        limit = min(int(request.params.get("limit") or 100), 5000)
        return self.depth_snapshot(m.symbol, limit)  # the streamed book, with its update id

    @route("GET", "/api/v3/klines")
    def klines(self, request: SimRequest) -> Any:
        params = request.params
        m = self.exchange_state.market(params.get("symbol"))
        interval = params.get("interval")
        if not interval:
            raise missing("interval")
        if interval not in INTERVAL_MS:
            raise SimError(-1120, "Invalid interval.")
        limit = max(1, min(int(params.get("limit") or 500), 1000))
        start = int(params["startTime"]) if params.get("startTime") else None
        end = int(params["endTime"]) if params.get("endTime") else None
        return m.klines(interval, self.now_ms(), start, end, limit)

    @route("GET", "/api/v3/trades")
    def trades(self, request: SimRequest) -> Any:
        m = self.exchange_state.market(request.params.get("symbol"))
        limit = max(1, min(int(request.params.get("limit") or 500), 1000))
        return m.trades(self.now_ms(), limit)

    # -- private ----------------------------------------------------------------------------------

    @route("GET", "/api/v3/account")
    def account(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.now_ms(),
            "accountType": "SPOT",
            "balances": account.snapshot(params.get("omitZeroBalances") == "true"),
            "permissions": ["SPOT"],
            "uid": 354937868,
        }

    @route("GET", "/api/v3/openOrders")
    def open_orders(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.open_orders(account, params.get("symbol"))

    @route("GET", "/api/v3/allOrders")
    def all_orders(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.all_orders(account, params)

    @route("GET", "/api/v3/order")
    def query_order(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.find(account, params)

    @route("POST", "/api/v3/order")
    def new_order(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.place(account, params, self.now_ms(), test=False)

    @route("POST", "/api/v3/order/test")
    def test_order(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.place(account, params, self.now_ms(), test=True)

    @route("DELETE", "/api/v3/order")
    def cancel_order(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.cancel(account, params, self.now_ms())

    @route("GET", "/api/v3/myTrades")
    def my_trades(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.exchange_state.my_trades(account, params)

    @route("POST", "/sapi/v1/convert/getQuote")
    def get_quote(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.convert.get_quote(account, params, self.now_ms())

    @route("POST", "/sapi/v1/convert/acceptQuote")
    def accept_quote(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.convert.accept(account, params, self.now_ms())

    @route("GET", "/sapi/v1/convert/orderStatus")
    def convert_status(self, request: SimRequest) -> Any:
        account, params = self._signed(request)
        return self.convert.status(account, params, self.now_ms())
