"""Many threads on one client: throughput against raw urllib3, and connections discarded.

N threads share one xest transport (the way threads share one ``xest.open`` client) and make
uncached public calls to a loopback server in its own process; the floor is N threads sharing
one urllib3 PoolManager sized for N, making the same GET and ``json.loads``. The two alternate
round by round. urllib3 logs a warning for every connection it discards because its pool is
full: those are counted, for xest and the floor alike. xest's rate-limit policy is roomy (the
limiter still spends in the shared state on every call).

Run: ``.venv/bin/python bench/bench_threads.py [--threads 16 64] [--calls 100] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import threading
import time

from bench_transport import start_server
from readme_block import publish

BEGIN, END = "<!-- threads:begin -->", "<!-- threads:end -->"
GOAL = 0.95


class Discards(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "discarding connection" in record.getMessage():
            self.count += 1


def hammer(call, threads: int, calls: int) -> float:
    """Calls per second of ``threads`` threads making ``calls`` calls each."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(calls):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    return threads * calls / (time.perf_counter() - start)


def measure(thread_counts: list[int], calls: int, rounds: int) -> dict:
    import urllib3

    from xest.http import DecayingCounter, Endpoint, Transport

    discards = Discards()
    logging.getLogger("urllib3.connectionpool").addHandler(discards)
    proc, url = start_server()
    try:
        target = url + "/0/public/SystemStatus"
        status = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=60)
        results = {}
        for threads in thread_counts:
            transport = Transport(
                "bench", url, rate_limits={"public": DecayingCounter(maximum=1e12, decay=1e9)}
            )
            raw_pool = urllib3.PoolManager(maxsize=threads)
            # The same floor with xest's default timeouts: CPython polls a socket that has a
            # timeout before every send and receive, two more system calls per call, each a
            # hand-off of the GIL when many threads wait for it.
            timed_pool = urllib3.PoolManager(
                maxsize=threads, timeout=urllib3.Timeout(connect=5.0, read=10.0)
            )
            fns = {
                "floor": lambda p=raw_pool: json.loads(p.request("GET", target).data),
                "timed": lambda p=timed_pool: json.loads(p.request("GET", target).data),
                "xest": lambda t=transport: t.request(status, cache=False).data,
            }
            rates: dict[str, list[float]] = {"floor": [], "timed": [], "xest": []}
            lost = {"floor": 0, "timed": 0, "xest": 0}
            for fn in fns.values():  # warm up: connections opened once
                hammer(fn, threads, 5)
            for _ in range(rounds):
                for name, fn in fns.items():
                    before = discards.count
                    rates[name].append(hammer(fn, threads, calls))
                    lost[name] += discards.count - before
            results[threads] = {
                "floor": statistics.median(rates["floor"]),
                "xest": statistics.median(rates["xest"]),
                "ratio": statistics.median(
                    x / f for x, f in zip(rates["xest"], rates["floor"], strict=True)
                ),
                "timed": statistics.median(rates["timed"]),
                "timed_ratio": statistics.median(
                    x / f for x, f in zip(rates["xest"], rates["timed"], strict=True)
                ),
                "discarded": lost,
            }
        return results
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)


def report(results: dict, calls: int, rounds: int) -> str:
    lines = [
        BEGIN,
        "## Many threads on one client",
        "",
        f"Uncached public calls, each thread {calls} calls, medians of {rounds} alternating "
        f"rounds, {os.cpu_count()} cores; the server in its own process.",
        "",
        "| threads | raw urllib3 calls/s | xest calls/s | xest / floor | goal | met | "
        "connections discarded (floor, xest) | raw urllib3 with timeouts | xest / that |",
        "| ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for threads, r in results.items():
        met = "yes" if r["ratio"] >= GOAL and not r["discarded"]["xest"] else "no"
        lines.append(
            f"| {threads} | {r['floor']:.0f} | {r['xest']:.0f} | {r['ratio']:.3f}x | "
            f"≥ {GOAL}x, none discarded | {met} | "
            f"{r['discarded']['floor']}, {r['discarded']['xest']} | {r['timed']:.0f} | "
            f"{r['timed_ratio']:.3f}x |"
        )
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_threads.py`.", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    block = report(measure(args.threads, args.calls, args.rounds), args.calls, args.rounds)
    publish(block, write=not args.no_write)


if __name__ == "__main__":
    main()
