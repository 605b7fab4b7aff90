"""A worker process on one "machine" for the store tests (its cache directory is its own; the
store comes from XEST_STORE, as for any xest process).

    python machine.py MODE STORE_URL START_AT INDEX [ARGS...]
"""

from __future__ import annotations

import sys
import time

from xest import errors
from xest.http import DecayingCounter, Endpoint, Transport
from xest.http.nonce import nonce_source


def main() -> None:
    mode, _url, start_at, _index, *args = sys.argv[1:]
    delay = float(start_at) - time.time()
    if delay > 0:
        time.sleep(delay)
    if mode == "status":
        transport = Transport("echo", args[0], max_wait=0, retries=1)
        response = transport.request(Endpoint("slow_status", "GET", "/slow_status", ttl=30))
        print(response.data["calls"], response.from_cache)
    elif mode == "nonce-timed":  # before_ns nonce after_ns
        source = nonce_source(args[0], "echo")
        for _ in range(int(args[1])):
            before = time.time_ns()
            nonce = source()
            print(before, nonce, time.time_ns())
    elif mode == "acquire":
        transport = Transport(
            "echo",
            "http://127.0.0.1:9",
            rate_limits={"public": DecayingCounter(maximum=float(args[0]), decay=1e-6)},
        )
        ok = limited = 0
        for _ in range(int(args[1])):
            try:
                transport.limiter.acquire("public", 1, max_wait=0)
                ok += 1
            except errors.RateLimited:
                limited += 1
        print(ok, limited)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
