"""The second-edition connector contract: template methods in the base Connector (checks once,
small hooks), the clock owned by the transport (Date header for exchanges without a time
endpoint), and the core helpers connectors share (error table, market index, wire digits)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from xest import errors
from xest.connector import Connector, OrderRequest
from xest.credentials import Credentials
from xest.http import Endpoint, plain_decimal, wire_value
from xest.markets import MarketIndex
from xest.models import Candle, Market, Order, OrderStatus, Quote, Side, TimeInForce
from xest.testing.server import LoopbackServer, SimRequest, SimResponse, route

D = Decimal
KEY, SECRET = "pk-key", "pk-secret"

MARKETS = Endpoint("markets", "GET", "/api/markets/", ttl=60)
CANDLES = Endpoint("candles", "GET", "/api/candles/{pair}/{step}/")
BUY = Endpoint("buy", "POST", "/api/{side}/{pair}/", signed=True)
BALANCE = Endpoint("balance", "POST", "/api/balance/", signed=True, retry=True)
TABLE = errors.ErrorTable(
    "pathex",
    exact={"API_TIMESTAMP": (errors.InvalidNonce, "xest re-reads the clock")},
    prefixes=[("ORDER_", errors.InvalidOrder, "fix the order")],
)


class PathSim(LoopbackServer):
    """Pairs in the path, no time endpoint, timestamps checked within 5 s of its own clock."""

    exchange = "pathex"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.orders: list[dict] = []

    @route("GET", "/api/markets/")
    def markets(self, request: SimRequest):
        return [{"pair": "btcusd", "base": "BTC", "quote": "USD", "alt": "XBT-USD"}]

    @route("GET", "/api/candles/{pair}/{step}/")
    def candles(self, request: SimRequest):
        p = request.path_params
        return [[1700000000, "1", "2", "0.5", "1.5", "10", p["pair"], p["step"]]]

    def _refused(self, request: SimRequest) -> SimResponse | None:
        stamp = int(request.form.get("timestamp", "0"))
        if abs(stamp / 1000 - self.now()) > 5:
            return SimResponse({"code": "API_TIMESTAMP", "reason": "stale"}, status=400)
        text = f"{request.method}{request.path}{request.body.split('&sig=')[0]}"
        good = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
        if request.form.get("sig") != good:
            return SimResponse({"code": "API_SIGNATURE", "reason": "bad"}, status=403)
        return None

    @route("POST", "/api/{side}/{pair}/")
    def buy(self, request: SimRequest):
        if refused := self._refused(request):
            return refused
        self.orders.append(request.params)
        return {"id": str(len(self.orders)), **request.form}

    @route("POST", "/api/balance/")
    def balance(self, request: SimRequest):
        return self._refused(request) or {"usd": "100"}


class PathConnector(Connector):
    exchange = "pathex"
    capabilities = frozenset({"server_time", "markets", "candles", "place_order", "balances"})
    candle_intervals = {"1m": 60, "1h": 3600}
    order_time_in_force = frozenset({TimeInForce.GTC})
    date_endpoint = MARKETS  # no time endpoint: the Date header of a cheap GET

    def sign(self, request, credentials, context):
        request.params["timestamp"] = str(context.timestamp_ms())
        body = "&".join(f"{k}={v}" for k, v in request.params.items())
        text = f"{request.method}{request.path}{body}"
        sig = hmac.new(credentials.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        request.body = f"{body}&sig={sig}"

    def check_response(self, response):
        if isinstance(response.data, dict) and "code" in response.data:
            raise TABLE.error(response.data["code"], f"pathex says {response.data['reason']}")

    def markets(self):
        return [
            Market(
                f"{m['base']}/{m['quote']}",
                m["pair"],
                m["base"],
                m["quote"],
                price_step=D("0.01"),
                amount_step=D("0.001"),
                ids={"alt": m["alt"]},
            )
            for m in self.request(MARKETS)
        ]

    def fetch_candles(self, market, interval, since, limit):
        code = self.candle_intervals[interval]
        rows = self.request(CANDLES, {"pair": market.id, "step": code, "limit": limit})
        return [
            Candle(
                market.symbol,
                interval,
                datetime.fromtimestamp(t, UTC),
                o,
                h,
                lo,
                c,
                v,
                raw=[pair, step],
            )
            for t, o, h, lo, c, v, pair, step in rows
        ]

    def create_order(self, request: OrderRequest, market: Market) -> Order:
        assert isinstance(request, OrderRequest)  # the hook gets checked, typed values
        params = {
            "side": request.side.value,
            "pair": market.id,
            "amount": request.amount,
            "price": request.price,
            "client": request.client_id,
        }
        data = self.request(BUY, params)
        return Order(
            id=data["id"],
            symbol=market.symbol,
            side=request.side,
            type=request.type,
            status=OrderStatus.OPEN,
            amount=data["amount"],
            price=data.get("price"),
            client_id=data["client"],
            raw=data,
        )

    def balances(self):
        return self.request(BALANCE)


@pytest.fixture
def sim():
    with PathSim(clock_offset=300.0) as server:  # 5 minutes ahead of us
        yield server


@pytest.fixture
def pathex(sim):
    return PathConnector.create(sim.url, Credentials(KEY, SECRET, "t"), cache=False)


def test_no_time_endpoint_the_clock_comes_from_the_date_header(pathex, sim):
    reading = pathex.server_time()
    assert reading.resolution == timedelta(seconds=1) and "date" in reading.raw
    estimate = pathex.transport.clock.now()
    assert abs(estimate.offset - 300) < 1.5  # whole seconds: the error bound says so
    assert 0.5 <= estimate.error < 1.5


def test_signed_calls_use_the_remote_clock_from_the_first_call(pathex, sim):
    # The exchange's clock is 300 s ahead: signing with ours would be refused forever.
    assert pathex.balances() == {"usd": "100"}
    assert sim.hits["/api/markets/"] == 1  # one reading of the Date header, before signing


def test_a_refused_timestamp_resyncs_and_a_safe_call_is_sent_again(pathex, sim):
    pathex.server_time()
    sim.clock_offset = 600.0  # the exchange's clock steps
    assert pathex.balances() == {"usd": "100"}
    assert sim.hits["/api/balance/"] == 2 and sim.hits["/api/markets/"] == 2


def test_place_order_checks_rounds_and_calls_the_hook(pathex, sim):
    order = pathex.place_order("BTC/USD", "BUY", "limit", "0.12345", "100.004")
    assert (order.amount, order.price) == (D("0.123"), D("100.00"))
    assert order.client_id  # every placement carries one
    assert sim.orders[-1]["side"] == "buy" and sim.orders[-1]["pair"] == "btcusd"
    # By any exchange name, too.
    assert pathex.place_order("XBT-USD", "sell", "market", D("1")).symbol == "BTC/USD"


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        (("BTC/USD", "hold", "limit", "1", "1"), {}, "side"),
        (("BTC/USD", "buy", "stop", "1", "1"), {}, "type"),
        (("BTC/USD", "buy", "limit", 0.5, "1"), {}, "float"),
        (("BTC/USD", "buy", "limit", "-1", "1"), {}, "positive"),
        (("BTC/USD", "buy", "limit", "1"), {}, "needs a price"),
        (("BTC/USD", "buy", "market", "1", "5"), {}, "takes no price"),
        (("BTC/USD", "buy", "market", "1"), {"time_in_force": "IOC"}, "no time in force"),
        (("BTC/USD", "buy", "limit", "1", "5"), {"time_in_force": "IOC"}, "GTC, not IOC"),
        (("BTC/USD", "buy", "limit", "1", "5"), {"time_in_force": "soon"}, "time in force"),
        (("BTC/USD", "buy", "limit", "0.0001", "5"), {}, "amount step"),
    ],
)
def test_place_order_refuses_before_sending(pathex, sim, args, kwargs, words):
    with pytest.raises(errors.InvalidOrder, match=words):
        pathex.place_order(*args, **kwargs)
    assert sim.orders == []
    with pytest.raises(errors.BadSymbol):
        pathex.place_order("DOGE/USD", "buy", "market", "1")


def test_candles_intervals_are_a_mapping_checked_in_the_base(pathex, sim):
    [candle] = pathex.candles("BTC/USD", "1h", limit=2)
    assert candle.raw == ["btcusd", "3600"]  # the exchange's code, in the path
    with pytest.raises(errors.BadRequest, match="1m, 1h"):
        pathex.candles("BTC/USD", "5m")
    with pytest.raises(errors.BadRequest, match="limit"):
        pathex.candles("BTC/USD", "1m", limit=0)
    assert sim.hits["/api/candles/btcusd/60/"] == 0


def test_quote_checks_side_and_amount_before_the_hook():
    seen = []

    class Quoting(Connector):
        exchange = "quoting"
        capabilities = frozenset({"quote"})

        def market_index(self, *, refresh=False):
            return MarketIndex([Market("BTC/USD", "btcusd", "BTC", "USD")])

        def create_quote(self, market, side, amount, valid_for):
            seen.append((market.id, side, amount))
            now = datetime.now(UTC)
            return Quote("q", market.symbol, side, amount, D(1), amount, now, now)

    q = Quoting(transport=None)
    assert q.quote("btcusd", "BUY", "2").amount == D(2)
    assert seen == [("btcusd", Side.BUY, D(2))]
    for side, amount, words in [
        ("hold", "1", "side"),
        ("buy", "0", "positive"),
        ("buy", 1.5, "float"),
    ]:
        with pytest.raises(errors.InvalidQuote, match=words):
            q.quote("BTC/USD", side, amount)
    assert len(seen) == 1


def test_a_declared_operation_needs_its_method_or_its_hook():
    class Empty(Connector):
        exchange = "empty"
        capabilities = frozenset({"server_time", "place_order", "candles", "status"})

    assert Empty.unimplemented() == ["candles", "place_order", "server_time", "status"]
    assert PathConnector.unimplemented() == []


def test_first_edition_server_time_overrides_still_feed_the_clock(sim):
    class Old(Connector):
        exchange = "old"
        capabilities = frozenset({"server_time"})

        def server_time(self):
            from xest.models import ServerTime

            return ServerTime(datetime.now(UTC) + timedelta(seconds=42))

    old = Old.create(sim.url)
    old.server_time()
    assert abs(old.transport.clock.now().offset - 42) < 0.5


def test_error_table_exact_then_longest_prefix_then_default():
    table = errors.ErrorTable(
        "x",
        exact={-2010: (errors.InsufficientFunds, "add funds")},
        prefixes=[
            ("EOrder:", errors.InvalidOrder, "fix it"),
            ("EOrder:Unknown", errors.OrderNotFound, "check the id"),
        ],
    )
    assert table.classify(-2010) == (errors.InsufficientFunds, "add funds")
    assert table.classify("EOrder:Unknown order")[0] is errors.OrderNotFound
    assert table.classify("EOrder:Bad")[0] is errors.InvalidOrder
    assert table.classify("Else")[0] is errors.ExchangeError and "Else" not in table
    error = table.error("EOrder:Bad", "x says no")
    assert isinstance(error, errors.InvalidOrder) and error.code == "EOrder:Bad"
    assert str(error) == "x: x says no: fix it"


def test_market_index_finds_any_name_symbol_first():
    a = Market("BTC/USD", "XXBTZUSD", "BTC", "USD", ids={"altname": "XBTUSD", "ws": "XBT/USD"})
    b = Market("XBT/USD", "XBTUSD2", "XBT", "USD")
    index = MarketIndex([a, b])
    assert index.get("XBTUSD") is a and index.get("XBT/USD") is b  # a symbol beats a name
    assert index.get("XXBTZUSD") is a and index.get("nope") is None
    assert len(index) == 2 and list(index) == [a, b]


def test_market_ids_is_a_mapping_and_a_set_is_refused_clearly():
    with pytest.raises(TypeError, match="map the kind of each name"):
        Market("BTC/USD", "x", "BTC", "USD", ids=frozenset({"XBTUSD"}))
    assert Market("BTC/USD", "x", "BTC", "USD", ids=[("alt", "y")]).ids == {"alt": "y"}


@pytest.mark.parametrize(
    ("value", "text"),
    [("1E-8", "0.00000001"), ("1.500", "1.5"), ("1E+3", "1000"), ("-0.0", "0"), ("42", "42")],
)
def test_plain_decimal_never_uses_an_exponent(value, text):
    assert plain_decimal(D(value)) == text
    assert wire_value(D(value)) == text


def test_wire_value_refuses_floats_and_spells_booleans():
    assert (wire_value(True), wire_value(False), wire_value(7)) == ("true", "false", "7")
    with pytest.raises(TypeError, match="float"):
        wire_value(0.1)


def test_create_gives_connector_options_to_the_connector_and_the_rest_to_the_transport():
    class Optioned(Connector):
        exchange = "optioned"

        def __init__(self, transport, credentials=None, *, depth_cap: int = 5):
            super().__init__(transport, credentials)
            self.depth_cap = depth_cap

    made = Optioned.create("http://127.0.0.1:9", depth_cap=9, cache=False, read_timeout=3.0)
    assert made.depth_cap == 9
    assert (made.transport.cache_enabled, made.transport.read_timeout) == (False, 3.0)
    assert made.transport.clock is not None
