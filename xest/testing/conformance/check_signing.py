"""Honest signing: the connector's signed requests pass the simulator base's verification (its
declared signature scheme, fresh nonces), and the simulator refuses a forged signature and a
replayed nonce -- a lax simulator would let a signing or nonce bug pass unseen."""

from __future__ import annotations

import time
from typing import Any

import pytest

from xest import errors
from xest.testing.conformance.harness import Context, foundation, wrong_secret
from xest.testing.conformance.inspection import private_read

SIGNING = "test_signed_requests_are_accepted"


def test_signed_requests_are_accepted(xest_ctx: Context):
    """The connector's signed requests pass the simulator base's own verification, twice in a
    row (a reused nonce is refused the second time)."""
    ctx = xest_ctx
    op = private_read(ctx)
    with foundation(ctx.h, SIGNING):
        ctx.call(op)
        _past_replay_grace(ctx)
        ctx.call(op)


def test_simulator_refuses_forged_and_replayed_requests(xest_ctx: Context):
    """A lax simulator would let a signing or nonce bug pass: prove this one refuses both."""
    ctx = xest_ctx
    op = private_read(ctx)
    scheme = getattr(ctx.sim, "signature_scheme", None)
    advice = (
        "; declare signature_scheme (xest.testing.signing) on the simulator so its base "
        "verifies every signed request"
        if scheme is None
        else ""
    )
    forged = ctx.open(secret=wrong_secret(ctx.secret))
    try:
        ctx.call(op, client=forged)
    except errors.AuthenticationError:
        pass
    else:
        pytest.fail(
            f"{ctx.name}'s simulator accepted a request signed with a wrong secret: it does "
            f"not verify signatures, so a signing bug would pass unseen{advice}",
            pytrace=False,
        )
    mark = len(ctx.proxy.requests)
    ctx.call(op, client=ctx.open())  # a fresh client: nothing of its own cached yet
    sent = list(ctx.proxy.requests)[mark:]
    signed = [r for r in sent if scheme.key(r)] if scheme is not None else sent[-1:]
    if not signed:
        pytest.fail(f"{op}() on a fresh client sent no request carrying the API key")
    _past_replay_grace(ctx)
    refused = len(getattr(ctx.sim, "refusals", ()))
    original = signed[-1]
    again = ctx.proxy.resend(original)
    if len(getattr(ctx.sim, "refusals", ())) == refused and not _refusal(ctx, original, again):
        pytest.fail(
            f"{ctx.name}'s simulator accepted a replayed request (same nonce, same signature): "
            f"it must refuse a nonce it has seen, or a nonce-reuse bug would pass unseen{advice}",
            pytrace=False,
        )


def _past_replay_grace(ctx: Context) -> None:
    """Let a timestamp nonce age past the base's replay grace (a counter nonce needs not)."""
    from xest.testing.server import REPLAY_GRACE

    scheme = getattr(ctx.sim, "signature_scheme", None)
    if scheme is None or scheme.nonce_kind != "counter":
        time.sleep(REPLAY_GRACE + 0.1)


def _refusal(ctx: Context, request: Any, answer: Any) -> bool:
    """Whether the exchange refused: an HTTP error, or an error payload the connector raises
    for (exchanges such as Kraken answer errors with HTTP 200)."""
    if answer.status >= 400:
        return True
    import json

    from xest.http import Endpoint, Response

    try:
        data = json.loads(answer.encode())
    except ValueError:
        return False
    endpoint = Endpoint("replayed", request.method, request.path, signed=True)
    response = Response(answer.status, answer.headers, data, endpoint)
    try:
        ctx.connector.check_response(response)
    except errors.XestError:
        return True
    return False
