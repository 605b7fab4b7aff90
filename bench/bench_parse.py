"""Parsing what the exchanges send in bulk: books, public trades, candles; xest against ccxt.

Each case starts from the HTTP body as the exchange sends it and ends with the parsed models:
for xest, its JSON decoding (exact numbers: ``parse_float=Decimal``) and the connector's
parser; for ccxt, ``json.loads`` and its ``parse_*`` (what its ``fetch_*`` does once the body
is in). ccxt runs in its own interpreter (a separate virtual environment, never a dependency
of xest), driven from here one call at a time (by default) so that the two alternate call by
call through the run; the figures are medians over the rounds.

Sizes: order books of 1000 levels a side (Kraken ``Depth?count=1000``, Binance
``depth?limit=1000``), 1000 public trades, 720 candles (Kraken's whole ``OHLC`` answer) and
1000 klines.

Run: ``.venv/bin/python bench/bench_parse.py [--ccxt /tmp/ccxt-venv/bin/python]``; without
ccxt the xest column is printed alone. Make the ccxt environment with
``python3 -m venv /tmp/ccxt-venv && /tmp/ccxt-venv/bin/pip install ccxt``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readme_block import publish

from xest.http.outcomes import decode_json
from xest.models import Market

HERE = Path(__file__).parent
BEGIN, END = "<!-- parse:begin -->", "<!-- parse:end -->"
DEFAULT_CCXT = os.environ.get("XEST_BENCH_CCXT", "/tmp/ccxt-venv/bin/python")
# Goal: xest's time against ccxt's, for the cases the issue names.
GOALS = {"kraken_book": 1.0, "binance_book": 0.8}


def payloads(depth: int = 1000, trades: int = 1000) -> dict[str, bytes]:
    rng = random.Random(7)
    stamp = 1688666559

    def levels(start: float, step: float, with_time: bool) -> list[list]:
        out = []
        for i in range(depth):
            row = [f"{start + step * i:.5f}", f"{rng.uniform(0.001, 5):.8f}"]
            out.append([*row, stamp - rng.randrange(600)] if with_time else row)
        return out

    kraken_trades = [
        [
            f"{30000 + rng.uniform(-50, 50):.5f}",
            f"{rng.uniform(0.0001, 2):.8f}",
            round(stamp + i * 0.2573, 4),  # a JSON number with a fraction, as Kraken sends
            rng.choice("bs"),
            rng.choice("ml"),
            "",
            61044952 + i,
        ]
        for i in range(trades)
    ]
    binance_trades = [
        {
            "id": 3_000_000_000 + i,
            "price": f"{30000 + rng.uniform(-50, 50):.8f}",
            "qty": f"{rng.uniform(0.0001, 2):.8f}",
            "quoteQty": f"{rng.uniform(1, 60000):.8f}",
            "time": (stamp + i) * 1000 + rng.randrange(1000),
            "isBuyerMaker": rng.random() < 0.5,
            "isBestMatch": True,
        }
        for i in range(trades)
    ]

    def ohlc(i: int) -> list[str]:
        o = 30000 + rng.uniform(-50, 50)
        return [f"{o:.1f}", f"{o + 5:.1f}", f"{o - 5:.1f}", f"{o + 1:.1f}"]

    kraken_ohlc = [
        [stamp + 60 * i, *ohlc(i), f"{30000.5:.1f}", f"{rng.uniform(0, 9):.8f}", rng.randrange(50)]
        for i in range(720)
    ]
    binance_klines = []
    for i in range(1000):
        opened = (stamp + 60 * i) * 1000
        volume = rng.uniform(0, 9)
        binance_klines.append(
            [
                opened,
                *(f"{float(x):.8f}" for x in ohlc(i)),
                f"{volume:.8f}",
                opened + 59_999,
                f"{volume * 30000:.8f}",
                rng.randrange(500),
                f"{volume / 2:.8f}",
                f"{volume * 15000:.8f}",
                "0",
            ]
        )

    def kraken(result: object) -> dict:
        return {"error": [], "result": {"XXBTZUSD": result, "last": "1688669597827736932"}}

    def dumps(value: object) -> bytes:
        return json.dumps(value).encode()

    return {
        "kraken_book": dumps(
            {
                "error": [],
                "result": {
                    "XXBTZUSD": {
                        "asks": levels(30300.1, 0.1, True),
                        "bids": levels(30300.0, -0.1, True),
                    }
                },
            }
        ),
        "binance_book": dumps(
            {
                "lastUpdateId": 1027024,
                "bids": levels(30000.0, -0.01, False),
                "asks": levels(30000.01, 0.01, False),
            }
        ),
        "kraken_trades": dumps(kraken(kraken_trades)),
        "binance_trades": dumps(binance_trades),
        "kraken_candles": dumps(kraken(kraken_ohlc)),
        "binance_candles": dumps(binance_klines),
    }


def xest_cases() -> dict:
    from xest_binance import parse as binance
    from xest_kraken import parse as kraken

    btc_usd = Market(symbol="BTC/USD", id="XXBTZUSD", base="BTC", quote="USD")

    def decode(body: bytes) -> object:
        # As the transport decodes an answer (xest.http.outcomes.decode_response).
        return decode_json(body.decode("utf-8", errors="replace"))

    def kraken_result(body: bytes) -> object:
        return decode(body)["result"]["XXBTZUSD"]

    return {
        "kraken_book": lambda body: kraken.order_book(btc_usd, kraken_result(body)),
        "binance_book": lambda body: binance.order_book("BTC/USDT", decode(body)),
        "kraken_trades": lambda body: kraken.public_trades(btc_usd, kraken_result(body)),
        "binance_trades": lambda body: binance.public_trades("BTC/USDT", decode(body)),
        "kraken_candles": lambda body: kraken.candles(btc_usd, "1m", kraken_result(body)),
        "binance_candles": lambda body: binance.candles("BTC/USDT", "1m", decode(body)),
    }


class Ccxt:
    """ccxt's interpreter running bench/ccxt_parse.py, one batch per request."""

    def __init__(self, python: str, directory: Path) -> None:
        self.process = subprocess.Popen(
            [python, str(HERE / "ccxt_parse.py"), str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.version = self.process.stdout.readline().split()[1]

    def batch(self, name: str, calls: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{name} {calls}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


def run(rounds: int, calls: int, ccxt_python: str | None) -> tuple[dict, str | None]:
    bodies = payloads()
    cases = xest_cases()
    results: dict[str, dict[str, list[float]]] = {n: {"xest": [], "ccxt": []} for n in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in bodies.items():
            (Path(tmp) / f"{name}.json").write_bytes(body)
        ccxt = Ccxt(ccxt_python, Path(tmp)) if ccxt_python else None
        try:
            for fn_name, fn in cases.items():  # warm up (and check) once
                fn(bodies[fn_name])
            for _ in range(rounds):
                for name, fn in cases.items():
                    body = bodies[name]
                    start = time.perf_counter()
                    for _ in range(calls):
                        fn(body)
                    results[name]["xest"].append((time.perf_counter() - start) / calls)
                    if ccxt is not None:
                        results[name]["ccxt"].append(ccxt.batch(name, calls))
        finally:
            if ccxt is not None:
                ccxt.close()
    medians = {
        name: {side: statistics.median(v) * 1000 if v else None for side, v in r.items()}
        for name, r in results.items()
    }
    return medians, ccxt.version if ccxt else None


def report(medians: dict, version: str | None, rounds: int, calls: int) -> str:
    lines = [
        BEGIN,
        "## Parsing bulk answers: xest against ccxt",
        "",
        f"From the HTTP body to the parsed value; medians of {rounds} interleaved rounds of "
        f"{calls} calls, {os.cpu_count()} cores"
        + (f", ccxt {version} in its own virtual environment." if version else "; no ccxt."),
        "",
        "| case | xest ms | ccxt ms | xest / ccxt | goal | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, m in medians.items():
        ratio = m["xest"] / m["ccxt"] if m["ccxt"] else None
        goal = GOALS.get(name)
        met = "" if goal is None or ratio is None else ("yes" if ratio <= goal else "no")
        lines.append(
            f"| {name.replace('_', ' ')} | {m['xest']:.2f} | "
            + (f"{m['ccxt']:.2f} | {ratio:.2f}x" if ratio is not None else "— | —")
            + f" | {f'≤ {goal}x' if goal else ''} | {met} |"
        )
    lines += [
        "",
        "xest's values keep every digit (Decimal) and are checked (finite, amounts >= 0, aware UTC"
        " times); ccxt's are floats.",
        "",
        "Reproduce: `.venv/bin/python bench/bench_parse.py --ccxt /tmp/ccxt-venv/bin/python`.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=201)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--ccxt", default=DEFAULT_CCXT, help="ccxt's Python ('' for none)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    ccxt_python = args.ccxt if args.ccxt and Path(args.ccxt).exists() else None
    if args.ccxt and ccxt_python is None:
        print(f"no ccxt interpreter at {args.ccxt}: xest only", file=sys.stderr)
    medians, version = run(args.rounds, args.calls, ccxt_python)
    block = report(medians, version, args.rounds, args.calls)
    publish(block, write=not args.no_write)


if __name__ == "__main__":
    main()
