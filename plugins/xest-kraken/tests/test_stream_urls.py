"""Streams never reach the real exchange while REST goes elsewhere."""

from __future__ import annotations

import time

import pytest

import xest
from xest import errors, registry


@pytest.fixture
def sim():
    server = registry.simulator_factory("kraken")().start()
    yield server
    server.stop()


def test_rest_elsewhere_without_stream_urls_means_no_streams(sim):
    key, secret = sim.demo_credentials()
    with xest.open("kraken", url=sim.url, key=key, secret=secret, cache=False) as client:
        with pytest.raises(errors.ConfigError, match="stream_urls"):
            client.stream_book("BTC/USD")
        agent = client.market_agent("BTC/USD", interval=0.05).start()
        assert agent.source("book") == "poll" and agent.book is not None
        assert agent.events("stream_failed")
        account = client.account.start()
        time.sleep(0.1)
        assert account.stream is None and account.orders_source == "poll"


def test_stream_urls_can_be_given(sim):
    client = xest.open("kraken", url=sim.url, stream_urls=sim.stream_urls(), cache=False)
    with client, client.stream_book("BTC/USD") as stream:
        assert stream.get(timeout=10).best_bid is not None
