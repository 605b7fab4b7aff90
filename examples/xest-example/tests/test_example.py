"""What is particular to the Example connector; the conformance suite checks the rest:
`pytest tests --xest-connector example` runs both."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import pytest
from xest_example.connector import ExampleConnector
from xest_example.simulator import ExampleSimulator

import xest
from xest import errors
from xest.http import PreparedRequest, SigningContext


@pytest.fixture
def sim():
    with ExampleSimulator() as server:
        yield server


def test_signature_covers_timestamp_method_path_and_query():
    request = PreparedRequest("GET", "http://h/api/v1/order", "/api/v1/order", {"id": "7"})
    context = SigningContext(nonce=lambda: 1, timestamp_ms=lambda: 1700000000123)
    connector = ExampleConnector.create("http://h")
    connector.sign(request, xest.credentials.Credentials("k", "s"), context)
    expected = hmac.new(b"s", b"1700000000123GET/api/v1/order?id=7", hashlib.sha256).hexdigest()
    assert request.query == "id=7"
    assert request.headers == {
        "X-EX-KEY": "k",
        "X-EX-TIMESTAMP": "1700000000123",
        "X-EX-SIGNATURE": expected,
    }


def test_a_stale_timestamp_resyncs_the_clock_and_a_read_is_sent_again(sim):
    key, secret = sim.demo_credentials()
    sim.clock_offset = 60  # the exchange's clock runs a minute ahead of ours
    with xest.open("example", url=sim.url, key=key, secret=secret, cache=False) as client:
        # Refused (TIMESTAMP_OUT_OF_WINDOW → InvalidNonce): the base Connector re-reads the
        # server clock and sends the read once more, signed with the exchange's time.
        assert client.balances()["USD"].free == Decimal("100000")
        assert sim.hits["/api/v1/time"] == 1 and sim.hits["/api/v1/balances"] == 2
        assert abs(client.clock.now().offset - 60) < 1


def test_a_stale_timestamp_on_a_placement_is_not_sent_again(sim):
    key, secret = sim.demo_credentials()
    sim.clock_offset = 60
    with xest.open("example", url=sim.url, key=key, secret=secret, cache=False) as client:
        client.markets()
        with pytest.raises(errors.InvalidNonce, match="TIMESTAMP_OUT_OF_WINDOW"):
            client.connector.place_order("ETH/USD", "buy", "market", Decimal("2"))
        assert sim.hits["/api/v1/orders"] == 1  # refused once, not resent: a POST
        assert abs(client.clock.now().offset - 60) < 1  # but the clock is right for the next


def test_an_unknown_interval_is_refused_before_sending(sim):
    with xest.open("example", url=sim.url, cache=False) as client:
        with pytest.raises(errors.BadRequest, match="1m, 5m, 1h, 1d"):
            client.candles("BTC/USD", "3m")
        assert sim.hits["/api/v1/candles"] == 0


def test_a_filled_buy_moves_the_balances(sim):
    key, secret = sim.demo_credentials()
    with xest.open("example", url=sim.url, key=key, secret=secret, cache=False) as client:
        order = client.place_order("ETH/USD", "buy", "market", Decimal("2"))
        assert order.status == "filled" and order.average_price == Decimal("2345.68")
        balances = client.balances()
        assert balances["ETH"].free == Decimal("32")
        assert balances["USD"].free == Decimal("100000") - Decimal("2") * Decimal("2345.68")
