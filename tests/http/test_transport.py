"""The transport against a real loopback server: decoding, timeouts, retries, typed errors."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from httpsupport import ORDER, PRIVATE, STATUS, TIME

from xest import errors
from xest.credentials import Credentials
from xest.http import Endpoint, Transport
from xest.http.transport import GatewayError
from xest.testing.server import Fault


def make(sim, **kw) -> Transport:
    kw.setdefault("backoff", 0.01)
    return Transport("echo", sim.url, **kw)


def sign(req, creds, ctx):
    req.params["nonce"] = str(ctx.nonce())
    req.headers["API-Key"] = creds.key
    req.headers["API-Sign"] = f"sig-{creds.secret}-{req.params['nonce']}"


CREDS = Credentials("KEY-abcdef123456", "SECRET-zyxw987654", "alice")


def test_json_keeps_numbers_exact(sim):
    data = make(sim).request(TIME).data
    assert data["price"] == Decimal("0.1") and isinstance(data["price"], Decimal)
    assert data["id"] == 2**63 + 7


def test_params_are_sent_and_floats_refused(sim):
    t = make(sim, cache=False)
    data = t.request(STATUS, {"pair": "XBTUSD", "n": 3, "skip": None, "flag": True}).data
    assert data["query"] == {"pair": "XBTUSD", "n": "3", "flag": "true"}
    with pytest.raises(TypeError, match="Decimal"):
        t.request(STATUS, {"amount": 0.1})


def test_read_timeout_is_typed_and_not_retried(sim):
    sim.inject(Fault.slow(0.6), path="/time")
    with pytest.raises(errors.RequestTimeout, match="did not answer /time in time"):
        make(sim, read_timeout=0.2).request(TIME)
    assert sim.hits["/time"] == 1


def test_per_call_timeout_overrides_the_transport(sim):
    sim.inject(Fault.slow(0.6), path="/time")
    t = make(sim, read_timeout=5)
    with pytest.raises(errors.RequestTimeout):
        t.request(TIME, timeout=0.2)
    sim.inject(Fault.slow(0.3), path="/time")
    assert t.request(TIME, timeout=(1, 2)).status == 200


def test_refused_connection_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    t = Transport("echo", f"http://127.0.0.1:{port}", backoff=0.01)
    with pytest.raises(errors.ExchangeUnavailable, match="could not reach"):
        t.request(TIME)


def test_reset_on_a_read_is_retried(sim):
    sim.inject(Fault.reset(), path="/time")
    assert make(sim).request(TIME).status == 200
    assert sim.hits["/time"] == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_statuses_are_retried_until_success(sim, status):
    sim.inject(Fault.http(status), Fault.http(status), path="/time")
    assert make(sim).request(TIME).status == 200
    assert sim.hits["/time"] == 3


def test_retries_are_bounded_to_three_attempts_by_default(sim):
    sim.inject(*[Fault.http(503, '{"error":"busy"}')] * 5, path="/time")
    with pytest.raises(errors.ExchangeUnavailable, match="HTTP 503"):
        make(sim).request(TIME)
    assert sim.hits["/time"] == 3


def test_retry_count_is_configurable(sim):
    sim.inject(*[Fault.http(503)] * 5, path="/time")
    with pytest.raises(errors.ExchangeUnavailable):
        make(sim, retries=2).request(TIME)
    assert sim.hits["/time"] == 2


def test_500_is_not_retried(sim):
    sim.inject(Fault.http(500, '{"error":"oops"}'), path="/time")
    with pytest.raises(errors.ExchangeUnavailable, match="HTTP 500"):
        make(sim).request(TIME)
    assert sim.hits["/time"] == 1


def test_order_placement_is_never_retried(sim):
    t = make(sim)
    sim.inject(Fault.http(503), path="/order")
    with pytest.raises(errors.ExchangeUnavailable):
        t.request(ORDER, {"pair": "XBTUSD"}, signer=sign, credentials=CREDS)
    assert sim.hits["/order"] == 1
    sim.inject(Fault.lost_response(), path="/order")
    with pytest.raises(errors.ExchangeUnavailable, match="may have been executed"):
        t.request(ORDER, {"pair": "XBTUSD"}, signer=sign, credentials=CREDS)
    assert sim.hits["/order"] == 2
    assert sim.orders == 1  # the lost one was placed; nothing placed it twice


def test_post_endpoints_default_to_no_retry():
    assert not Endpoint("x", "POST", "/x").retry
    assert Endpoint("x", "GET", "/x").retry
    assert Endpoint("x", "POST", "/x", retry=True).retry


def test_html_error_page_is_a_bad_response_with_status_and_snippet(sim):
    sim.inject(*[Fault.html(502)] * 3, path="/time")
    with pytest.raises(errors.BadResponse) as info:
        make(sim).request(TIME)
    assert isinstance(info.value, errors.ExchangeUnavailable)
    assert isinstance(info.value, GatewayError)
    assert info.value.code == 502
    assert "502 Bad Gateway" in str(info.value)


def test_non_json_snippet_is_the_first_200_characters(sim):
    page = "<html>" + "x" * 300 + "TAIL</html>"
    sim.inject(Fault.http(404, page, {"Content-Type": "text/html"}), path="/time")
    with pytest.raises(errors.BadResponse, match="HTTP 404") as info:
        make(sim).request(TIME)
    assert "<html>xxx" in str(info.value) and "TAIL" not in str(info.value)


def test_truncated_json_is_a_bad_response(sim):
    sim.inject(Fault.truncated(), path="/time")
    with pytest.raises(errors.BadResponse, match="HTTP 200 and a body that is not JSON") as info:
        make(sim).request(TIME)
    assert not isinstance(info.value, errors.NetworkError)
    assert info.value.code == 200


def test_check_hook_maps_exchange_payload_errors(sim):
    seen = []

    def check(response):
        seen.append(response.status)
        if "error" in response.data:
            raise errors.AuthenticationError(response.data["error"][0], exchange="echo")

    t = make(sim)
    with pytest.raises(errors.AuthenticationError, match="Invalid key"):
        t.request(PRIVATE, signer=lambda r, c, x: None, credentials=CREDS, check=check)
    assert seen == [401]


def test_unmapped_4xx_is_an_exchange_error(sim):
    with pytest.raises(errors.ExchangeError, match="HTTP 401") as info:
        make(sim).request(PRIVATE, signer=lambda r, c, x: None, credentials=CREDS)
    assert info.value.code == 401


def test_signed_endpoint_needs_credentials(sim):
    with pytest.raises(errors.AuthenticationError, match="needs an account"):
        make(sim).request(PRIVATE, signer=sign)
    assert sim.hits["/private"] == 0


def test_signed_retries_are_signed_again_with_a_new_nonce(sim):
    nonces = []

    def recording_signer(req, creds, ctx):
        sign(req, creds, ctx)
        nonces.append(int(req.params["nonce"]))

    sim.inject(Fault.http(503), path="/private")
    data = make(sim).request(PRIVATE, signer=recording_signer, credentials=CREDS).data
    assert len(nonces) == 2 and nonces[0] < nonces[1]
    assert data["nonce"] == str(nonces[1])


def test_decode_json_takes_text_or_bytes():
    from xest.http import decode_json

    assert decode_json('{"a": 1.10}') == {"a": Decimal("1.10")}
    assert decode_json(b'{"a": 1.10, "n": 18446744073709551617}') == {
        "a": Decimal("1.10"),
        "n": 18446744073709551617,
    }


def test_retry_waits_at_least_the_servers_retry_after(sim):
    import time

    sim.inject(Fault.http(503, "", {"Retry-After": "0.3"}), path="/time")
    started = time.monotonic()
    assert make(sim).request(TIME).status == 200
    assert time.monotonic() - started >= 0.3
    assert sim.hits["/time"] == 2


def test_global_timeouts_come_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("XEST_READ_TIMEOUT", "0.2")
    t = make(sim)
    assert (t.connect_timeout, t.read_timeout) == (5.0, 0.2)
    sim.inject(Fault.slow(0.6), path="/time")
    with pytest.raises(errors.RequestTimeout):
        t.request(TIME)
    assert make(sim, read_timeout=3).read_timeout == 3  # an explicit value wins
    monkeypatch.setenv("XEST_CONNECT_TIMEOUT", "soon")
    with pytest.raises(errors.ConfigError, match="XEST_CONNECT_TIMEOUT='soon' is not a timeout"):
        make(sim)


def test_calls_go_on_after_the_process_pool_drops_the_hosts_connections(sim):
    from xest.http.transport import pool

    t = make(sim, cache=False)
    t.request(STATUS)
    pool().clear()  # closes every host's pool, as an eviction from the manager would
    assert t.request(STATUS).status == 200
    assert sim.hits["/status"] == 2


def test_a_signer_may_point_the_request_at_another_host(sim):
    other = Transport("echo", "http://127.0.0.1:9", backoff=0.01)  # nothing listens there

    def elsewhere(req, creds, ctx):
        req.url = sim.url + req.url[len("http://127.0.0.1:9") :]
        req.headers["API-Key"] = creds.key

    assert other.request(PRIVATE, signer=elsewhere, credentials=CREDS).data["balance"]
    assert sim.hits["/private"] == 1
