"""The ccxt side of bench_parse.py, run by ccxt's own interpreter (a separate virtual
environment: ccxt is never a dependency of xest).

Reads ``CASE CALLS`` lines on stdin, answers each with the mean seconds per call of ccxt doing
what its ``fetch_*`` does once the HTTP body is in: ``json.loads`` and its ``parse_*``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import ccxt

KRAKEN, BINANCE = ccxt.kraken(), ccxt.binance()
# What load_markets() would have made of the pair (no network here).
KRAKEN_MARKET = KRAKEN.safe_market_structure(
    {"id": "XXBTZUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "spot": True}
)
BINANCE_MARKET = BINANCE.safe_market_structure(
    {"id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "spot": True}
)
for exchange, market in ((KRAKEN, KRAKEN_MARKET), (BINANCE, BINANCE_MARKET)):
    exchange.markets = {market["symbol"]: market}
    exchange.markets_by_id = {market["id"]: [market]}


def kraken_book(body: bytes) -> object:
    entry = json.loads(body)["result"]["XXBTZUSD"]
    return KRAKEN.parse_order_book(entry, "BTC/USD")


def binance_book(body: bytes) -> object:
    data = json.loads(body)
    book = BINANCE.parse_order_book(data, "BTC/USDT")
    book["nonce"] = BINANCE.safe_integer(data, "lastUpdateId")  # as fetch_order_book does
    return book


def kraken_trades(body: bytes) -> object:
    rows = json.loads(body)["result"]["XXBTZUSD"]
    return KRAKEN.parse_trades(rows, KRAKEN_MARKET)


def binance_trades(body: bytes) -> object:
    return BINANCE.parse_trades(json.loads(body), BINANCE_MARKET)


def kraken_candles(body: bytes) -> object:
    rows = json.loads(body)["result"]["XXBTZUSD"]
    return KRAKEN.parse_ohlcvs(rows, KRAKEN_MARKET, "1m")


def binance_candles(body: bytes) -> object:
    return BINANCE.parse_ohlcvs(json.loads(body), BINANCE_MARKET, "1m")


CASES = {name: fn for name, fn in globals().items() if name.startswith(("kraken_", "binance_"))}


def main() -> None:
    payloads = Path(sys.argv[1])
    bodies = {name: (payloads / f"{name}.json").read_bytes() for name in CASES}
    print("ready", ccxt.__version__, flush=True)
    for line in sys.stdin:
        name, calls = line.split()
        fn, body = CASES[name], bodies[name]
        start = time.perf_counter()
        for _ in range(int(calls)):
            fn(body)
        print((time.perf_counter() - start) / int(calls), flush=True)


if __name__ == "__main__":
    main()
