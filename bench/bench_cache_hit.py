"""A cached ticker through the client against the transport-level cache hit it rests on.

Both read the same stored answer. The transport figure is ``Transport.request`` of the ticker
endpoint; the client figure is ``client.ticker(symbol)``: market lookup, the hit, and the
parsed value (which an unchanged answer does not parse again). The two alternate call by call;
per round the median call, then the median over rounds.

The ticker answers live 1 s (the endpoints' TTL), and a hit is served from one of two places:

- **stored** (the steady state, what a poller sees almost all the time): the answer is in the
  on-disk cache (diskcache). Each round starts by waiting for the answer to expire, taking the
  miss that fetches it afresh, and ``xest.http.cache.flush()`` (the writer thread has stored
  it); the round then ends well within the TTL, so every call in it is a hit from disk. The
  bench checks this (the round's end is less than the TTL after the miss) and says how long
  the rounds took.
- **just fetched**: for the moment between a miss and the writer thread storing the answer
  (about a millisecond), hits are served from the cache's in-memory map of pending writes.
  To measure that state, the bench holds the writer (its store call waits) for the round, then
  lets it go.

Run: ``.venv/bin/python bench/bench_cache_hit.py [--rounds 9] [--calls 1000] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from readme_block import publish

BEGIN, END = "<!-- cachehit:begin -->", "<!-- cachehit:end -->"
GOAL = 1.2
REGIMES = ("stored", "just fetched")


class Case:
    def __init__(self, exchange: str) -> None:
        import xest

        self.client = xest.open(exchange, sim=True)
        self.symbol = symbol = "BTC/USD" if exchange == "kraken" else "BTC/USDT"
        market = self.client.connector.market(symbol)
        if exchange == "kraken":
            from xest_kraken import endpoints as ep

            self.endpoint, self.params = ep.TICKER, {"pair": market.id}
        else:
            from xest_binance import endpoints as ep

            self.endpoint, self.params = ep.weighted(ep.TICKER_24HR, 2), {"symbol": market.id}
        self.ttl = float(self.endpoint.ttl or 0)
        self.transport = transport = self.client.connector.transport
        endpoint, params, client = self.endpoint, self.params, self.client
        self.fns: dict[str, Callable[[], Any]] = {
            "transport": lambda: transport.request(endpoint, params),
            "client": lambda: client.ticker(symbol),
        }

    def fresh_miss(self) -> float:
        """Wait for the stored answer to expire and take the miss; when the miss was made."""
        while True:
            started = time.monotonic()
            if not self.transport.request(self.endpoint, self.params).from_cache:
                return started
            time.sleep(0.005)

    @contextmanager
    def regime(self, name: str) -> Iterator[float]:
        """Set up one round of ``name``; yields the time of the miss the round rests on."""
        from xest.http import cache

        if name == "stored":
            missed = self.fresh_miss()
            if not cache.flush():
                raise RuntimeError("the cache's writer did not store the answer")
            yield missed
            return
        # Hold the writer: the miss's answer stays in the pending-writes map for the round.
        store = self.transport.response_cache
        release = threading.Event()
        original = store._write

        def held_write(*args: Any) -> None:
            release.wait(10)
            original(*args)

        if not cache.flush():
            raise RuntimeError("the cache's writer is busy")
        store._write = held_write  # type: ignore[method-assign]
        try:
            yield self.fresh_miss()
        finally:
            release.set()
            cache.flush()
            del store._write


def measure(rounds: int, calls: int) -> dict:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for exchange in ("kraken", "binance"):
        case = Case(exchange)
        fns = case.fns
        try:
            for fn in fns.values():  # warm up
                for _ in range(200):
                    fn()
            results[exchange] = {}
            for regime in REGIMES:
                per_round = []
                longest = 0.0
                clock = time.perf_counter
                for _ in range(rounds):
                    times: dict[str, list[float]] = {name: [] for name in fns}
                    with case.regime(regime) as missed:
                        for _ in range(calls):  # call by call: a burst of load hits both alike
                            for name, fn in fns.items():
                                start = clock()
                                fn()
                                times[name].append(clock() - start)
                        age = time.monotonic() - missed
                    if regime == "stored" and age >= case.ttl:
                        raise RuntimeError(
                            f"a round took {age:.3f} s, past the {case.ttl} s TTL: fewer --calls"
                        )
                    longest = max(longest, age)
                    per_round.append({name: statistics.median(v) for name, v in times.items()})
                results[exchange][regime] = {
                    "transport_us": statistics.median(r["transport"] for r in per_round) * 1e6,
                    "client_us": statistics.median(r["client"] for r in per_round) * 1e6,
                    "ratio": statistics.median(r["client"] / r["transport"] for r in per_round),
                    "longest_s": longest,
                    "ttl": case.ttl,
                }
        finally:
            case.client.close()
    return results


def report(results: dict, rounds: int, calls: int) -> str:
    longest = max(ex["stored"]["longest_s"] for ex in results.values())
    ttl = min(r["ttl"] for ex in results.values() for r in ex.values())
    lines = [
        BEGIN,
        "## Cached ticker through the client",
        "",
        f"Medians over {rounds} rounds of {calls} calls alternating call by call, "
        f"{os.cpu_count()} cores; the response cache on disk, as shipped. "
        f"*Stored*: each round starts with a fresh miss and `xest.http.cache.flush()`, so "
        f"every call is a hit read from disk, the steady state of a poller (rounds ended at "
        f"most {longest * 1000:.0f} ms after their miss; the TTL is {ttl:g} s). "
        f"*Just fetched*: the writer thread is held for the round, so hits are served from "
        f"the pending-writes map, as in the millisecond after a miss.",
        "",
        "| exchange | answer | transport hit | `client.ticker` (hit) | client's own | ratio | goal "
        "| met |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for exchange, regimes in results.items():
        for regime, r in regimes.items():
            met = "yes" if r["ratio"] <= GOAL else "no"
            lines.append(
                f"| {exchange} | {regime} | {r['transport_us']:.1f} us | {r['client_us']:.1f} us"
                f" | {r['client_us'] - r['transport_us']:+.1f} us | {r['ratio']:.3f}x "
                f"| ≤ {GOAL}x | {met} |"
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
    publish(block, write=not args.no_write)


if __name__ == "__main__":
    main()
