"""What the conformance suite checks this connector with, beyond its simulator.

``ERROR_CASES``: the error answers the exchange sends (from its API documentation), each with
the xest error it must become. ``RECORDED_CASES``: documented example answers, replayed over HTTP,
with the values each must parse to. For a real exchange, copy these from its API docs or from a
capture (with the account data blanked out).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from xest.models import Balance, Quote, ServerTime, Status
from xest.testing import ErrorCase, ExpectedRequest, RecordedCase


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _case(name, status, code, error, operation=None, path=None, keeps_code=True) -> ErrorCase:
    return ErrorCase(
        name=name,
        status=status,
        body=_error(code, name.replace("-", " ")),
        error=error,
        operation=operation,
        path=path,
        code=code if keeps_code else None,
    )


ERROR_CASES = [
    _case("invalid-key", 401, "INVALID_KEY", "AuthenticationError", "balances"),
    _case("bad-signature", 401, "INVALID_SIGNATURE", "AuthenticationError", "balances"),
    _case("no-trade-permission", 403, "PERMISSION_DENIED", "PermissionDenied", "place_order"),
    _case("timestamp-window", 400, "TIMESTAMP_OUT_OF_WINDOW", "InvalidNonce", "balances"),
    _case("insufficient-funds", 400, "INSUFFICIENT_FUNDS", "InsufficientFunds", "place_order"),
    _case("order-too-small", 400, "INVALID_ORDER", "InvalidOrder", "place_order"),
    _case("duplicate-client-id", 409, "DUPLICATE_CLIENT_ID", "DuplicateOrder", "place_order"),
    _case("unknown-order", 404, "ORDER_NOT_FOUND", "OrderNotFound", "order"),
    _case("cancel-closed-order", 400, "ORDER_CLOSED", "InvalidOrder", "cancel_order"),
    _case("unknown-market", 400, "UNKNOWN_MARKET", "BadSymbol", "ticker"),
    _case(
        "quote-expired",
        410,
        "QUOTE_EXPIRED",
        "QuoteExpired",
        "accept_quote",
        "/api/v1/quotes/accept",
    ),
    _case(
        "quote-used",
        409,
        "QUOTE_USED",
        "QuoteAlreadyExecuted",
        "accept_quote",
        "/api/v1/quotes/accept",
    ),
    # HTTP 429 is typed by the transport (with Retry-After) before the body is read.
    _case("rate-limited", 429, "RATE_LIMITED", "RateLimited", keeps_code=False),
    _case("maintenance", 503, "MAINTENANCE", "OnMaintenance"),
    _case("internal-error", 500, "INTERNAL", "ExchangeUnavailable"),
]

# -- recorded answers, as the API documentation shows them --------------------------------------

MARKETS_BODY = {
    "markets": [
        {
            "id": "BTC-USD",
            "base": "BTC",
            "quote": "USD",
            "tick": "0.1",
            "lot": "0.0001",
            "minSize": "0.0001",
            "minNotional": "5",
            "state": "open",
        },
        {
            "id": "ETH-BTC",
            "base": "ETH",
            "quote": "BTC",
            "tick": "0.00001",
            "lot": "0.001",
            "minSize": "0.001",
            "minNotional": "0.0001",
            "state": "halted",
        },
    ]
}
MARKETS = {"GET /api/v1/markets": MARKETS_BODY}
ORDER_BODY = (
    '{"id":"81234","clientId":"my-1","market":"BTC-USD","side":"buy","type":"limit",'
    '"status":"partial","size":"0.0500","filled":"0.0125","price":"41999.9","avgPrice":"41999.9",'
    '"tif":"GTC","created":1700000000123,"updated":1700000004567}'
)
T0 = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)  # 1700000000123 ms

RECORDED_CASES = [
    RecordedCase(
        name="status-maintenance",
        operation="status",
        responses={"/api/v1/status": {"status": "maintenance", "message": "upgrade until 12:00"}},
        values={"status": Status.MAINTENANCE, "message": "upgrade until 12:00"},
    ),
    RecordedCase(
        name="server-time",
        operation="server_time",
        responses={"/api/v1/time": '{"serverTime":1700000000123}'},
        expect=ServerTime(T0),
    ),
    RecordedCase(
        name="markets",
        operation="markets",
        responses=MARKETS,
        values={
            "0.symbol": "BTC/USD",
            "0.id": "BTC-USD",
            "0.price_step": Decimal("0.1"),
            "0.min_cost": Decimal("5"),
            "1.symbol": "ETH/BTC",
            "1.active": False,
            "1.price_step": Decimal("0.00001"),
        },
    ),
    RecordedCase(
        name="ticker",
        operation="ticker",
        args=("BTC/USD",),
        request=ExpectedRequest("GET", "/api/v1/ticker", {"market": "BTC-USD"}),
        responses=MARKETS
        | {
            "/api/v1/ticker": '{"market":"BTC-USD","bid":"43210.4","ask":"43210.6",'
            '"last":"43210.5","open":"42778.39","high":"44074.71","low":"41914.18",'
            '"volume":"1234.5678","time":1700000000123}'
        },
        values={
            "bid": Decimal("43210.4"),
            "ask": Decimal("43210.6"),
            "volume": Decimal("1234.5678"),
            "timestamp": T0,
        },
    ),
    RecordedCase(
        name="order-book",
        operation="order_book",
        args=("BTC/USD",),
        request=ExpectedRequest("GET", "/api/v1/book", {"market": "BTC-USD"}),
        responses=MARKETS
        | {
            "/api/v1/book": '{"market":"BTC-USD","bids":[["43210.4","0.5"],["43210.2","0.6"]],'
            '"asks":[["43210.6","0.4"],["43210.8","0.50"]],"time":1700000000123}'
        },
        values={
            "bids.0.price": Decimal("43210.4"),
            "bids.1.amount": Decimal("0.6"),
            "asks.0.price": Decimal("43210.6"),
            "asks.1.amount": Decimal("0.50"),
        },
    ),
    RecordedCase(
        name="candles",
        operation="candles",
        args=("BTC/USD", "1m"),
        request=ExpectedRequest("GET", "/api/v1/candles", {"market": "BTC-USD", "interval": "1m"}),
        responses=MARKETS
        | {
            "/api/v1/candles": '{"candles":[[1700000040000,"43200.1","43215.0","43190.3",'
            '"43210.5","3.25"]]}'
        },
        values={
            "0.open": Decimal("43200.1"),
            "0.high": Decimal("43215.0"),
            "0.low": Decimal("43190.3"),
            "0.close": Decimal("43210.5"),
            "0.open_time": datetime(2023, 11, 14, 22, 14, tzinfo=UTC),
        },
    ),
    RecordedCase(
        name="trades",
        operation="trades",
        args=("BTC/USD",),
        request=ExpectedRequest("GET", "/api/v1/trades", {"market": "BTC-USD"}),
        responses=MARKETS
        | {
            "/api/v1/trades": '{"trades":[{"id":501,"price":"43210.5","size":"0.0150",'
            '"side":"sell","time":1700000000123}]}'
        },
        values={
            "0.id": "501",
            "0.price": Decimal("43210.5"),
            "0.amount": Decimal("0.0150"),
            "0.side": "sell",
            "0.timestamp": T0,
        },
    ),
    RecordedCase(
        name="balances",
        operation="balances",
        request=ExpectedRequest("GET", "/api/v1/balances"),
        responses={
            "/api/v1/balances": '{"balances":[{"asset":"BTC","available":"1.25000000",'
            '"held":"0.75"},{"asset":"USD","available":"1000.5","held":"0"}]}'
        },
        expect={
            "BTC": Balance("BTC", Decimal("1.25"), Decimal("0.75"), id="BTC"),
            "USD": Balance("USD", Decimal("1000.5"), Decimal("0"), id="USD"),
        },
    ),
    RecordedCase(
        name="open-orders",
        operation="open_orders",
        request=ExpectedRequest("GET", "/api/v1/orders"),
        responses=MARKETS | {"/api/v1/orders": f'{{"orders":[{ORDER_BODY}]}}'},
        values={
            "0.id": "81234",
            "0.status": "partially_filled",
            "0.filled": Decimal("0.0125"),
            "0.price": Decimal("41999.9"),
            "0.client_id": "my-1",
        },
    ),
    RecordedCase(
        name="order",
        operation="order",
        args=("81234",),
        request=ExpectedRequest("GET", "/api/v1/order", {"id": "81234"}),
        responses=MARKETS | {"GET /api/v1/order": ORDER_BODY},
        values={
            "id": "81234",
            "symbol": "BTC/USD",
            "amount": Decimal("0.0500"),
            "created": T0,
            "time_in_force": "GTC",
        },
    ),
    RecordedCase(
        name="place-order",
        operation="place_order",
        args=("BTC/USD", "buy", "limit", Decimal("0.05"), Decimal("41999.9")),
        kwargs={"client_id": "my-1"},
        request=ExpectedRequest(
            "POST",
            "/api/v1/orders",
            {
                "market": "BTC-USD",
                "side": "buy",
                "type": "limit",
                "size": "0.05",
                "price": "41999.9",
                "clientId": "my-1",
            },
        ),
        responses=MARKETS | {"POST /api/v1/orders": ORDER_BODY},
        values={"id": "81234", "side": "buy", "type": "limit", "client_id": "my-1"},
    ),
    RecordedCase(
        name="cancel-order",
        operation="cancel_order",
        args=("81234",),
        request=ExpectedRequest("DELETE", "/api/v1/order", {"id": "81234"}),
        responses=MARKETS
        | {"DELETE /api/v1/order": ORDER_BODY.replace('"partial"', '"cancelled"')},
        values={"id": "81234", "status": "cancelled", "filled": Decimal("0.0125")},
    ),
    RecordedCase(
        name="quote",
        operation="quote",
        args=("BTC/USD", "buy", Decimal("0.01")),
        request=ExpectedRequest(
            "POST", "/api/v1/quotes", {"market": "BTC-USD", "side": "buy", "size": "0.01"}
        ),
        responses=MARKETS
        | {
            "/api/v1/quotes": '{"quoteId":"q77","market":"BTC-USD","side":"buy","size":"0.01",'
            '"price":"43210.6","cost":"432.106","createdAt":1700000000123,'
            '"expiresAt":1700000010123}'
        },
        values={
            "id": "q77",
            "price": Decimal("43210.6"),
            "cost": Decimal("432.106"),
            "expires_at": datetime(2023, 11, 14, 22, 13, 30, 123000, tzinfo=UTC),
        },
    ),
    RecordedCase(
        name="accept-quote",
        operation="accept_quote",
        args=(
            Quote(
                "q77",
                "BTC/USD",
                "buy",
                Decimal("0.01"),
                Decimal("43210.6"),
                Decimal("432.106"),
                datetime(2023, 11, 14, 22, 13, 30, tzinfo=UTC),
            ),
        ),
        request=ExpectedRequest("POST", "/api/v1/quotes/accept", {"quoteId": "q77"}),
        responses=MARKETS
        | {
            "/api/v1/quotes/accept": '{"id":"81235","clientId":null,"market":"BTC-USD",'
            '"side":"buy","type":"market","status":"filled","size":"0.01","filled":"0.01",'
            '"price":null,"avgPrice":"43210.6","tif":"IOC","created":1700000000123,'
            '"updated":1700000000123}'
        },
        values={
            "id": "81235",
            "status": "filled",
            "average_price": Decimal("43210.6"),
            "price": None,
        },
    ),
]
