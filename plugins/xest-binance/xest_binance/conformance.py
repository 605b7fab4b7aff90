"""What the conformance suite gets from this plugin: Binance's own error answers with the xest
error each becomes, and recorded answers (from Binance's documented examples, under
``payloads/``) with what they must parse to."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from xest.models import Quote, Side
from xest.testing import ErrorCase, ExpectedRequest, RecordedCase
from xest.testing.payloads import load_payload

SOURCE = "Binance spot API documentation (developers.binance.com), response examples"


@cache
def payload(name: str) -> Any:
    """A recorded payload, decoded like the transport does (exact Decimals and ints)."""
    return load_payload("xest_binance", name)


def _raw(name: str) -> Any:
    # JSON bodies re-served over HTTP: keep the exchange's strings as they were.
    return load_payload("xest_binance", name, exact=False)


def sample_quote(expires_ms: int = 1623319461670) -> Quote:
    """The quote of the documented getQuote example (sell 0.1 BTC for 3816.37 USDT)."""
    return Quote(
        id="12415572564",
        symbol="BTC/USDT",
        side=Side.SELL,
        amount=Decimal("0.1"),
        price=Decimal("38163.7"),
        cost=Decimal("3816.37"),
        expires_at=datetime.fromtimestamp(expires_ms / 1000, UTC),
    )


def error_cases() -> list[ErrorCase]:
    return [ErrorCase(**case) for case in _error_cases()]


def _error_cases() -> list[dict[str, Any]]:
    cases = []
    for case in _raw("errors"):
        entry = {k: case[k] for k in ("name", "status", "body", "error")}
        entry["headers"] = case.get("headers", {})
        if case["status"] not in (418, 429):
            # The transport answers 418/429 itself (HTTP status as code), before the body.
            entry["code"] = case["body"]["code"]
        cases.append(entry)
    quote_errors = [
        (
            "quote expired",
            {"code": 345103, "msg": "Quote has expired. Please request a new quote."},
            "QuoteExpired",
        ),
        (
            "quote already accepted",
            {"code": 345104, "msg": "Quote has already been accepted. Please request a new quote."},
            "QuoteAlreadyExecuted",
        ),
    ]
    for name, body, error in quote_errors:
        cases.append(
            {
                "name": name,
                "status": 400,
                "body": body,
                "error": error,
                "code": body["code"],
                "operation": "accept_quote",
                "kwargs": {"quote": sample_quote(2**42)},
                "path": "/sapi/v1/convert/acceptQuote",
            }
        )
    return cases


API = "/api/v3"
# What each case that trades or looks an order up must send (timestamp and signature aside).
REQUESTS = {
    "order book": ExpectedRequest("GET", f"{API}/depth", {"symbol": "ETHBTC"}),
    "recent trades": ExpectedRequest("GET", f"{API}/trades", {"symbol": "ETHBTC"}),
    "24hr ticker": ExpectedRequest("GET", f"{API}/ticker/24hr", {"symbol": "BNBBTC"}),
    "open orders with ids past 2**53": ExpectedRequest("GET", f"{API}/openOrders"),
    "closed orders": ExpectedRequest("GET", f"{API}/allOrders", {"symbol": "LTCBTC"}),
    "account trades": ExpectedRequest("GET", f"{API}/myTrades", {"symbol": "BNBBTC"}),
    "account balances": ExpectedRequest("GET", f"{API}/account"),
    "query order": ExpectedRequest("GET", f"{API}/order", {"symbol": "LTCBTC", "orderId": "1"}),
    "cancel order": ExpectedRequest("DELETE", f"{API}/order", {"symbol": "LTCBTC", "orderId": "4"}),
    "new order, FULL response": ExpectedRequest(
        "POST",
        f"{API}/order",
        {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "10", "price": None},
    ),
    "convert quote": ExpectedRequest(
        "POST",
        "/sapi/v1/convert/getQuote",
        {"fromAsset": "BTC", "toAsset": "USDT", "fromAmount": "0.1"},
    ),
    "convert accept and status": ExpectedRequest(
        "POST", "/sapi/v1/convert/acceptQuote", {"quoteId": "12415572564"}
    ),
}


def recorded_cases() -> list[RecordedCase]:
    return [RecordedCase(**case, request=REQUESTS.get(case["name"])) for case in _recorded_cases()]


def _recorded_cases() -> list[dict[str, Any]]:
    info = {"GET /api/v3/exchangeInfo": _raw("exchange_info")}
    d = Decimal
    return [
        {
            "name": "exchangeInfo filters",
            "operation": "markets",
            "responses": info,
            "values": {
                "0.symbol": "ETH/BTC",
                "0.id": "ETHBTC",
                "0.price_step": d("0.000001"),
                "0.min_amount": d("0.001"),
                "0.max_amount": d("100000"),
                "0.market_min_amount": d("0.001"),
                "0.min_cost": d("10"),
                "1.symbol": "BNB/BTC",
                "1.active": False,
                "1.status": "BREAK",
                "1.max_price": None,
                "1.min_cost": d("0.001"),
            },
            "source": SOURCE,
        },
        {
            "name": "server time",
            "operation": "server_time",
            "responses": {"GET /api/v3/time": _raw("time")},
            "values": {"time": datetime(2017, 7, 12, 2, 41, 59, 559000, UTC)},
            "source": SOURCE,
        },
        {
            "name": "system status",
            "operation": "status",
            "responses": {"GET /sapi/v1/system/status": _raw("system_status_maintenance")},
            "values": {"status": "maintenance", "message": "system_maintenance"},
            "source": SOURCE,
        },
        {
            "name": "order book",
            "operation": "order_book",
            "args": ("ETH/BTC",),
            "responses": {**info, "GET /api/v3/depth": _raw("depth")},
            "values": {
                "bids.0.price": d("4"),
                "bids.0.amount": d("431"),
                "asks.0.price": d("4.000002"),
                "id": "1027024",
            },
            "source": SOURCE,
        },
        {
            "name": "recent trades",
            "operation": "trades",
            "args": ("ETH/BTC",),
            "responses": {**info, "GET /api/v3/trades": _raw("trades")},
            "values": {
                "0.id": "28457",
                "0.price": d("4.000001"),
                "0.amount": d("12"),
                "0.side": "sell",
            },
            "source": SOURCE,
        },
        {
            "name": "klines",
            "operation": "candles",
            "args": ("ETH/BTC", "1d"),
            "responses": {**info, "GET /api/v3/klines": _raw("klines")},
            "values": {
                "0.open": d("0.0163479"),
                "0.high": d("0.8"),
                "0.low": d("0.015758"),
                "0.close": d("0.015771"),
                "0.volume": d("148976.11427815"),
                "0.count": 308,
            },
            "source": SOURCE,
        },
        {
            "name": "24hr ticker",
            "operation": "ticker",
            "args": ("BNB/BTC",),
            "responses": {**info, "GET /api/v3/ticker/24hr": _raw("ticker_24hr")},
            "values": {
                "bid": d("4"),
                "ask": d("4.000002"),
                "last": d("4.000002"),
                "volume": d("8913.3"),
                "vwap": d("0.29628482"),
            },
            "source": SOURCE,
        },
        {
            "name": "24hr tickers, several symbols in one call",
            "operation": "tickers",
            "args": (["BNB/BTC"],),
            "responses": {**info, "GET /api/v3/ticker/24hr": _raw("tickers_24hr")},
            "values": {"BNB/BTC.bid": d("4"), "BNB/BTC.high": d("100")},
            "source": SOURCE,
        },
        {
            "name": "closed orders",
            "operation": "closed_orders",
            "kwargs": {"symbol": "LTC/BTC"},
            "responses": {**info, "GET /api/v3/allOrders": _raw("all_orders")},
            "values": {"0.id": "2", "0.status": "filled", "0.average_price": d("0.1")},
            "check": _one_order,
            "source": SOURCE + " (second order marked filled)",
        },
        {
            "name": "account balances",
            "operation": "balances",
            "responses": {"GET /api/v3/account": _raw("account")},
            "values": {"BTC.free": d("4723846.89208129"), "LTC.locked": d("0")},
            "check": _no_zero_balances,
            "source": SOURCE,
        },
        {
            "name": "open orders with ids past 2**53",
            "operation": "open_orders",
            "responses": {**info, "GET /api/v3/openOrders": _raw("open_orders_big_ids")},
            "values": {
                "0.id": "9007199254740993",
                "0.symbol": "LTC/BTC",
                "0.status": "partially_filled",
                "0.filled": d("0.4"),
            },
            "source": SOURCE + " (order id raised past 2**53)",
        },
        {
            "name": "query order",
            "operation": "order",
            "args": ("1",),
            "kwargs": {"symbol": "LTC/BTC"},
            "responses": {**info, "GET /api/v3/order": _raw("query_order")},
            "values": {"id": "1", "client_id": "myOrder1", "price": d("0.1"), "status": "open"},
            "source": SOURCE,
        },
        {
            "name": "cancel order",
            "operation": "cancel_order",
            "args": ("4",),
            "kwargs": {"symbol": "LTC/BTC"},
            "responses": {**info, "DELETE /api/v3/order": _raw("cancel_order")},
            "values": {"id": "4", "status": "cancelled", "client_id": "myOrder1"},
            "source": SOURCE,
        },
        {
            "name": "account trades",
            "operation": "my_trades",
            "kwargs": {"symbol": "BNB/BTC"},
            "responses": {**info, "GET /api/v3/myTrades": _raw("my_trades")},
            "values": {
                "0.id": "28457",
                "0.order_id": "100234",
                "0.side": "buy",
                "0.fee": d("10.1"),
                "0.fee_asset": "BNB",
            },
            "source": SOURCE,
        },
        {
            "name": "new order, FULL response",
            "operation": "place_order",
            "args": ("BTC/USDT", "sell", "market", d("10")),
            "responses": {**info, "POST /api/v3/order": _raw("order_full")},
            "values": {
                "id": "28",
                "status": "filled",
                "filled": d("10"),
                "fee": d("39.983"),
                "fee_asset": "USDT",
            },
            "source": SOURCE,
        },
        {
            "name": "convert quote",
            "operation": "quote",
            "args": ("BTC/USDT", "sell", d("0.1")),
            "responses": {**info, "POST /sapi/v1/convert/getQuote": _raw("convert_get_quote")},
            "values": {
                "id": "12415572564",
                "price": d("38163.7"),
                "cost": d("3816.37"),
                "amount": d("0.1"),
            },
            "source": SOURCE,
        },
        {
            "name": "convert accept and status",
            "operation": "accept_quote",
            "args": (sample_quote(),),
            "responses": {
                "POST /sapi/v1/convert/acceptQuote": _raw("convert_accept_quote"),
                "GET /sapi/v1/convert/orderStatus": _raw("convert_order_status"),
            },
            "values": {
                "id": "933256278426274426",
                "status": "filled",
                "amount": d("0.00054414"),
                "symbol": "BTC/USDT",
            },
            "source": SOURCE,
        },
    ]


def _one_order(result: Any) -> None:
    assert len(result) == 1, "closed_orders() must leave out the open order"


def _no_zero_balances(result: Any) -> None:
    assert "BNB" not in result, "zero balances must be hidden by default"


CONFORMANCE_OPTIONS = {
    "symbol": "BTC/USDT",
    "order_amount": "0.001",
    "order_price": "40000",
    "quote_symbol": "BTC/USDT",
    "quote_side": "buy",
    "quote_amount": "0.01",
    "candle_interval": "1h",
}
