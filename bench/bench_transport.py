"""Transport benchmarks against a loopback server (not tests: numbers for bench/README.md).

    .venv/bin/python bench/bench_transport.py [--rounds 7] [--calls 300] [--procs 8] [--seconds 10]

1. An uncached xest call vs a raw urllib3 GET of the same URL (goal: ratio <= 1.15).
2. A cached call vs an uncached one (goal: >= 10x faster).
3. K processes polling a status endpoint with a 1 s TTL for N seconds (goal: <= N + 1 remote
   calls in all).

Each figure is the median over rounds; the raw and xest rounds alternate in the same run, against
the same server, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STATUS_BODY = {"error": [], "result": {"status": "online", "timestamp": "2026-11-21T00:00:00Z"}}


def make_server():
    from xest.testing.server import LoopbackServer, route

    class BenchExchange(LoopbackServer):
        exchange = "bench"

        @route("GET", "/0/public/SystemStatus")
        def status(self, request):
            return STATUS_BODY

    return BenchExchange().start()


def per_call(fn, calls: int) -> float:
    """Median seconds per call over ``calls`` calls (after a warm-up)."""
    for _ in range(20):
        fn()
    timings = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - t0)
    return statistics.median(timings)


def bench_overhead(url: str, rounds: int, calls: int) -> dict:
    import urllib3

    from xest.http import DecayingCounter, Endpoint, Transport
    from xest.http.transport import decode_json

    target = url + "/0/public/SystemStatus"
    raw_pool = urllib3.PoolManager()

    def raw_get():
        return raw_pool.request("GET", target).data

    def raw_get_json():
        return json.loads(raw_pool.request("GET", target).data)

    # A connector's real shape: a rate-limit policy (roomy enough never to wait) and a TTL.
    transport = Transport(
        "bench", url, rate_limits={"public": DecayingCounter(maximum=1e12, decay=1e9)}
    )
    status = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=60)

    def xest_uncached():
        return transport.request(status, cache=False).data

    def xest_cached():
        return transport.request(status).data

    assert decode_json(raw_get()) == xest_uncached()
    results: dict[str, list[float]] = {
        "raw": [],
        "raw_json": [],
        "uncached": [],
        "cached": [],
    }
    for _ in range(rounds):
        results["raw"].append(per_call(raw_get, calls))
        results["uncached"].append(per_call(xest_uncached, calls))
        results["raw_json"].append(per_call(raw_get_json, calls))
        results["cached"].append(per_call(xest_cached, calls))
    med = {k: statistics.median(v) for k, v in results.items()}
    ratios = [u / r for u, r in zip(results["uncached"], results["raw"], strict=True)]
    return {
        "median_us": {k: round(v * 1e6, 1) for k, v in med.items()},
        "uncached_vs_raw": round(statistics.median(ratios), 3),
        "uncached_vs_raw_json": round(med["uncached"] / med["raw_json"], 3),
        "cached_speedup": round(med["uncached"] / med["cached"], 1),
    }


def bench_polling(url: str, procs: int, seconds: float, server) -> dict:
    start_at = time.time() + 1.5
    env = {**os.environ}
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, f"{start_at}", f"{seconds}"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(procs)
    ]
    reads = sum(int(w.communicate()[0].split()[0]) for w in workers)
    return {
        "processes": procs,
        "seconds": seconds,
        "reads": reads,
        "remote_calls": server.hits["/0/public/SystemStatus"],
    }


def worker(url: str, start_at: float, seconds: float) -> None:
    from xest.http import Endpoint, Transport

    transport = Transport("bench", url)
    status = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=1)
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    reads = 0
    while time.time() < end:
        transport.request(status)
        reads += 1
        time.sleep(0.01)  # a tight polling loop: 100 reads per second per process
    print(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, start_at, seconds = args.worker
        worker(url, float(start_at), float(seconds))
        return
    with tempfile.TemporaryDirectory(prefix="xest-bench-") as tmp:
        os.environ["XEST_CACHE_DIR"] = str(Path(tmp) / "cache")
        server = make_server()
        try:
            overhead = bench_overhead(server.url, args.rounds, args.calls)
            print(json.dumps(overhead, indent=2))
            server.hits.clear()
            from xest.http.cache import ResponseCache

            ResponseCache().clear()
            polling = bench_polling(server.url, args.procs, args.seconds, server)
            print(json.dumps(polling, indent=2))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
