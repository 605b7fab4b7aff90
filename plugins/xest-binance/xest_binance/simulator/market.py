"""The simulated markets: a few symbols with real-looking filters, and public data (book, klines,
trades, 24 hr stats) derived deterministically from each symbol's mid price and the clock, so
tests can predict what they will read.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_DOWN, Decimal

import attrs

EIGHT = Decimal("0.00000001")
LEVELS = 50  # book depth the simulator holds per side
INTERVAL_MS = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
    "1M": 2_592_000_000,
}


def fmt(value: Decimal) -> str:
    """Binance's fixed 8-decimal notation."""
    return f"{value.quantize(EIGHT):f}"


def q(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def noise(*parts: object) -> Decimal:
    """A deterministic number in [-1, 1) from its arguments."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return Decimal(int.from_bytes(digest[:4], "big")) / Decimal(2**31) - 1


@attrs.define
class SimMarket:
    symbol: str
    base: str
    quote: str
    mid: Decimal
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal | None = None
    legacy_notional: bool = False  # MIN_NOTIONAL instead of NOTIONAL, as older symbols had
    depth_qty: Decimal = Decimal(1)
    status: str = "TRADING"

    def filters(self) -> list[dict]:
        result: list[dict] = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(self.tick),
                "maxPrice": fmt(Decimal(1_000_000)),
                "tickSize": fmt(self.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(self.min_qty),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(self.market_max_qty),
                "stepSize": fmt(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
        ]
        if self.legacy_notional:
            result.append(
                {
                    "filterType": "MIN_NOTIONAL",
                    "minNotional": fmt(self.min_notional),
                    "applyToMarket": True,
                    "avgPriceMins": 5,
                }
            )
        else:
            result.append(
                {
                    "filterType": "NOTIONAL",
                    "minNotional": fmt(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": fmt(self.max_notional or Decimal(9_000_000)),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                }
            )
        result += [
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ]
        return result

    def info(self) -> dict:
        """This symbol's entry in exchangeInfo ``symbols``."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self.filters(),
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    # -- the book: levels one tick apart around the mid, sizes from a fixed pattern -------------

    def best_bid(self) -> Decimal:
        return q(self.mid, self.tick) - self.tick

    def best_ask(self) -> Decimal:
        return q(self.mid, self.tick) + self.tick

    def _size(self, side: str, k: int) -> Decimal:
        factor = Decimal(1) + Decimal((k * 37 + (7 if side == "ask" else 3)) % 11) / 10
        return max(q(self.depth_qty * factor, self.step), self.step)

    def bids(self, limit: int = LEVELS) -> list[tuple[Decimal, Decimal]]:
        top = self.best_bid()
        levels = [(top - self.tick * k, self._size("bid", k)) for k in range(min(limit, LEVELS))]
        return [(p, s) for p, s in levels if p > 0]

    def asks(self, limit: int = LEVELS) -> list[tuple[Decimal, Decimal]]:
        top = self.best_ask()
        return [(top + self.tick * k, self._size("ask", k)) for k in range(min(limit, LEVELS))]

    # -- history ----------------------------------------------------------------------------------

    def kline(self, open_ms: int, interval: str) -> list:
        length = INTERVAL_MS[interval]
        o = q(self.mid * (1 + noise(self.symbol, interval, open_ms, "o") / 50), self.tick)
        c = q(self.mid * (1 + noise(self.symbol, interval, open_ms, "c") / 50), self.tick)
        h = max(o, c) + q(abs(noise(self.symbol, open_ms, "h")) * self.mid / 100, self.tick)
        low = min(o, c) - q(abs(noise(self.symbol, open_ms, "l")) * self.mid / 100, self.tick)
        volume = q(self.depth_qty * (11 + 10 * noise(self.symbol, open_ms, "v")), self.step)
        count = 100 + int(abs(noise(self.symbol, open_ms, "n")) * 900)
        quote_volume = q(volume * (o + c) / 2, EIGHT)
        taker = q(volume / 2, self.step)
        return [
            open_ms,
            fmt(o),
            fmt(h),
            fmt(max(low, self.tick)),
            fmt(c),
            fmt(volume),
            open_ms + length - 1,
            fmt(quote_volume),
            count,
            fmt(taker),
            fmt(q(quote_volume / 2, EIGHT)),
            "0",
        ]

    def klines(
        self, interval: str, now_ms: int, start: int | None, end: int | None, limit: int
    ) -> list[list]:
        length = INTERVAL_MS[interval]
        if start is not None:
            first = -(-start // length) * length  # the first open time at or after start
            opens = [first + i * length for i in range(limit)]
            opens = [t for t in opens if t <= now_ms and (end is None or t <= end)]
        else:
            last = min(now_ms, end) if end is not None else now_ms
            last -= last % length
            opens = [last - i * length for i in range(limit)][::-1]
        return [self.kline(t, interval) for t in opens]

    def trades(self, now_ms: int, limit: int) -> list[dict]:
        """One trade a second, ids counting seconds: the same second always reads the same."""
        second = now_ms // 1000
        rows = []
        for s in range(second - limit + 1, second + 1):
            n = noise(self.symbol, s, "t")
            price = q(self.mid + self.tick * int(n * 20), self.tick)
            qty = max(q(self.depth_qty * abs(n), self.step), self.step)
            rows.append(
                {
                    "id": 3_000_000_000 + s - 1_600_000_000,
                    "price": fmt(price),
                    "qty": fmt(qty),
                    "quoteQty": fmt(q(price * qty, EIGHT)),
                    "time": s * 1000,
                    "isBuyerMaker": n < 0,
                    "isBestMatch": True,
                }
            )
        return rows

    def ticker(self, now_ms: int) -> dict:
        bid, ask = self.bids(1)[0], self.asks(1)[0]
        open_ = q(self.mid * Decimal("0.98"), self.tick)
        volume = q(self.depth_qty * 2400, self.step)
        return {
            "symbol": self.symbol,
            "priceChange": fmt(self.mid - open_),
            "priceChangePercent": f"{(self.mid - open_) / open_ * 100:.3f}",
            "weightedAvgPrice": fmt(self.mid),
            "prevClosePrice": fmt(open_),
            "lastPrice": fmt(q(self.mid, self.tick)),
            "lastQty": fmt(self.step * 10),
            "bidPrice": fmt(bid[0]),
            "bidQty": fmt(bid[1]),
            "askPrice": fmt(ask[0]),
            "askQty": fmt(ask[1]),
            "openPrice": fmt(open_),
            "highPrice": fmt(q(self.mid * Decimal("1.03"), self.tick)),
            "lowPrice": fmt(q(self.mid * Decimal("0.96"), self.tick)),
            "volume": fmt(volume),
            "quoteVolume": fmt(q(volume * self.mid, EIGHT)),
            "openTime": now_ms - 86_400_000,
            "closeTime": now_ms,
            "firstId": 3_000_000_000,
            "lastId": 3_000_086_399,
            "count": 86_400,
        }

    def book_ticker(self) -> dict:
        bid, ask = self.bids(1)[0], self.asks(1)[0]
        return {
            "symbol": self.symbol,
            "bidPrice": fmt(bid[0]),
            "bidQty": fmt(bid[1]),
            "askPrice": fmt(ask[0]),
            "askQty": fmt(ask[1]),
        }


def default_markets() -> dict[str, SimMarket]:
    d = Decimal
    markets = [
        SimMarket(
            "BTCUSDT",
            "BTC",
            "USDT",
            d("43250.00"),
            d("0.01"),
            d("0.00001"),
            d("0.00001"),
            d("9000"),
            d("120"),
            d("5"),
            depth_qty=d("0.25"),
        ),
        SimMarket(
            "ETHUSDT",
            "ETH",
            "USDT",
            d("2250.00"),
            d("0.01"),
            d("0.0001"),
            d("0.0001"),
            d("9000"),
            d("3000"),
            d("5"),
            depth_qty=d("4"),
        ),
        SimMarket(
            "ETHBTC",
            "ETH",
            "BTC",
            d("0.05200"),
            d("0.00001"),
            d("0.0001"),
            d("0.0001"),
            d("100000"),
            d("2000"),
            d("0.0001"),
            depth_qty=d("3"),
        ),
        SimMarket(
            "BNBUSDT",
            "BNB",
            "USDT",
            d("310.0"),
            d("0.1"),
            d("0.001"),
            d("0.001"),
            d("9000"),
            d("5000"),
            d("5"),
            legacy_notional=True,
            depth_qty=d("20"),
        ),
        SimMarket(
            "XRPUSDT",
            "XRP",
            "USDT",
            d("0.6000"),
            d("0.0001"),
            d("1"),
            d("1"),
            d("9000000"),
            d("500000"),
            d("5"),
            depth_qty=d("5000"),
            status="BREAK",
        ),
    ]
    return {m.symbol: m for m in markets}
