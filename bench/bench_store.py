"""Storage benchmarks: the directory store and the Redis store (not tests: figures for
bench/README.md).

    .venv/bin/python bench/bench_store.py [--rounds 7] [--calls 300] [--procs 16] [--seconds 10]
                                          [--signed 200] [--readme]

1. Per-call cost, interleaved call by call against a loopback server in its own process, with
   the floors measured in the same run: a raw urllib3 GET (floor of reads) and POST (floor of
   signed calls). Cache miss (the default path of a cacheable endpoint), cache hit, signed call
   (nonce, send order, budget), for the directory store and the Redis store; and the nonce draw
   alone (time x slot, the old per-draw locked file, Redis).
2. Shared-cache tail latency: 16 processes reading one status with a 1 s TTL (directory store):
   every read's time, p50 / p99 / worst, and the remote calls.
3. Two "machines" (separate cache directories) x 4 processes x 200 signed Kraken calls through
   one Redis against the Kraken simulator: nonces (checked server-side), invalid-nonce answers,
   the budget as the exchange counts it (server-side arrivals replayed through the policy).
4. 16 processes over both machines polling status for 10 s, TTL 1 s, through Redis: remote calls.

A redis-server is started on a free loopback port with a temporary directory, and stopped after.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_transport import remote_hits, start_server

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- store:begin -->", "<!-- store:end -->"
MAXIMUM, DECAY = 20.0, 50.0  # the signed run's budget: Kraken's shape, sped up


# -- servers (the loopback exchange is bench_transport's) ------------------------------------


@contextlib.contextmanager
def redis_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    directory = tempfile.mkdtemp(prefix="xest-bench-redis-")
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(500):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.01)
    try:
        yield url
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


# -- 1. per-call cost ------------------------------------------------------------------------------


def per_call(fns: dict, calls: int) -> dict[str, float]:
    from xest.http.cache import flush

    for fn in fns.values():
        for _ in range(20):
            fn()
    timings: dict[str, list[float]] = {name: [] for name in fns}
    clock = time.perf_counter
    for _ in range(calls):
        for name, fn in fns.items():
            t0 = clock()
            fn()
            timings[name].append(clock() - t0)
            # A miss's answer is written behind the caller: let that write finish outside the
            # timing, or it lands in whichever call comes next (the floor's, as often as not).
            # This measures a first call's latency; bench_overhead.py prices bursts of misses.
            flush()
    return {name: statistics.median(values) for name, values in timings.items()}


class CallKit:
    """What the per-call benches share (this one and bench_overhead.py): the raw urllib3 floors,
    roomy rate limits, the two endpoints, credentials, a signer that only draws a nonce (the
    transport's share: the floor has no HMAC either) and a counter for parameters no answer was
    cached for."""

    def __init__(self, url: str) -> None:
        import urllib3

        from xest.credentials import Credentials
        from xest.http import DecayingCounter, Endpoint

        self.raw_pool = urllib3.PoolManager()
        self.status_url = url + "/0/public/SystemStatus"
        self.balance_url = url + "/0/private/Balance"
        self.counter = itertools.count()
        self.limits = {
            "public": DecayingCounter(maximum=1e12, decay=1e9),
            "private": DecayingCounter(maximum=1e12, decay=1e9, per_key=True),
        }
        self.status = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=60)
        self.balance = Endpoint(
            "Balance", "POST", "/0/private/Balance", signed=True, bucket="private"
        )
        self.creds = Credentials("BENCH-KEY-0123456789", "BENCH-SECRET-0123456789", "bench")

    def raw_get(self):
        url = f"{self.status_url}?n={next(self.counter)}"
        return json.loads(self.raw_pool.request("GET", url).data)

    def raw_post(self):
        body = f"nonce={time.time_ns()}"
        headers = {
            "API-Key": "k",
            "API-Sign": "s",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answer = self.raw_pool.request("POST", self.balance_url, body=body, headers=headers)
        return json.loads(answer.data)

    @staticmethod
    def sign(req, creds, ctx) -> None:
        req.params["nonce"] = str(ctx.nonce())
        req.headers["API-Key"] = "k"
        req.headers["API-Sign"] = "s"


def bench_calls(url: str, redis_url: str, rounds: int, calls: int) -> dict:
    from xest.http import Transport, store
    from xest.http.nonce import SHARED_SLOT, NonceSource
    from xest.http.storage import cache_dir

    kit = CallKit(url)
    raw_get, raw_post, counter = kit.raw_get, kit.raw_post, kit.counter
    limits, status, balance, creds, sign = kit.limits, kit.status, kit.balance, kit.creds, kit.sign

    def contenders(kind: str) -> dict:
        t = Transport("bench", url, rate_limits=limits)
        t.request(status)

        def miss():
            return t.request(status, {"n": str(next(counter))}).data

        def hit():
            return t.request(status).data

        def signed():
            return t.request(balance, signer=sign, credentials=creds).data

        return {f"{kind}_miss": miss, f"{kind}_hit": hit, f"{kind}_signed": signed}

    os.environ.pop("XEST_STORE", None)
    store.reset()
    directory = contenders("dir")
    os.environ["XEST_STORE"] = redis_url
    store.reset()
    shared = contenders("redis")
    redis_nonce = store.current().nonces("BENCH-NONCE", "bench")
    os.environ.pop("XEST_STORE")
    store.reset()
    (cache_dir() / "bench-nonces").mkdir(parents=True, exist_ok=True)
    slot = NonceSource("BENCH-NONCE-1", cache_dir() / "bench-nonces")
    locked = NonceSource("BENCH-NONCE-2", cache_dir() / "bench-nonces")
    locked()
    locked._slot = SHARED_SLOT  # the always-locked mode: what every draw cost before

    results = []
    for _ in range(rounds):
        result = per_call(
            {
                "raw_get": raw_get,
                **{k: v for k, v in directory.items() if "miss" in k},
                **{k: v for k, v in shared.items() if "miss" in k},
            },
            calls,
        )
        result.update(
            per_call(
                {
                    "raw_post": raw_post,
                    "dir_signed": directory["dir_signed"],
                    "redis_signed": shared["redis_signed"],
                },
                calls,
            )
        )
        result.update(
            per_call({"dir_hit": directory["dir_hit"], "redis_hit": shared["redis_hit"]}, calls)
        )
        nonces = {"nonce_slot": slot, "nonce_locked": locked, "nonce_redis": redis_nonce}
        result.update(per_call(nonces, calls))
        results.append(result)

    def med(f) -> float:
        return statistics.median(f(r) for r in results)

    names = sorted(results[0])
    return {
        "median_us": {k: round(med(lambda r, k=k: r[k]) * 1e6, 1) for k in names},
        "dir_miss_vs_raw": round(med(lambda r: r["dir_miss"] / r["raw_get"]), 3),
        "redis_miss_vs_raw": round(med(lambda r: r["redis_miss"] / r["raw_get"]), 3),
        "dir_signed_vs_raw": round(med(lambda r: r["dir_signed"] / r["raw_post"]), 3),
        "redis_signed_vs_raw": round(med(lambda r: r["redis_signed"] / r["raw_post"]), 3),
        "redis_hit_overhead_us": round(med(lambda r: r["redis_hit"] - r["dir_hit"]) * 1e6, 1),
        "redis_signed_overhead_us": round(
            med(lambda r: r["redis_signed"] - r["dir_signed"]) * 1e6, 1
        ),
        "rounds": rounds,
        "calls": calls,
    }


# -- 2 and 4. processes polling a status -----------------------------------------------------------


def poll_worker(url: str, start_at: float, seconds: float, out: str) -> None:
    from xest.http import Endpoint, Transport

    transport = Transport("bench", url)
    status = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=1)
    transport.request(Endpoint("warm", "GET", "/bench/hits"))
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    durations = []
    clock = time.perf_counter
    params = {"poll": "1"}  # not the key the per-call rounds cached for 60 s
    while time.time() < end:
        t0 = clock()
        transport.request(status, params)
        durations.append(clock() - t0)
        time.sleep(0.01)
    Path(out).write_text(json.dumps(durations))


def bench_polling(url: str, procs: int, seconds: float, redis_url: str | None) -> dict:
    before = remote_hits(url)
    start_at = time.time() + 2.0
    tmp = Path(tempfile.mkdtemp(prefix="xest-bench-poll-"))
    workers = []
    for i in range(procs):
        env = {**os.environ, "XEST_CACHE_DIR": str(tmp / f"m{i % 2 if redis_url else 0}")}
        env.pop("XEST_STORE", None)
        if redis_url:
            env["XEST_STORE"] = redis_url
        out = tmp / f"w{i}.json"
        cmd = [sys.executable, __file__, "--poll", url, f"{start_at}", f"{seconds}", str(out)]
        workers.append((subprocess.Popen(cmd, env=env), out))
    durations = []
    for proc, out in workers:
        proc.wait()
        durations += json.loads(out.read_text())
    shutil.rmtree(tmp, ignore_errors=True)
    durations.sort()

    def q(p: float) -> float:
        return round(durations[min(len(durations) - 1, int(p * len(durations)))] * 1000, 3)

    return {
        "processes": procs,
        "seconds": seconds,
        "reads": len(durations),
        "remote_calls": remote_hits(url) - before,
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
        "worst_ms": round(durations[-1] * 1000, 3),
    }


# -- 3. two machines of signed Kraken calls --------------------------------------------------------


def kraken_worker(sim_url: str, key: str, secret: str, calls: int, start_at: float) -> None:
    from xest import errors, registry
    from xest.credentials import Credentials
    from xest.http import DecayingCounter, Transport

    budget = DecayingCounter(maximum=MAXIMUM, decay=DECAY, per_key=True)
    limits = {"public": DecayingCounter(1e6, 1e6), "private": budget}
    transport = Transport("kraken", sim_url, rate_limits=limits, max_wait=60)
    connector = registry.connector_class("kraken")(transport, Credentials(key, secret, "m"))
    time.sleep(max(0.0, start_at - time.time()))
    invalid = 0
    for _ in range(calls):
        try:
            connector.balances()
        except errors.InvalidNonce:
            invalid += 1
    print(invalid)


def bench_machines(redis_url: str, signed: int) -> dict:
    from xest import registry

    sim = registry.simulator_factory("kraken")().start()
    seen: list[tuple[float, int, str]] = []
    original = sim.authenticate

    def authenticate(request):
        arrival = time.monotonic()
        try:
            account = original(request)
        except Exception as exc:
            seen.append((arrival, int(request.form.get("nonce", "0")), str(exc)))
            raise
        seen.append((arrival, int(request.form.get("nonce", "0")), "ok"))
        return account

    sim.authenticate = authenticate
    key, secret = sim.demo_credentials()
    tmp = Path(tempfile.mkdtemp(prefix="xest-bench-machines-"))
    start_at = time.time() + 2.0
    procs = []
    began = time.monotonic()
    for machine in ("m1", "m2"):
        env = {**os.environ, "XEST_CACHE_DIR": str(tmp / machine), "XEST_STORE": redis_url}
        for _ in range(4):
            cmd = [sys.executable, __file__, "--kraken", sim.url, key, secret, str(signed)]
            cmd.append(f"{start_at}")
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
    client_invalid = sum(int(p.communicate()[0]) for p in procs)
    elapsed = time.monotonic() - began - 2.0
    sim.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    seen.sort()
    nonces = [n for _, n, _ in seen]
    level, last, peak = 0.0, None, 0.0
    for t, *_ in seen:
        level = level if last is None else max(0.0, level - DECAY * (t - last))
        level, last = level + 1, t
        peak = max(peak, level)
    return {
        "calls": len(seen),
        "seconds": round(elapsed, 1),
        "invalid_nonce": sum(v != "ok" for *_, v in seen),
        "client_invalid_nonce": client_invalid,
        "nonces_increasing": all(a < b for a, b in itertools.pairwise(nonces)),
        "nonces_unique": len(set(nonces)) == len(nonces),
        "budget": f"{MAXIMUM:g} + {DECAY:g}/s",
        "peak_level": round(peak, 2),
    }


# -- report ----------------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def write_readme(calls: dict, tail: dict, machines: dict, polling: dict) -> None:
    us = calls["median_us"]
    lines = [
        BEGIN,
        "## Storage (directory store and Redis store)",
        "",
        "Against a loopback server in its own process and a local `redis-server` (loopback, no",
        "persistence), on the development machine (2 cores, shared with other work). Per-call",
        f"figures: medians over {calls['rounds']} rounds of {calls['calls']} calls, contenders",
        "interleaved call by call with their floor (raw urllib3) in the same run. The signer in",
        "the signed rows only draws a nonce (no HMAC), so the ratio is the transport's own share.",
        "A miss's answer is written behind the caller; that write finishes between two calls,",
        "outside the timing (a first call's latency; `bench_overhead.py` prices bursts).",
        "",
        "| measure | figure | goal |",
        "| --- | --- | --- |",
        f"| raw `urllib3` GET + json (floor of reads) | {us['raw_get']} us | |",
        f"| cache miss, directory store | {us['dir_miss']} us | |",
        f"| cache miss / raw GET, directory store | {calls['dir_miss_vs_raw']}x | <= 1.15x {_mark(calls['dir_miss_vs_raw'] <= 1.15)} |",  # noqa: E501
        f"| cache miss / raw GET, Redis store | {calls['redis_miss_vs_raw']}x | |",
        f"| cache hit, directory store | {us['dir_hit']} us | |",
        f"| cache hit, Redis store | {us['redis_hit']} us (+{calls['redis_hit_overhead_us']} us) | |",  # noqa: E501
        f"| raw `urllib3` POST + json (floor of signed calls) | {us['raw_post']} us | |",
        f"| signed call / raw POST, directory store | {calls['dir_signed_vs_raw']}x | <= 1.15x {_mark(calls['dir_signed_vs_raw'] <= 1.15)} |",  # noqa: E501
        f"| signed call / raw POST, Redis store | {calls['redis_signed_vs_raw']}x (+{calls['redis_signed_overhead_us']} us) | |",  # noqa: E501
        f"| nonce draw: time x slot (directory store) | {us['nonce_slot']} us | no file work per call |",  # noqa: E501
        f"| nonce draw: locked file per draw (before; now the fallback) | {us['nonce_locked']} us | |",  # noqa: E501
        f"| nonce draw: Redis script | {us['nonce_redis']} us | |",
        f"| {tail['processes']} processes reading a 1 s TTL status for {tail['seconds']:g} s, directory store: read p50 / p99 / worst | {tail['p50_ms']} / {tail['p99_ms']} / {tail['worst_ms']} ms ({tail['reads']} reads, {tail['remote_calls']} remote calls) | p99 <= 5 ms {_mark(tail['p99_ms'] <= 5)} |",  # noqa: E501
        f"| 2 machines x 4 processes x {machines['calls'] // 8} signed Kraken calls, one Redis: invalid nonces (server / client) | {machines['invalid_nonce']} / {machines['client_invalid_nonce']} | 0 {_mark(machines['invalid_nonce'] == 0)} |",  # noqa: E501
        f"| same run: nonces at the exchange strictly increasing, unique | {machines['nonces_increasing']}, {machines['nonces_unique']} | {_mark(machines['nonces_increasing'] and machines['nonces_unique'])} |",  # noqa: E501
        f"| same run: budget {machines['budget']}, highest level counted at arrival | {machines['peak_level']} | <= {MAXIMUM:g} (+1 for timing) {_mark(machines['peak_level'] <= MAXIMUM + 1)} |",  # noqa: E501
        f"| {polling['processes']} processes on 2 machines polling status {polling['seconds']:g} s, TTL 1 s, Redis | {polling['remote_calls']} remote calls ({polling['reads']} reads, p99 {polling['p99_ms']} ms) | <= {polling['seconds'] + 1:g} {_mark(polling['remote_calls'] <= polling['seconds'] + 1)} |",  # noqa: E501
        "",
        f"The signed Kraken run took {machines['seconds']} s; its budget is Kraken's shape (a",
        "decaying counter per key) sped up, so that 1600 calls take seconds rather than the",
        "half hour Kraken's own starter tier would need. The kill-and-restart run is a test:",
        "`tests/store/test_two_machines.py`.",
        "",
        "Reproduce: `.venv/bin/python bench/bench_store.py --readme`.",
        END,
    ]
    text = README.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--procs", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--signed", type=int, default=200)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="xest-bench-store-")
    os.environ["XEST_CACHE_DIR"] = home
    os.environ.pop("XEST_STORE", None)
    proc, url = start_server()
    try:
        with redis_server() as redis_url:
            calls = bench_calls(url, redis_url, args.rounds, args.calls)
            print(json.dumps(calls, indent=1), flush=True)
            tail = bench_polling(url, args.procs, args.seconds, None)
            print(json.dumps(tail), flush=True)
            machines = bench_machines(redis_url, args.signed)
            print(json.dumps(machines), flush=True)
            polling = bench_polling(url, args.procs, args.seconds, redis_url)
            print(json.dumps(polling), flush=True)
    finally:
        proc.stdin.close()
        proc.wait()
        shutil.rmtree(home, ignore_errors=True)
    if args.readme:
        write_readme(calls, tail, machines, polling)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--poll"]:
        poll_worker(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1:2] == ["--kraken"]:
        kraken_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    else:
        main()
