"""A cached ticker through the client against the transport-level cache hit it rests on.

Both read the same stored answer (the simulator is called once, then never: every call is a
hit). The transport figure is ``Transport.request`` of the ticker endpoint; the client figure is
``client.ticker(symbol)``: market lookup, the hit, and the parsed value (which an unchanged
answer does not parse again). The two alternate call by call; per round the median call,
then the median over rounds.

Run: ``.venv/bin/python bench/bench_cache_hit.py [--rounds 9] [--calls 1000] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from readme_block import write_block

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- cachehit:begin -->", "<!-- cachehit:end -->"
GOAL = 1.2


def cases(exchange: str):
    import xest

    client = xest.open(exchange, sim=True)
    symbol = "BTC/USD" if exchange == "kraken" else "BTC/USDT"
    client.ticker(symbol)
    market = client.connector.market(symbol)
    if exchange == "kraken":
        from xest_kraken import endpoints as ep

        endpoint, params = ep.TICKER, {"pair": market.id}
    else:
        from xest_binance import endpoints as ep

        endpoint, params = ep.weighted(ep.TICKER_24HR, 2), {"symbol": market.id}
    transport = client.connector.transport
    assert transport.request(endpoint, params).from_cache
    return client, {
        "transport": lambda: transport.request(endpoint, params),
        "client": lambda: client.ticker(symbol),
    }


def measure(rounds: int, calls: int) -> dict:
    results = {}
    for exchange in ("kraken", "binance"):
        client, fns = cases(exchange)
        try:
            for fn in fns.values():
                for _ in range(200):
                    fn()
            per_round = []
            clock = time.perf_counter
            for _ in range(rounds):
                times: dict[str, list[float]] = {name: [] for name in fns}
                for _ in range(calls):  # call by call: a burst of load hits both alike
                    for name, fn in fns.items():
                        start = clock()
                        fn()
                        times[name].append(clock() - start)
                per_round.append({name: statistics.median(v) for name, v in times.items()})
        finally:
            client.close()
        results[exchange] = {
            "transport_us": statistics.median(r["transport"] for r in per_round) * 1e6,
            "client_us": statistics.median(r["client"] for r in per_round) * 1e6,
            "ratio": statistics.median(r["client"] / r["transport"] for r in per_round),
        }
    return results


def report(results: dict, rounds: int, calls: int) -> str:
    lines = [
        BEGIN,
        "## Cached ticker through the client",
        "",
        f"Medians over {rounds} rounds of {calls} calls alternating call by call, "
        f"{os.cpu_count()} cores; the response cache on disk, as shipped.",
        "",
        "| exchange | transport hit | `client.ticker` (hit) | ratio | goal | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for exchange, r in results.items():
        met = "yes" if r["ratio"] <= GOAL else "no"
        lines.append(
            f"| {exchange} | {r['transport_us']:.1f} us | {r['client_us']:.1f} us | "
            f"{r['ratio']:.3f}x | ≤ {GOAL}x | {met} |"
        )
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_cache_hit.py`.", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    block = report(measure(args.rounds, args.calls), args.rounds, args.calls)
    print(block)
    if args.no_write:
        return
    write_block(README, BEGIN, END, block)


if __name__ == "__main__":
    main()
