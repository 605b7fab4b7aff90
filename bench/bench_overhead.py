"""Where a call's overhead over raw urllib3 goes: each guarantee of the transport switched off in
turn (not tests, and not a way to run xest: figures for bench/README.md).

    .venv/bin/python bench/bench_overhead.py [--blocks 15] [--calls 100] [--no-write]

Against a loopback server in its own process, with a cache directory of its own (other xest
processes on the machine share nothing with it). Calls run in blocks of ``--calls`` of one kind,
the kinds alternating block after block; per kind the median block gives the process's CPU time
per call (``time.process_time``: every thread of the client, the cache writer's included) and the
wall time per call. CPU time is the steadier figure on a shared machine, and what bounds a
client's throughput when many threads share one interpreter.

Each variant removes one guarantee by replacing the function that gives it, to price it:
- rate limiter: the shared budget (file lock, read and write of the bucket) and the used-weight
  resynchronisation;
- whole-call deadline: the per-request deadline that cuts off a server trickling its answer;
- exact numbers: JSON decoded with ``parse_float=Decimal`` and refused NaN/Infinity, against
  plain ``json.loads`` (floats);
- size-capped read: the body read with the size limit, against urllib3's ``read()``;
- send order (signed calls): the per-key lock held from nonce to answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from readme_block import publish

BEGIN, END = "<!-- overhead:begin -->", "<!-- overhead:end -->"


class _NoDeadline:
    fired = cancelled = False

    def __init__(self, seconds: float) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _NoOrder:
    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass


def measure(blocks: int, calls: int) -> dict:
    import bench_store
    import bench_transport

    from xest.http import Transport, answer, cache, outcomes
    from xest.http import transport as transport_module

    proc, url = bench_transport.start_server()
    try:
        kit = bench_store.CallKit(url)
        raw_get, raw_post, counter = kit.raw_get, kit.raw_post, kit.counter
        limits, status, balance, creds = kit.limits, kit.status, kit.balance, kit.creds
        sign = kit.sign

        t = Transport("bench", url, rate_limits=limits)

        def uncached():
            return t.request(status, {"n": str(next(counter))}, cache=False)

        def miss():
            return t.request(status, {"n": str(next(counter))})

        def signed():
            return t.request(balance, signer=sign, credentials=creds)

        t.request(balance, signer=sign, credentials=creds)
        nonce, order = t._nonce(creds)
        plain_decode = outcomes.decode_response

        def float_decode(exchange, host, endpoint, raw, body, elapsed, secrets):
            return outcomes.Response(
                status=raw.status, headers=raw.headers, data=json.loads(body), endpoint=endpoint
            )

        @contextlib.contextmanager
        def without(*names: str):
            saved = (t.limiter.acquire, t.limiter.observe, transport_module.bounded)
            saved += (answer.read_body, transport_module.decode_response)
            if "limiter" in names:
                t.limiter.acquire = lambda *a, **k: 0.0
                t.limiter.observe = lambda *a, **k: None
            if "deadline" in names:
                transport_module.bounded = _NoDeadline
            if "decimal" in names:
                transport_module.decode_response = float_decode
            if "read" in names:
                answer.read_body = lambda raw, limit: raw.read()
            if "order" in names:
                t._nonces[creds.key] = (nonce, _NoOrder())
            try:
                yield
            finally:
                t.limiter.acquire, t.limiter.observe, transport_module.bounded = saved[:3]
                answer.read_body, transport_module.decode_response = saved[3:]
                t._nonces[creds.key] = (nonce, order)

        everything = ("limiter", "deadline", "decimal", "read", "order")
        kinds = {
            "raw GET + json.loads": (raw_get, ()),
            "uncached GET, as shipped": (uncached, ()),
            "uncached GET, no rate limiter": (uncached, ("limiter",)),
            "uncached GET, no whole-call deadline": (uncached, ("deadline",)),
            "uncached GET, floats instead of exact numbers": (uncached, ("decimal",)),
            "uncached GET, no size-capped read": (uncached, ("read",)),
            "uncached GET, none of these four": (uncached, everything),
            "cache miss, as shipped": (miss, ()),
            "raw POST + json.loads": (raw_post, ()),
            "signed POST, as shipped": (signed, ()),
            "signed POST, no send order": (signed, ("order",)),
            "signed POST, none of the five": (signed, everything),
        }
        cpu: dict[str, list[float]] = {name: [] for name in kinds}
        wall: dict[str, list[float]] = {name: [] for name in kinds}
        for fn, names in kinds.values():
            with without(*names):
                for _ in range(50):
                    fn()
        for _ in range(blocks):
            for name, (fn, names) in kinds.items():
                with without(*names):
                    cache.flush()
                    c0, w0 = time.process_time(), time.perf_counter()
                    for _ in range(calls):
                        fn()
                    cache.flush()  # the write behind a miss is the miss's own cost
                    cpu[name].append((time.process_time() - c0) / calls)
                    wall[name].append((time.perf_counter() - w0) / calls)
        assert outcomes.decode_response is plain_decode
    finally:
        proc.stdin.close()
        proc.wait()
    return {
        name: (statistics.median(cpu[name]) * 1e6, statistics.median(wall[name]) * 1e6)
        for name in kinds
    }


def report(results: dict, blocks: int, calls: int) -> str:
    floors = {"GET": results["raw GET + json.loads"], "POST": results["raw POST + json.loads"]}
    lines = [
        BEGIN,
        "## Where the overhead goes",
        "",
        f"Blocks of {calls} calls of one kind, kinds alternating, median of {blocks} blocks; "
        f"{os.cpu_count()} cores; CPU is the client process's (all its threads).",
        "",
        "| call | CPU us | CPU / raw | wall us | wall / raw |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, (cpu, wall) in results.items():
        floor = floors["POST" if "POST" in name else "GET"]
        lines.append(
            f"| {name} | {cpu:.1f} | {cpu / floor[0]:.3f}x | {wall:.1f} | {wall / floor[1]:.3f}x |"
        )
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_overhead.py`.", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ["XEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="xest-bench-")
    block = report(measure(args.blocks, args.calls), args.blocks, args.calls)
    publish(block, write=not args.no_write)


if __name__ == "__main__":
    main()
