"""Binance JSON → :mod:`xest.models`.

Numbers arrive as strings (prices, quantities) or exact JSON integers (ids, millisecond times);
JSON is decoded with ``parse_float=Decimal`` so nothing passes through a float. Ids are kept as
strings in the models: Binance order ids exceed 2**53, where JavaScript-style doubles would lose
digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import compress, repeat
from operator import add, eq, gt, truediv
from typing import Any

from xest.models import (
    Balance,
    Candle,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    PublicTrade,
    Quote,
    Side,
    Ticker,
    Trade,
    price_levels,
    steady_times,
    to_decimal,
    to_decimals,
    unify_symbol,
)
from xest.models import candles as bulk_candles
from xest.models import public_trades as bulk_public_trades
from xest_binance.markets import market_limits

_PLACES = Decimal("1E-12")
_ZERO = Decimal(0)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A derived price (average, vwap), exact when the division is, else to 12 places."""
    value = numerator / denominator
    return value.quantize(_PLACES) if value.as_tuple().exponent < -12 else value  # type: ignore[operator]


ORDER_STATUS = {
    "NEW": OrderStatus.OPEN,
    "PENDING_NEW": OrderStatus.PENDING,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "PENDING_CANCEL": OrderStatus.OPEN,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}

# Binance's order types folded onto xest's two: stops trigger into a market or limit order.
ORDER_TYPE = {
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS_LIMIT": OrderType.LIMIT,
    "TAKE_PROFIT_LIMIT": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LOSS": OrderType.MARKET,
    "TAKE_PROFIT": OrderType.MARKET,
}

CONVERT_STATUS = {
    "PROCESS": OrderStatus.PENDING,
    "ACCEPT_SUCCESS": OrderStatus.PENDING,
    "SUCCESS": OrderStatus.FILLED,
    "FAIL": OrderStatus.REJECTED,
}


def ms(value: Any) -> datetime:
    """A Binance millisecond timestamp as an aware UTC datetime, exactly (no float rounding)."""
    millis = int(value)
    seconds, rest = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_many(values: list[Any]) -> list[datetime]:
    """Many millisecond timestamps, as :func:`ms` makes them, in C loops when they are ints."""
    steady = steady_times(values, 1000)  # candles' open times: evenly spaced
    if steady is not None:
        return steady
    if set(map(type, values)) <= {int}:
        deltas = map(timedelta, repeat(0), repeat(0), repeat(0), values)  # milliseconds
        return list(map(add, repeat(_EPOCH), deltas))
    return [ms(v) for v in values]


def to_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: give a timezone-aware datetime")
    return int(when.timestamp() * 1000)


def _positive_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    number = to_decimal(value)
    return number if number > 0 else None


def market(data: Mapping[str, Any]) -> Market:
    """One entry of exchangeInfo ``symbols``."""
    status = str(data.get("status", ""))
    return Market(
        symbol=unify_symbol(data["baseAsset"], data["quoteAsset"]),
        id=data["symbol"],
        base=data["baseAsset"],
        quote=data["quoteAsset"],
        base_id=data["baseAsset"],
        quote_id=data["quoteAsset"],
        active=status == "TRADING",
        status=status,
        raw=data,
        **market_limits(data.get("filters", ())),
    )


def markets(data: Mapping[str, Any]) -> list[Market]:
    return [market(s) for s in data.get("symbols", ())]


def ticker(symbol: str, data: Mapping[str, Any]) -> Ticker:
    """A 24 hr ticker (``/api/v3/ticker/24hr``) or a book ticker (``/ticker/bookTicker``)."""
    close_time = data.get("closeTime")
    return Ticker(
        symbol=symbol,
        id=data.get("symbol", ""),
        bid=_positive_or_none(data.get("bidPrice")),
        ask=_positive_or_none(data.get("askPrice")),
        last=data.get("lastPrice"),
        open=data.get("openPrice"),
        high=data.get("highPrice"),
        low=data.get("lowPrice"),
        volume=data.get("volume"),
        quote_volume=data.get("quoteVolume"),
        vwap=data.get("weightedAvgPrice"),
        timestamp=ms(close_time) if close_time is not None else None,
        raw=data,
    )


def order_book(symbol: str, data: Mapping[str, Any]) -> OrderBook:
    return OrderBook(
        symbol=symbol,
        # Validated column by column (xest.models.price_levels), not level by level.
        bids=price_levels(data.get("bids", ())),
        asks=price_levels(data.get("asks", ())),
        id=str(data.get("lastUpdateId", "")),
        raw=data,
    )


def candle(symbol: str, interval: str, row: list[Any]) -> Candle:
    """One kline: [open time, open, high, low, close, volume, close time, quote volume, count,
    taker buy base volume, taker buy quote volume, ignore]."""
    volume = to_decimal(row[5])
    quote_volume = to_decimal(row[7]) if len(row) > 7 else None
    vwap = ratio(quote_volume, volume) if quote_volume is not None and volume > 0 else None
    return Candle(
        symbol=symbol,
        interval=interval,
        open_time=ms(row[0]),
        open=row[1],
        high=row[2],
        low=row[3],
        close=row[4],
        volume=volume,
        vwap=vwap,
        count=int(row[8]) if len(row) > 8 else None,
        raw=row,
    )


def candles(symbol: str, interval: str, rows: list[list[Any]]) -> list[Candle]:
    """Many klines at once (see :func:`candle`), checked column by column."""
    if not rows or set(map(len, rows)) != {12}:
        return [candle(symbol, interval, row) for row in rows]
    columns = list(zip(*rows, strict=True))
    volumes = to_decimals(columns[5])
    return bulk_candles(
        symbol,
        interval,
        open_times=ms_many(list(columns[0])),
        opens=list(columns[1]),
        highs=list(columns[2]),
        lows=list(columns[3]),
        closes=list(columns[4]),
        volumes=volumes,
        vwaps=ratios(to_decimals(columns[7]), volumes),
        counts=list(map(int, columns[8])),
        raws=rows,
    )


def ratios(numerators: list[Decimal], denominators: list[Decimal]) -> list[Decimal | None]:
    """:func:`ratio` of each pair, None where the denominator is not > 0 (a kline without
    trades has no vwap); the divisions and roundings run in C loops."""
    positive = list(map(gt, denominators, repeat(_ZERO)))
    everywhere = all(positive)
    if not everywhere:
        numerators = list(compress(numerators, positive))
        denominators = list(compress(denominators, positive))
    quotients = list(map(truediv, numerators, denominators))
    try:
        rounded = list(map(Decimal.quantize, quotients, repeat(_PLACES)))
    except ArithmeticError:  # a quotient too large for 12 places: ratio() leaves those alone
        values = list(map(ratio, numerators, denominators))
    else:
        values = rounded
        if any(map(eq, quotients, rounded)):
            # Quotients with nothing past 12 places: ratio() keeps those digits as they are.
            values = [
                r if r != q or q.as_tuple().exponent < -12 else q
                for q, r in zip(quotients, rounded, strict=True)
            ]
    if everywhere:
        return list(values)
    found = iter(values)
    return [next(found) if p else None for p in positive]


def public_trades(symbol: str, rows: list[Mapping[str, Any]]) -> list[PublicTrade]:
    """Many trades at once (see :func:`public_trade`), checked column by column."""
    return bulk_public_trades(
        symbol,
        prices=[r["price"] for r in rows],
        amounts=[r["qty"] for r in rows],
        sides=[Side.SELL if r.get("isBuyerMaker") else Side.BUY for r in rows],
        timestamps=ms_many([r["time"] for r in rows]),
        ids=[str(r["id"]) for r in rows],
        raws=list(rows),
    )


def public_trade(symbol: str, data: Mapping[str, Any]) -> PublicTrade:
    # The taker's side: if the buyer was the maker, the taker sold.
    side = Side.SELL if data.get("isBuyerMaker") else Side.BUY
    return PublicTrade(
        symbol=symbol,
        price=data["price"],
        amount=data["qty"],
        side=side,
        timestamp=ms(data["time"]),
        id=str(data["id"]),
        raw=data,
    )


def balances(data: Mapping[str, Any], include_zero: bool = False) -> dict[str, Balance]:
    result = {}
    for row in data.get("balances", ()):
        balance = Balance(
            asset=row["asset"], free=row["free"], locked=row["locked"], id=row["asset"], raw=row
        )
        if include_zero or balance.total > 0:
            result[balance.asset] = balance
    return result


def order(symbol: str, data: Mapping[str, Any]) -> Order:
    """An order from new order (ACK/RESULT/FULL), query order, open orders or cancel."""
    amount = to_decimal(data.get("origQty", "0"))
    filled = to_decimal(data.get("executedQty", "0"))
    quote_filled = to_decimal(data.get("cummulativeQuoteQty", "0") or "0")
    average = ratio(quote_filled, filled) if filled > 0 and quote_filled > 0 else None
    fills = data.get("fills") or ()
    fee = fee_asset = None
    if fills:
        assets = {f["commissionAsset"] for f in fills}
        if len(assets) == 1:
            fee_asset = assets.pop()
            fee = sum((to_decimal(f["commission"]) for f in fills), Decimal(0))
    created = data.get("time", data.get("transactTime"))
    updated = data.get("updateTime", data.get("transactTime"))
    tif = data.get("timeInForce")
    type_ = ORDER_TYPE.get(data.get("type", "LIMIT"), OrderType.LIMIT)
    return Order(
        id=str(data["orderId"]),
        symbol=symbol,
        side=data["side"].lower(),
        type=type_,
        status=ORDER_STATUS.get(data.get("status", "NEW"), OrderStatus.OPEN),
        amount=amount,
        filled=filled,
        price=_positive_or_none(data.get("price")),
        average_price=average,
        # A cancel answer carries a new clientOrderId; the order's own is origClientOrderId.
        client_id=data.get("origClientOrderId") or data.get("clientOrderId"),
        time_in_force=tif if tif in ("GTC", "IOC", "FOK") and type_ is OrderType.LIMIT else None,
        created=ms(created) if created is not None else None,
        updated=ms(updated) if updated is not None else None,
        fee=fee,
        fee_asset=fee_asset,
        raw=data,
    )


def trade(symbol: str, data: Mapping[str, Any]) -> Trade:
    """One of the account's fills (``/api/v3/myTrades``)."""
    return Trade(
        id=str(data["id"]),
        order_id=str(data["orderId"]),
        symbol=symbol,
        side=Side.BUY if data.get("isBuyer") else Side.SELL,
        price=data["price"],
        amount=data["qty"],
        timestamp=ms(data["time"]),
        fee=data.get("commission"),
        fee_asset=data.get("commissionAsset"),
        raw=data,
    )


def quote(symbol: str, data: Mapping[str, Any], side: Side, created: datetime | None) -> Quote:
    """A convert quote. Buying the base spends the quote asset (from = quote, to = base);
    selling spends the base (from = base, to = quote). ``ratio`` is to-per-from."""
    if side is Side.BUY:
        amount, cost = to_decimal(data["toAmount"]), to_decimal(data["fromAmount"])
        price = to_decimal(data["inverseRatio"]) if "inverseRatio" in data else ratio(cost, amount)
    else:
        amount, cost = to_decimal(data["fromAmount"]), to_decimal(data["toAmount"])
        price = to_decimal(data["ratio"])
    return Quote(
        id=str(data["quoteId"]),
        symbol=symbol,
        side=side,
        amount=amount,
        price=price,
        cost=cost,
        expires_at=ms(data["validTimestamp"]),
        created_at=created,
        raw=data,
    )


def convert_order(quote_: Quote, data: Mapping[str, Any]) -> Order:
    """A convert order (acceptQuote / orderStatus) as an xest Order on the quote's market."""
    status = CONVERT_STATUS.get(str(data.get("orderStatus", "PROCESS")), OrderStatus.PENDING)
    amount, cost = quote_.amount, quote_.cost
    base = quote_.symbol.split("/")[0]
    if "fromAsset" in data and "toAmount" in data:
        if data.get("toAsset") == base:
            amount, cost = to_decimal(data["toAmount"]), to_decimal(data["fromAmount"])
        elif data.get("fromAsset") == base:
            amount, cost = to_decimal(data["fromAmount"]), to_decimal(data["toAmount"])
    filled = amount if status is OrderStatus.FILLED else Decimal(0)
    created = data.get("createTime")
    return Order(
        id=str(data["orderId"]),
        symbol=quote_.symbol,
        side=quote_.side,
        type=OrderType.MARKET,
        status=status,
        amount=amount,
        filled=filled,
        price=quote_.price,
        average_price=ratio(cost, amount) if filled and amount > 0 else None,
        client_id=quote_.id,
        created=ms(created) if created is not None else None,
        raw=data,
    )
