"""What the conformance suite gets from this plugin: Kraken's own error answers with the xest
error each becomes, and recorded answers (Kraken's documented examples, under ``payloads/``)
with what they must parse to."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xest.models import OrderStatus, OrderType, Quote, Side, Status, TimeInForce
from xest.testing import ErrorCase, ExpectedRequest, RecordedCase
from xest.testing.payloads import load_payload

SOURCE = "Kraken Spot REST API documentation (docs.kraken.com), response examples"
D = Decimal


def payload(name: str) -> Any:
    """A recorded answer, decoded like the transport does (exact Decimals and ints)."""
    return load_payload("xest_kraken", name)


def raw(name: str) -> Any:
    """A recorded answer as plain JSON values, to be served again over HTTP."""
    return load_payload("xest_kraken", name, exact=False)


# Kraken answers these with HTTP 200: the error is in the envelope.
ERRORS: tuple[tuple[str, str], ...] = (
    ("EAPI:Invalid key", "AuthenticationError"),
    ("EAPI:Invalid signature", "AuthenticationError"),
    ("EAPI:Invalid nonce", "InvalidNonce"),
    ("EGeneral:Permission denied", "PermissionDenied"),
    ("EOrder:Insufficient funds", "InsufficientFunds"),
    ("EOrder:Unknown order", "OrderNotFound"),
    ("EOrder:Order minimum not met", "InvalidOrder"),
    ("EOrder:Cost minimum not met", "InvalidOrder"),
    ("EGeneral:Invalid arguments", "InvalidOrder"),
    ("EGeneral:Invalid arguments:volume", "InvalidOrder"),
    ("EQuery:Unknown asset pair", "BadSymbol"),
    ("EAPI:Rate limit exceeded", "RateLimited"),
    ("EOrder:Rate limit exceeded", "RateLimited"),
    ("EGeneral:Too many requests", "RateLimited"),
    ("EService:Throttled", "RateLimited"),
    ("EService:Unavailable", "ExchangeUnavailable"),
    ("EService:Busy", "ExchangeUnavailable"),
    ("EGeneral:Temporary lockout", "ExchangeUnavailable"),
    ("EService:Market in cancel_only mode", "OnMaintenance"),
    ("EGeneral:Something new", "ExchangeError"),
)


def error_cases() -> list[ErrorCase]:
    return [
        ErrorCase(name=text, body={"error": [text]}, error=error, code=text)
        for text, error in ERRORS
    ]


def _doc_quote() -> Quote:
    """A quote to accept against the documented AddOrder answer (buy 1.45 BTC at 27500)."""
    return Quote(
        id="0b7a4c1e-3f5d-4e2a-9c8b-6d1e2f3a4b5c",
        symbol="BTC/USD",
        side=Side.BUY,
        amount=D("1.45"),
        price=D("27500.0"),
        cost=D("39875.0"),
        expires_at=datetime(2100, 1, 1, tzinfo=UTC),
    )


PRIVATE = "/0/private"
# What each case that trades or looks an order up must send (nonce and signature aside).
REQUESTS = {
    "Ticker": ExpectedRequest("GET", "/0/public/Ticker", {"pair": "XXBTZUSD"}),
    "Depth": ExpectedRequest("GET", "/0/public/Depth", {"pair": "XXBTZUSD"}),
    "Trades": ExpectedRequest("GET", "/0/public/Trades", {"pair": "XXBTZUSD"}),
    "OpenOrders": ExpectedRequest("POST", f"{PRIVATE}/OpenOrders"),
    "ClosedOrders": ExpectedRequest("POST", f"{PRIVATE}/ClosedOrders"),
    "TradesHistory": ExpectedRequest("POST", f"{PRIVATE}/TradesHistory"),
    "BalanceEx": ExpectedRequest("POST", f"{PRIVATE}/BalanceEx"),
    "QueryOrders": ExpectedRequest(
        "POST", f"{PRIVATE}/QueryOrders", {"txid": "OBCMZD-JIEE7-77TH3F"}
    ),
    "AddOrder": ExpectedRequest(
        "POST",
        f"{PRIVATE}/AddOrder",
        {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "1.45", "price": "27500"},
    ),
    "CancelOrder": ExpectedRequest(
        "POST", f"{PRIVATE}/CancelOrder", {"txid": "OMMDB2-FSB6Z-7W3HPO"}
    ),
    "Quote from Depth": ExpectedRequest("GET", "/0/public/Depth", {"pair": "XXBTZUSD"}),
    "Quote accepted with AddOrder": ExpectedRequest(
        "POST",
        f"{PRIVATE}/AddOrder",
        {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "volume": "1.45",
            "price": "27500",
            "timeinforce": "IOC",
        },
    ),
}


def recorded_cases() -> list[RecordedCase]:
    pairs = {"GET /0/public/AssetPairs": raw("asset_pairs")}

    def case(
        name: str,
        operation: str,
        responses: dict[str, str],
        values: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> RecordedCase:
        served = {**pairs, **{k: raw(v) for k, v in responses.items()}}
        return RecordedCase(
            name=name,
            operation=operation,
            responses=served,
            values=values,
            args=args,
            kwargs=kwargs,
            source=SOURCE,
            request=REQUESTS.get(name),
        )

    return [
        case(
            "SystemStatus",
            "status",
            {"GET /0/public/SystemStatus": "system_status"},
            {"status": Status.ONLINE, "updated": datetime(2023, 7, 6, 18, 52, tzinfo=UTC)},
        ),
        case(
            "Time",
            "server_time",
            {"GET /0/public/Time": "time"},
            {"time": datetime(2023, 7, 6, 18, 50, 48, tzinfo=UTC)},
        ),
        case(
            "AssetPairs",
            "markets",
            {},
            {
                "0.symbol": "ETH/BTC",
                "0.id": "XETHXXBT",
                "0.price_step": D("0.00001"),
                "0.amount_step": D("0.00000001"),
                "0.min_amount": D("0.01"),
                "0.min_cost": D("0.00002"),
                "1.symbol": "BTC/USD",
                "1.ids.altname": "XBTUSD",
                "1.ids.wsname": "XBT/USD",
                "1.cost_step": D("0.00001"),
            },
        ),
        case(
            "Ticker",
            "ticker",
            {"GET /0/public/Ticker": "ticker"},
            {
                "bid": D("30300.00000"),
                "ask": D("30300.10000"),
                "last": D("30303.20000"),
                "open": D("30502.80000"),
                "high": D("31631.00000"),
                "low": D("29868.30000"),
                "volume": D("4412.73601799"),
                "vwap": D("30689.13205"),
            },
            "BTC/USD",
        ),
        case(
            "Depth",
            "order_book",
            {"GET /0/public/Depth": "depth"},
            {
                "bids.0.price": D("30297.00000"),
                "bids.0.amount": D("1.115"),
                "asks.0.price": D("30384.10000"),
                "asks.2.amount": D("9.871"),
            },
            "BTC/USD",
        ),
        case(
            "OHLC",
            "candles",
            {"GET /0/public/OHLC": "ohlc"},
            {
                "0.open_time": datetime.fromtimestamp(1688671200, UTC),
                "0.open": D("30306.1"),
                "0.vwap": D("30306.1"),
                "0.volume": D("3.39243896"),
                "3.close": D("30295.0"),
                "3.count": 9,
            },
            "BTC/USD",
            "1m",
        ),
        case(
            "Trades",
            "trades",
            {"GET /0/public/Trades": "trades"},
            {
                "0.price": D("30243.40000"),
                "0.side": Side.BUY,
                "0.id": "61044952",
                "1.side": Side.SELL,
                "2.amount": D("0.01235716"),
            },
            "BTC/USD",
        ),
        case(
            "BalanceEx",
            "balances",
            {"POST /0/private/BalanceEx": "balance_ex"},
            {
                "USD.free": D("17185.45"),
                "USD.locked": D("8249.76"),
                "USD.id": "ZUSD",
                "BTC.free": D("0.4012"),
                "BTC.locked": D("0.8423"),
            },
        ),
        case(
            "OpenOrders",
            "open_orders",
            {"POST /0/private/OpenOrders": "open_orders"},
            {
                "0.id": "OB5VMB-B4U2U-DK2WRW",
                "0.status": OrderStatus.OPEN,
                "1.id": "OQCLML-BW3P3-BUCMWZ",
                "1.status": OrderStatus.PARTIALLY_FILLED,
                "1.filled": D("0.375"),
                "1.price": D("30010.0"),
                "1.symbol": "BTC/USD",
            },
        ),
        case(
            "ClosedOrders",
            "closed_orders",
            {"POST /0/private/ClosedOrders": "closed_orders"},
            {
                "0.id": "O37652-RJWRT-IMO74O",
                "0.symbol": "BTC/GBP",
                "0.status": OrderStatus.CANCELLED,
                "1.symbol": "BTC/EUR",
            },
        ),
        case(
            "QueryOrders",
            "order",
            {"POST /0/private/QueryOrders": "query_orders"},
            {
                "status": OrderStatus.FILLED,
                "filled": D("1.25"),
                "average_price": D("27500.0"),
                "fee": D("26.2"),
                "fee_asset": "USD",
            },
            "OBCMZD-JIEE7-77TH3F",
        ),
        case(
            "TradesHistory",
            "my_trades",
            {"POST /0/private/TradesHistory": "trades_history"},
            {
                "0.id": "TCWJEG-FL4SZ-3FKGH6",
                "0.amount": D("0.01"),
                "1.order_id": "OQCLML-BW3P3-BUCMWZ",
                "1.price": D("30010.00000"),
            },
        ),
        case(
            "AddOrder",
            "place_order",
            {"POST /0/private/AddOrder": "add_order"},
            {
                "id": "OU22CG-KLAF2-FWUDD7",
                "symbol": "BTC/USD",
                "side": Side.BUY,
                "status": OrderStatus.PENDING,
                "price": D("27500.0"),
            },
            "BTC/USD",
            "buy",
            "limit",
            D("1.45"),
            D("27500.0"),
        ),
        case(
            "Ticker (several pairs)",
            "tickers",
            {"GET /0/public/Ticker": "ticker"},
            {"BTC/USD.bid": D("30300.00000"), "BTC/USD.id": "XXBTZUSD"},
            ["BTC/USD"],
        ),
        case(
            "CancelOrder",
            "cancel_order",
            {
                "POST /0/private/CancelOrder": "cancel_order",
                "POST /0/private/QueryOrders": "query_orders",
            },
            {"id": "OMMDB2-FSB6Z-7W3HPO", "symbol": "BTC/USD"},
            "OMMDB2-FSB6Z-7W3HPO",
        ),
        case(
            "Quote from Depth",
            "quote",
            {"GET /0/public/Depth": "depth", "GET /0/public/Time": "time"},
            {
                "price": D("30387.90000"),
                "cost": D("91163.70000"),
                "amount": D("3"),
                "side": Side.BUY,
            },
            "BTC/USD",
            "buy",
            D("3"),
        ),
        case(
            "Quote accepted with AddOrder",
            "accept_quote",
            {
                "GET /0/public/Time": "time",
                "POST /0/private/OpenOrders": "open_orders",
                "POST /0/private/ClosedOrders": "closed_orders",
                "POST /0/private/AddOrder": "add_order",
                "POST /0/private/QueryOrders": "query_orders",
            },
            {
                "id": "OU22CG-KLAF2-FWUDD7",
                "type": OrderType.LIMIT,
                "time_in_force": TimeInForce.IOC,
                "price": D("27500.0"),
            },
            _doc_quote(),
        ),
    ]


CONFORMANCE_OPTIONS: dict[str, Any] = {
    "symbol": "BTC/USD",
    "order_amount": D("0.001"),
    "order_price": D("20000.0"),  # well below the simulated book (mid 30000): it rests
    "quote_symbol": "BTC/USD",
    "quote_side": "buy",
    "quote_amount": D("0.01"),
    "candle_interval": "1h",
}
