"""Shared test helpers: a replay server for recorded answers, and clients without rate limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xest_kraken import KrakenConnector

from xest.credentials import Credentials
from xest.http.limiter import RateLimiter
from xest.testing.server import LoopbackServer, SimRequest, SimResponse

# The simulator is local: Kraken's real counters (about 1 public call a second) would only slow
# the tests down, so test clients spend from a limiter without policies.
NO_LIMITS = {"limiter": RateLimiter("kraken", "tests", {})}

TEST_KEY = "test-key"
# The secret of Kraken's documented signing example (it belongs to no account).
TEST_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)


class Replay(LoopbackServer):
    """Answers ``"METHOD /path"`` (or ``"/path"``) with a recorded body; records the requests."""

    exchange = "kraken-replay"

    def __init__(self, responses: Mapping[str, Any], status: int = 200) -> None:
        super().__init__()
        self.responses = dict(responses)
        self.status = status
        self.requests: list[SimRequest] = []

    def handle(self, request: SimRequest) -> SimResponse:
        self.requests.append(request)
        body = self.responses.get(f"{request.method} {request.path}")
        if body is None:
            body = self.responses.get(request.path)
        if body is None:
            return SimResponse({"error": ["EGeneral:Unknown method"]}, status=404)
        if not isinstance(body, str | bytes):
            body = json.dumps(body)
        return SimResponse(body, status=self.status)


def connector(url: str, credentials: Credentials | None = None) -> KrakenConnector:
    return KrakenConnector.create(
        url, credentials or Credentials(TEST_KEY, TEST_SECRET, "test"), cache=False, **NO_LIMITS
    )


def sim_client(**options: Any):
    """``xest.open("kraken", sim=True)`` without the shared cache or rate limits."""
    import xest

    return xest.open("kraken", sim=True, cache=False, **NO_LIMITS, **options)
