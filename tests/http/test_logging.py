"""What the transport logs on ``xest.http``, and what it never logs or puts in an error."""

from __future__ import annotations

import logging

import pytest
from httpsupport import ORDER, PRIVATE, STATUS, TIME, Endpoint

from xest import errors
from xest.credentials import Credentials
from xest.http import DecayingCounter, Transport
from xest.http.redact import redact
from xest.testing.server import Fault

KEY = "LOGKEY-9f8e7d6c5b4a3210"
SECRET = "LOGSECRET-0a1b2c3d4e5f6789=="
CREDS = Credentials(KEY, SECRET, "dave")
ECHO_ERROR = Endpoint("echo_error", "GET", "/echo_error", signed=True)


def sign(req, creds, ctx):
    signature = "SIG" + creds.secret[::-1]
    req.params["nonce"] = str(ctx.nonce())
    req.params["signature"] = signature
    req.headers["API-Key"] = creds.key
    req.headers["API-Sign"] = signature


SIGNATURE = "SIG" + SECRET[::-1]
FORBIDDEN = (KEY, SECRET, SIGNATURE)


def test_request_lines_name_method_path_status_duration_and_cache(sim, caplog):
    caplog.set_level(logging.DEBUG, logger="xest.http")
    t = Transport("echo", sim.url)
    t.request(STATUS, {"pair": "XBTUSD"})
    t.request(STATUS, {"pair": "XBTUSD"})
    lines = [r.getMessage() for r in caplog.records if r.name == "xest.http"]
    assert any(
        line.startswith("GET /status -> 200 in ") and "ms (cache miss)" in line for line in lines
    )
    assert any(line.startswith("GET /status -> 200 from cache (hit)") for line in lines)
    assert not any("XBTUSD" in line for line in lines)  # paths only: queries may carry secrets


def test_limiter_waits_and_retries_are_logged(sim, caplog):
    caplog.set_level(logging.INFO, logger="xest.http")
    t = Transport("echo", sim.url, rate_limits={"public": DecayingCounter(2, 20)}, backoff=0.01)
    t.request(TIME)
    t.request(TIME)
    t.request(TIME)  # waits about 50 ms for the counter to decay
    sim.inject(Fault.http(503), path="/time")
    t.request(TIME, cache=False)
    text = caplog.text
    assert "waiting" in text and "'public' budget" in text
    assert "HTTP 503, attempt 1 of 3; retrying" in text


def test_no_secret_in_logs_or_errors_whatever_happens(sim, caplog):
    caplog.set_level(logging.DEBUG)
    t = Transport("echo", sim.url, backoff=0.01, read_timeout=0.3)
    messages = []

    def attempt(endpoint, *faults):
        if faults:
            sim.inject(*faults, path=endpoint.path)
        try:
            t.request(endpoint, {"pair": "XBTUSD"}, signer=sign, credentials=CREDS)
        except errors.XestError as exc:
            messages.append(str(exc))
            messages.append(repr(exc))

    attempt(PRIVATE)
    attempt(PRIVATE, Fault.http(503))
    attempt(ORDER, Fault.reset())
    attempt(ORDER, Fault.slow(0.5))
    attempt(ORDER, Fault.html(502))
    attempt(PRIVATE, Fault.truncated())
    attempt(ECHO_ERROR)  # an error page that echoes the key, signature and nonce back
    attempt(ORDER, Fault.rate_limited(0.01))
    assert len(messages) >= 10
    assert any("bad request" in m for m in messages)
    everything = caplog.text + "\n".join(messages)
    for secret in FORBIDDEN:
        assert secret not in everything
    assert "<redacted>" in everything


def test_redact_masks_known_values_and_named_fields():
    text = f"key={KEY}&signature=abc123def&x=1 API-Sign: zzz999 secret {SECRET}"
    out = redact(text, [KEY, SECRET])
    assert KEY not in out and SECRET not in out
    assert "abc123def" not in out and "zzz999" not in out
    assert "x=1" in out


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
def test_signed_calls_log_path_only(sim, caplog, level):
    caplog.set_level(level, logger="xest.http")
    Transport("echo", sim.url).request(PRIVATE, signer=sign, credentials=CREDS)
    for secret in (*FORBIDDEN, "nonce="):
        assert secret not in caplog.text
