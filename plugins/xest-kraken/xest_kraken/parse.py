"""Kraken's JSON, turned into :mod:`xest.models`.

Numbers arrive as strings (``"30300.10000"``) or, decoded with ``parse_float=Decimal``, as
Decimals and ints; times are UNIX seconds with a fraction (``1688666559.8974``). Pair names vary
by endpoint: results are keyed by the canonical name (``XXBTZUSD``) while order descriptions
use the ``altname`` (``XBTUSD``), so every parser takes the already resolved market.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
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
    Side,
    Ticker,
    Trade,
    price_levels,
    to_decimal,
    to_decimals,
)
from xest.models import candles as bulk_candles
from xest.models import public_trades as bulk_public_trades
from xest_kraken.markets import balance_note, pair_assets, unify_asset

MarketLookup = Callable[[str], Market]


def decimal(value: Any) -> Decimal:
    return to_decimal(value)


def seconds(value: Any) -> Decimal:
    """UNIX seconds as Decimal (``1688671200.5`` keeps its fraction)."""
    return to_decimal(value)


def _step(decimals: Any) -> Decimal | None:
    return None if decimals is None else Decimal(1).scaleb(-int(decimals))


def _optional(entry: Mapping[str, Any], key: str) -> Decimal | None:
    value = entry.get(key)
    return None if value in (None, "") else to_decimal(value)


# -- markets -----------------------------------------------------------------------------------


def market(key: str, entry: Mapping[str, Any]) -> Market:
    """One ``AssetPairs`` entry. ``tick_size`` wins over ``pair_decimals`` for the price step."""
    base, quote = pair_assets(entry)
    tick = _optional(entry, "tick_size")
    status = str(entry.get("status", "online"))
    ids = {name: str(entry[name]) for name in ("altname", "wsname") if entry.get(name)}
    return Market(
        symbol=f"{base}/{quote}",
        id=key,
        base=base,
        quote=quote,
        base_id=str(entry.get("base", "")),
        quote_id=str(entry.get("quote", "")),
        active=status == "online",
        status=status,
        price_step=tick if tick else _step(entry.get("pair_decimals")),
        amount_step=_step(entry.get("lot_decimals")),
        cost_step=_step(entry.get("cost_decimals")),
        min_amount=_optional(entry, "ordermin"),
        min_cost=_optional(entry, "costmin"),
        ids=ids,
        raw=dict(entry),
    )


def markets(result: Mapping[str, Any]) -> list[Market]:
    """Every pair of an ``AssetPairs`` result. Dark-pool pairs (``….d``) are not spot markets."""
    return [market(key, entry) for key, entry in result.items() if not key.endswith(".d")]


# -- market data -------------------------------------------------------------------------------


def ticker(m: Market, entry: Mapping[str, Any]) -> Ticker:
    """One ``Ticker`` entry: ``a``/``b`` [price, whole-lot volume, lot volume], ``c`` last
    [price, volume], and today/24 h pairs ``v`` volume, ``p`` VWAP, ``l`` low, ``h`` high."""

    def first(key: str) -> Any:
        value = entry.get(key)
        return value[0] if value else None

    def day(key: str) -> Any:
        value = entry.get(key)
        return value[1] if value and len(value) > 1 else None

    volume = day("v")
    vwap = day("p")
    # Kraken gives no quote volume; base volume * VWAP is exactly what traded in quote terms.
    quote_volume = to_decimal(volume) * to_decimal(vwap) if volume and vwap else None
    return Ticker(
        symbol=m.symbol,
        id=m.id,
        bid=first("b"),
        ask=first("a"),
        last=first("c"),
        open=entry.get("o"),
        high=day("h"),
        low=day("l"),
        volume=volume,
        quote_volume=quote_volume,
        vwap=vwap,
        raw=dict(entry),
    )


def order_book(m: Market, entry: Mapping[str, Any]) -> OrderBook:
    """One ``Depth`` entry: levels ``[price, volume, timestamp]``, sorted best first."""
    bids, asks = entry.get("bids", []), entry.get("asks", [])
    stamps = [lv[2] for lv in bids if len(lv) > 2] + [lv[2] for lv in asks if len(lv) > 2]
    return OrderBook(
        symbol=m.symbol,
        # Validated column by column (xest.models.price_levels), not level by level.
        bids=price_levels(bids, descending=True),
        asks=price_levels(asks, descending=False),
        timestamp=_latest(stamps),
        id=m.id,
        raw=dict(entry),
    )


def _latest(stamps: list[Any]) -> Decimal | None:
    """The newest of the levels' UNIX times (whole seconds in practice: ints, compared as is)."""
    if not stamps:
        return None
    if set(map(type, stamps)) == {int}:
        return to_decimal(max(stamps))
    return max(to_decimals(stamps))


def candles(m: Market, interval: str, rows: list[list[Any]]) -> list[Candle]:
    """``OHLC`` rows ``[time, open, high, low, close, vwap, volume, count]``."""
    if rows and set(map(len, rows)) == {8}:
        columns = map(list, zip(*rows, strict=True))
        times, opens, highs, lows, closes, vwaps, volumes, counts = columns
        return bulk_candles(
            m.symbol,
            interval,
            open_times=times,
            opens=opens,
            highs=highs,
            lows=lows,
            closes=closes,
            volumes=volumes,
            vwaps=vwaps,
            counts=list(map(int, counts)),
            raws=list(map(list, rows)),
        )
    return [
        Candle(
            symbol=m.symbol,
            interval=interval,
            open_time=seconds(row[0]),
            open=row[1],
            high=row[2],
            low=row[3],
            close=row[4],
            vwap=row[5],
            volume=row[6],
            count=int(row[7]) if len(row) > 7 else None,
            raw=list(row),
        )
        for row in rows
    ]


def public_trades(m: Market, rows: list[list[Any]]) -> list[PublicTrade]:
    """``Trades`` rows ``[price, volume, time, b|s, m|l, misc, trade_id]``."""
    return bulk_public_trades(
        m.symbol,
        prices=[row[0] for row in rows],
        amounts=[row[1] for row in rows],
        sides=[Side.BUY if row[3] == "b" else Side.SELL for row in rows],
        timestamps=[row[2] for row in rows],
        ids=[str(row[6]) if len(row) > 6 else "" for row in rows],
        raws=list(map(list, rows)),
    )


# -- account -----------------------------------------------------------------------------------


def balances(result: Mapping[str, Any]) -> dict[str, Balance]:
    """``BalanceEx`` (``{asset: {balance, hold_trade}}``) or ``Balance`` (``{asset: amount}``).

    free = balance - hold_trade; locked = hold_trade. Suffixed sub-balances (``ETH2.S``,
    ``USD.M``) stay separate entries, with a note saying what they are.
    """
    out: dict[str, Balance] = {}
    for code, value in result.items():
        if isinstance(value, Mapping):
            total = to_decimal(value.get("balance", 0))
            hold = to_decimal(value.get("hold_trade", 0) or 0)
        else:
            total, hold = to_decimal(value), Decimal(0)
        hold = min(max(hold, Decimal(0)), max(total, Decimal(0)))
        asset = unify_asset(code)
        out[asset] = Balance(
            asset=asset,
            free=max(total - hold, Decimal(0)),
            locked=hold,
            id=code,
            note=balance_note(code),
            raw=value,
        )
    return out


_STATUS = {
    "pending": OrderStatus.PENDING,
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
}


def order_type(kraken_type: str) -> OrderType:
    """Kraken's many order types folded onto market/limit by how they execute once triggered
    (``stop-loss-limit`` rests as a limit order, ``take-profit`` fills at market); the exact
    type stays in ``raw``."""
    return (
        OrderType.LIMIT
        if kraken_type == "iceberg" or "limit" in kraken_type
        else (OrderType.MARKET)
    )


def order_status(info: Mapping[str, Any]) -> OrderStatus:
    status = _STATUS.get(str(info.get("status", "")).lower(), OrderStatus.PENDING)
    if status is OrderStatus.OPEN and to_decimal(info.get("vol_exec", 0) or 0) > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def order(txid: str, info: Mapping[str, Any], lookup: MarketLookup) -> Order:
    """One order of ``OpenOrders``/``ClosedOrders``/``QueryOrders``.

    ``price`` is the limit price (``descr.price``); ``average_price`` Kraken's ``price``, the
    average of the fills. Fees are in the quote asset unless the ``fcib`` flag says base.
    """
    descr = info.get("descr") or {}
    m = lookup(str(descr.get("pair", "")))
    kind = order_type(str(descr.get("ordertype", "limit")))
    filled = to_decimal(info.get("vol_exec", 0) or 0)
    limit = _optional(descr, "price")
    average = _optional(info, "price")
    closed = info.get("closetm")
    flags = str(info.get("oflags", ""))
    tif = info.get("timeinforce") or info.get("time_in_force")
    return Order(
        id=txid,
        symbol=m.symbol,
        side=Side(str(descr.get("type", "buy"))),
        type=kind,
        status=order_status(info),
        amount=info.get("vol", 0),
        filled=filled,
        price=limit if kind is OrderType.LIMIT and limit else None,
        average_price=average if filled > 0 and average else None,
        client_id=info.get("cl_ord_id") or None,
        time_in_force=str(tif).upper() if tif else None,
        created=seconds(info["opentm"]) if info.get("opentm") else None,
        updated=seconds(closed) if closed else None,
        fee=_optional(info, "fee"),
        fee_asset=m.base if "fcib" in flags else m.quote,
        raw=dict(info),
        listed=not getattr(m, "unlisted", False),
    )


def trade(txid: str, info: Mapping[str, Any], lookup: MarketLookup) -> Trade:
    """One fill of ``TradesHistory``; ``pair`` is the canonical pair name here."""
    m = lookup(str(info.get("pair", "")))
    return Trade(
        id=txid,
        order_id=str(info.get("ordertxid", "")),
        symbol=m.symbol,
        side=Side(str(info.get("type", "buy"))),
        price=info["price"],
        amount=info["vol"],
        timestamp=seconds(info["time"]),
        fee=_optional(info, "fee"),
        fee_asset=m.quote,
        raw=dict(info),
        listed=not getattr(m, "unlisted", False),
    )
