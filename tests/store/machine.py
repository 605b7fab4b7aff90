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
    elif mode == "kraken":
        kraken(*args)
    else:
        raise SystemExit(f"unknown mode {mode}")


def kraken(url: str, key: str, secret: str, calls: str, maximum: str, decay: str) -> None:
    """Signed Kraken calls (every tenth an order far from the market) until ``calls`` have
    succeeded; one line per attempt: ok, placed ID, down (StoreUnavailable), invalid-nonce."""
    from decimal import Decimal

    from xest import registry
    from xest.credentials import Credentials

    budget = DecayingCounter(maximum=float(maximum), decay=float(decay), per_key=True)
    transport = Transport(
        "kraken",
        url,
        rate_limits={
            "public": DecayingCounter(1e6, 1e6),
            "private": budget,
            "orders": budget,
        },
        max_wait=30,
    )
    connector = registry.connector_class("kraken")(transport, Credentials(key, secret, "m"))
    done = 0
    deadline = time.monotonic() + 60
    while done < int(calls) and time.monotonic() < deadline:
        try:
            if done % 10 == 9:
                order = connector.place_order(
                    "BTC/USD", "buy", "limit", Decimal("0.01"), Decimal("1000")
                )
                print("placed", order.id, flush=True)
            else:
                connector.balances()
                print("ok", flush=True)
            done += 1
        except errors.StoreUnavailable as exc:
            assert "XEST_STORE" in str(exc) and "nothing was sent" in str(exc), exc
            print("down", flush=True)
            time.sleep(0.05)
        except errors.InvalidNonce:
            print("invalid-nonce", flush=True)


if __name__ == "__main__":
    main()
