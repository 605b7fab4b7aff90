"""A worker process for the multi-process transport tests.

    python worker.py MODE URL START_AT INDEX [ARGS...]

Every worker sleeps until the UNIX time START_AT, so they all begin together, then prints one
result per line. The cache directory comes from XEST_CACHE_DIR, as for any xest process.
"""

from __future__ import annotations

import sys
import time

from xest import errors
from xest.http import DecayingCounter, Endpoint, Transport
from xest.http.nonce import nonce_source


def main() -> None:
    mode, url, start_at, _index, *args = sys.argv[1:]
    if not mode.startswith("nonce"):
        budget = float(args[0]) if args else 1e9
        transport = Transport(
            "echo",
            url,
            rate_limits={"public": DecayingCounter(maximum=budget, decay=1e-6)},
            max_wait=0,
            retries=1,
        )
    delay = float(start_at) - time.time()
    if delay > 0:
        time.sleep(delay)
    if mode == "status":
        response = transport.request(Endpoint("slow_status", "GET", "/slow_status", ttl=30))
        print(response.data["calls"], response.from_cache)
    elif mode == "limit":
        calls = int(args[1])
        for _ in range(calls):
            try:
                transport.request(Endpoint("time", "GET", "/time"))
                print("ok")
            except errors.RateLimited:
                print("limited")
    elif mode == "once":
        try:
            transport.request(Endpoint("time", "GET", "/time"))
            print("ok")
        except errors.RateLimited as exc:
            print("limited", exc.retry_after, exc.ban_until)
    elif mode == "acquire":
        ok = limited = 0
        for _ in range(int(args[1])):
            try:
                transport.limiter.acquire("public", 1, max_wait=0)
                ok += 1
            except errors.RateLimited:
                limited += 1
        print(ok, limited)
    elif mode == "nonce":
        source = nonce_source(args[0])
        for _ in range(int(args[1])):
            print(source())
    elif mode == "nonce-timed":  # before_ns nonce after_ns
        source = nonce_source(args[0])
        for _ in range(int(args[1])):
            before = time.time_ns()
            nonce = source()
            print(before, nonce, time.time_ns())
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
