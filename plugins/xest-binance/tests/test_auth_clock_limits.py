"""The simulator's checks (keys, signatures, timestamps, weights) and how the connector copes:
signing with the estimated server clock avoids -1021 on a skewed exchange."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from xest_binance.connector import BinanceConnector
from xest_binance.signing import encode_params, signature
from xest_binance.simulator import BinanceSimulator

import xest
from xest import errors
from xest.credentials import Credentials


@pytest.fixture
def sim():
    server = BinanceSimulator().start()
    yield server
    server.stop()


def _raw_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def _signed_url(sim, path: str, secret: str, timestamp: int, **params) -> str:
    payload = encode_params({**params, "timestamp": timestamp})
    return f"{sim.url}{path}?{payload}&signature={signature(secret, payload)}"


def test_simulator_checks_key_signature_and_timestamp(sim):
    key, secret = sim.demo_credentials()
    now = sim.now_ms()
    status, _, body = _raw_get(_signed_url(sim, "/api/v3/account", secret, now))
    assert (status, body["code"]) == (401, -2014)
    status, _, body = _raw_get(
        _signed_url(sim, "/api/v3/account", secret, now), {"X-MBX-APIKEY": "nope"}
    )
    assert (status, body["code"]) == (401, -2015)
    status, _, body = _raw_get(
        _signed_url(sim, "/api/v3/account", "wrong", now), {"X-MBX-APIKEY": key}
    )
    assert (status, body) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    status, _, body = _raw_get(
        _signed_url(sim, "/api/v3/account", secret, now - 6000), {"X-MBX-APIKEY": key}
    )
    assert body["code"] == -1021 and "recvWindow" in body["msg"]
    status, _, body = _raw_get(
        _signed_url(sim, "/api/v3/account", secret, now + 2000), {"X-MBX-APIKEY": key}
    )
    assert body["code"] == -1021 and "ahead" in body["msg"]
    status, _, body = _raw_get(
        _signed_url(sim, "/api/v3/account", secret, now - 6000, recvWindow=10000),
        {"X-MBX-APIKEY": key},
    )
    assert status == 200 and "balances" in body


def test_wrong_secret_or_key_is_an_authentication_error(sim):
    key, _ = sim.demo_credentials()
    with xest.open("binance", url=sim.url, key=key, secret="not-it", cache=False) as c:
        with pytest.raises(errors.AuthenticationError) as info:
            c.balances()
        assert info.value.code == -1022 and "not-it" not in str(info.value)
    with xest.open("binance", url=sim.url, key="unknown", secret="s" * 64, cache=False) as c:
        with pytest.raises(errors.AuthenticationError) as info:
            c.balances()
        assert info.value.code == -2015


@pytest.mark.parametrize("offset", [5.0, -5.0])
def test_skewed_exchange_clock(offset):
    sim = BinanceSimulator(clock_offset=offset).start()
    try:
        key, secret = sim.demo_credentials()
        # A connector that signs with our local clock is refused: -1021.
        naive = BinanceConnector.create(
            sim.url, Credentials(key, secret), cache=False, recv_window=1000
        )
        with pytest.raises(errors.InvalidNonce) as info:
            naive.place_order(
                "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"), validate=True
            )  # a write: never retried blindly
        assert info.value.code == -1021
        # The refusal made the connector re-read the server clock: the next call passes.
        naive.place_order(
            "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"), validate=True
        )
        # Through the facade, one server_time() reading is enough for the first call.
        with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as c:
            c.server_time()
            assert abs(c.clock.now().offset - offset) < 0.5
            hits = sim.hits["/api/v3/account"]
            assert c.balances()["USDT"].free == Decimal("100000")
            assert sim.hits["/api/v3/account"] == hits + 1  # first try, no -1021
    finally:
        sim.stop()


def test_a_read_refused_with_1021_is_retried_once_after_a_clock_refresh():
    sim = BinanceSimulator(clock_offset=8.0).start()
    try:
        key, secret = sim.demo_credentials()
        conn = BinanceConnector.create(sim.url, Credentials(key, secret), cache=False)
        assert conn.balances()["BTC"].free == Decimal("2")
        assert sim.hits["/api/v3/account"] == 2  # refused once, then accepted
        assert sim.hits["/api/v3/time"] == 1  # one clock refresh in between
    finally:
        sim.stop()


def _at_minute_start(sim) -> None:
    """Put the simulator's clock just past a minute boundary: weights count per clock minute."""
    sim.clock_offset += 60 - sim.now() % 60 + 0.2


def test_a_clock_step_after_a_good_estimate_is_recovered_from(sim):
    key, secret = sim.demo_credentials()
    with xest.open("binance", url=sim.url, key=key, secret=secret, cache=False) as c:
        for _ in range(3):
            c.server_time()  # several tight readings of the old clock
        sim.clock_offset = 7.0  # the exchange's clock steps
        assert c.balances()["ETH"].free == Decimal("25")
        assert abs(c.clock.now().offset - 7.0) < 0.5  # the old readings were dropped
        hits = sim.hits["/api/v3/account"]
        c.balances()
        assert sim.hits["/api/v3/account"] == hits + 1


def test_weights_are_reported_and_counted(sim):
    _at_minute_start(sim)
    status, headers, _ = _raw_get(f"{sim.url}/api/v3/depth?symbol=BTCUSDT&limit=500")
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "25"
    _, headers, _ = _raw_get(f"{sim.url}/api/v3/exchangeInfo")
    assert headers["X-MBX-USED-WEIGHT-1M"] == "45"


def test_429_then_418_for_a_client_that_ignores_them():
    sim = BinanceSimulator(weight_limit=30, ban_after=2, ban_seconds=60).start()
    try:
        _at_minute_start(sim)
        statuses = []
        for _ in range(8):
            status, headers, body = _raw_get(f"{sim.url}/api/v3/trades?symbol=BTCUSDT&limit=1")
            statuses.append(status)
        assert statuses[:2] == [200, 429] and statuses[-1] == 418
        assert statuses.count(429) == 2  # after ban_after refusals, the ban
        assert body["code"] == -1003 and "banned until" in body["msg"]
        assert 55 <= int(headers["Retry-After"]) <= 60
        with xest.open("binance", url=sim.url, cache=False) as c:
            with pytest.raises(errors.RateLimited) as info:
                c.trades("BTC/USDT", limit=1)
            assert info.value.ban_until is not None
    finally:
        sim.stop()


def test_429_is_rate_limited_with_retry_after():
    sim = BinanceSimulator(weight_limit=1, ban_after=100).start()
    try:
        _at_minute_start(sim)
        with xest.open("binance", url=sim.url, cache=False) as c:
            c.server_time()
            with pytest.raises(errors.RateLimited) as info:
                c.server_time()
            assert info.value.retry_after is not None and info.value.ban_until is None
    finally:
        sim.stop()


def test_simulator_refuses_malformed_numbers_like_binance(sim):
    status, _, body = _raw_get(f"{sim.url}/api/v3/depth?symbol=BTCUSDT&limit=ten")
    assert (status, body["code"]) == (400, -1100)
    status, _, body = _raw_get(f"{sim.url}/api/v3/depth?symbol=NOPE")
    assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
