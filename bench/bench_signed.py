"""Signed calls: xest against raw urllib3 signing by hand, on the simulators.

Kraken ``Balance`` (POST, nonce, HMAC-SHA512 over a base64 secret) and Binance
``/api/v3/account`` (GET, timestamp, HMAC-SHA256), each against its simulator running in a
process of its own (as a real exchange would). The floor is what a careful user of urllib3 would
write: one PoolManager, the secret decoded once, the query built with an f-string, the signature
computed with hmac, ``json.loads``. xest's call goes through the connector's ``request`` (the
transport: limiter, nonce source, signing hook, retries policy, error check, exact JSON decoding).
Its rate-limit policies are replaced by roomy ones of the same buckets: the limiter still spends
in the shared state on every call, but never waits.

The two alternate call by call; the figure is the median over rounds of the per-round median
ratio. Run: ``.venv/bin/python bench/bench_signed.py [--rounds 7] [--calls 200] [--no-write]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time

from readme_block import publish

BEGIN, END = "<!-- signed:begin -->", "<!-- signed:end -->"
GOAL = 1.15


def serve() -> None:
    """Both simulators, in this process, with one fresh account each for xest and the floor
    (Kraken nonces are per key: the two must not share one)."""
    from xest_binance.simulator import BinanceSimulator
    from xest_kraken.simulator import KrakenSimulator

    kraken = KrakenSimulator().start()
    binance = BinanceSimulator(weight_limit=10**9).start()
    setup = {
        "kraken": {
            "url": kraken.url,
            "xest": kraken.add_account(balances={"ZUSD": 1000}),
            "floor": kraken.add_account(balances={"ZUSD": 1000}),
        },
        "binance": {
            "url": binance.url,
            "xest": binance.add_account({"USDT": 1000}),
            "floor": binance.add_account({"USDT": 1000}),
        },
    }
    print(json.dumps(setup), flush=True)
    sys.stdin.read()
    kraken.stop()
    binance.stop()


def floor_calls(setup: dict) -> dict:
    import urllib3

    pool = urllib3.PoolManager()
    k_key, k_secret = setup["kraken"]["floor"]
    k_secret_bytes = base64.b64decode(k_secret)
    k_url = setup["kraken"]["url"] + "/0/private/Balance"
    k_nonce = [time.time_ns() // 1000]

    def kraken() -> object:
        k_nonce[0] = max(k_nonce[0] + 1, time.time_ns() // 1000)
        body = f"nonce={k_nonce[0]}"
        digest = hashlib.sha256(f"{k_nonce[0]}{body}".encode()).digest()
        mac = hmac.new(k_secret_bytes, b"/0/private/Balance" + digest, hashlib.sha512)
        headers = {
            "API-Key": k_key,
            "API-Sign": base64.b64encode(mac.digest()).decode(),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        return json.loads(pool.request("POST", k_url, body=body, headers=headers).data)

    b_key, b_secret = setup["binance"]["floor"]
    b_secret_bytes = b_secret.encode()
    b_url = setup["binance"]["url"] + "/api/v3/account"

    def binance() -> object:
        query = f"recvWindow=5000&timestamp={time.time_ns() // 1_000_000}"
        signature = hmac.new(b_secret_bytes, query.encode(), hashlib.sha256).hexdigest()
        url = f"{b_url}?{query}&signature={signature}"
        return json.loads(pool.request("GET", url, headers={"X-MBX-APIKEY": b_key}).data)

    return {"kraken": kraken, "binance": binance}


def xest_calls(setup: dict) -> dict:
    from xest.http import DecayingCounter, WeightWindow
    from xest.http.limiter import RateLimiter
    from xest.registry import connector_class

    calls = {}
    for exchange, endpoint_name in (("kraken", "BALANCE"), ("binance", "ACCOUNT")):
        cls = connector_class(exchange)
        url = setup[exchange]["url"]
        roomy = {
            name: DecayingCounter(1e12, 1e9, getattr(policy, "per_key", False))
            if isinstance(policy, DecayingCounter)
            else WeightWindow(1e12, per_key=getattr(policy, "per_key", False))
            for name, policy in cls.rate_limits.items()
        }
        from urllib.parse import urlsplit

        import xest

        client = xest.open(
            exchange,
            url=url,
            key=setup[exchange]["xest"][0],
            secret=setup[exchange]["xest"][1],
            limiter=RateLimiter(exchange, urlsplit(url).netloc, roomy),
        )
        endpoint = getattr(__import__(f"xest_{exchange}.endpoints", fromlist=["x"]), endpoint_name)
        calls[exchange] = lambda c=client.connector, e=endpoint: c.request(e)
    return calls


def measure(rounds: int, calls: int) -> dict:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdin is not None
    setup = json.loads(proc.stdout.readline())
    try:
        floor, ours = floor_calls(setup), xest_calls(setup)
        results = {}
        for exchange in ("kraken", "binance"):
            pair = {"floor": floor[exchange], "xest": ours[exchange]}
            for fn in pair.values():
                for _ in range(30):
                    fn()
            per_round = []
            for _ in range(rounds):
                times: dict[str, list[float]] = {"floor": [], "xest": []}
                for _ in range(calls):
                    for name, fn in pair.items():
                        start = time.perf_counter()
                        fn()
                        times[name].append(time.perf_counter() - start)
                per_round.append({k: statistics.median(v) for k, v in times.items()})
            results[exchange] = {
                "floor_us": statistics.median(r["floor"] for r in per_round) * 1e6,
                "xest_us": statistics.median(r["xest"] for r in per_round) * 1e6,
                "ratio": statistics.median(r["xest"] / r["floor"] for r in per_round),
            }
        return results
    finally:
        proc.stdin.close()
        proc.wait(10)


def report(results: dict, rounds: int, calls: int) -> str:
    lines = [
        BEGIN,
        "## Signed calls",
        "",
        f"Against the simulators in their own process; medians over {rounds} rounds of {calls} "
        f"calls alternating call by call, {os.cpu_count()} cores.",
        "",
        "| call | raw urllib3, signed by hand | xest | ratio | goal | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    names = {"kraken": "Kraken `Balance` (POST)", "binance": "Binance `account` (GET)"}
    for exchange, r in results.items():
        met = "yes" if r["ratio"] <= GOAL else "no"
        lines.append(
            f"| {names[exchange]} | {r['floor_us']:.1f} us | {r['xest_us']:.1f} us | "
            f"{r['ratio']:.3f}x | ≤ {GOAL}x | {met} |"
        )
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_signed.py`.", END]
    return "\n".join(lines)


def main() -> None:
    if "--serve" in sys.argv:
        serve()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    block = report(measure(args.rounds, args.calls), args.rounds, args.calls)
    publish(block, write=not args.no_write)


if __name__ == "__main__":
    main()
