"""One process of the nonce campaign: ``python nonce_worker.py URL KEY SECRET CALLS``; prints
how many calls failed (each for any reason) on its last line."""

from __future__ import annotations

import sys

from xest_kraken.connector import KrakenConnector

from xest import errors
from xest.credentials import Credentials
from xest.http.limiter import RateLimiter


def connector(url: str, key: str, secret: str) -> KrakenConnector:
    c = KrakenConnector.create(
        url,
        Credentials(key, secret, "campaign"),
        cache=False,
        limiter=RateLimiter("kraken", url.split("://")[1], {}),  # the campaign is about nonces
    )
    return c


def main() -> None:
    url, key, secret, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    c = connector(url, key, secret)
    failed = 0
    for _ in range(calls):
        try:
            c.balances()
        except errors.XestError as exc:
            failed += 1
            print(type(exc).__name__, exc, file=sys.stderr)
    print(failed)


if __name__ == "__main__":
    main()
