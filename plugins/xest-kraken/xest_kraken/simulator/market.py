"""Deterministic market data for the simulated Kraken: books, candles and public trades.

The book is a function of the pair's mid price: the same mid gives the same levels, so tests
can predict fills. A market maker refreshes it instantly, so fills do not deplete it; moving
the mid (``KrakenSimulator.set_price``) moves the whole book.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

from xest_kraken.simulator.data import PairDef

LEVELS = 25


def q(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def text(value: Decimal, decimals: int) -> str:
    return format(q(value, decimals), "f")


def _unit(*parts: object) -> Decimal:
    """A deterministic number in [0, 1) from the given parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return Decimal(int.from_bytes(digest[:6], "big")) / Decimal(2**48)


def book(
    pair: PairDef, mid: Decimal
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """(bids best first, asks best first) as (price, volume)."""
    tick = pair.tick_size
    step = max(tick, q(mid * Decimal("0.0002") / tick, 0) * tick)
    half = max(tick, q(mid * Decimal("0.00005") / tick, 0) * tick)
    best_bid = q((mid - half) / tick, 0) * tick
    best_ask = q((mid + half) / tick, 0) * tick
    if best_ask <= best_bid:
        best_ask = best_bid + tick
    bids, asks = [], []
    for i in range(LEVELS):
        scale = Decimal(1 + (i * 7 + 3) % 5) / 2
        vol = q(pair.lot * scale, pair.lot_decimals)
        bids.append((best_bid - step * i, vol))
        asks.append((best_ask + step * i, q(vol * Decimal("1.1"), pair.lot_decimals)))
    return bids, asks


def candle(pair: PairDef, mid: Decimal, start: int, minutes: int) -> list:
    """One OHLC row ``[time, open, high, low, close, vwap, volume, count]`` around ``mid``."""
    d = pair.pair_decimals
    swing = Decimal("0.004")
    open_ = mid * (1 + (_unit(pair.key, start, minutes, "o") - Decimal("0.5")) * swing)
    close = mid * (1 + (_unit(pair.key, start, minutes, "c") - Decimal("0.5")) * swing)
    high = max(open_, close) * (1 + _unit(pair.key, start, minutes, "h") * swing / 2)
    low = min(open_, close) * (1 - _unit(pair.key, start, minutes, "l") * swing / 2)
    open_, close, high, low = (q(v, d) for v in (open_, close, high, low))
    vwap = q((high + low + open_ + close) / 4, d)
    volume = q(pair.lot * (1 + _unit(pair.key, start, minutes, "v") * 10), pair.lot_decimals)
    count = 1 + int(_unit(pair.key, start, minutes, "n") * 50)
    return [
        start,
        text(open_, d),
        text(high, d),
        text(low, d),
        text(close, d),
        text(vwap, d),
        text(volume, 8),
        count,
    ]


def candles(
    pair: PairDef, mid: Decimal, now: float, minutes: int, since: int | None
) -> tuple[list, int]:
    """Up to 720 candles ending with the current (still forming) one, and Kraken's ``last``."""
    width = minutes * 60
    current = int(now) // width * width
    starts = [current - width * k for k in range(719, -1, -1)]
    if since is not None:
        starts = [s for s in starts if s > since] or [current]
    rows = [candle(pair, mid, s, minutes) for s in starts]
    return rows, current - width  # the last committed candle


def public_trades(pair: PairDef, mid: Decimal, now: float, count: int = 50) -> list[list]:
    """Recent trades ``[price, volume, time, b|s, m|l, misc, trade_id]``, one every 7 s."""
    rows = []
    last_slot = int(now) // 7
    for k in range(count, 0, -1):
        slot = last_slot - k
        side = "b" if _unit(pair.key, slot, "s") < Decimal("0.5") else "s"
        price = mid * (1 + (_unit(pair.key, slot, "p") - Decimal("0.5")) * Decimal("0.001"))
        volume = pair.lot * _unit(pair.key, slot, "v")
        kind = "m" if _unit(pair.key, slot, "k") < Decimal("0.3") else "l"
        rows.append(
            [
                text(price, pair.pair_decimals),
                text(volume + pair.ordermin, 8),
                float(Decimal(slot * 7) + q(_unit(pair.key, slot, "t"), 4)),
                side,
                kind,
                "",
                slot,
            ]
        )
    return rows
