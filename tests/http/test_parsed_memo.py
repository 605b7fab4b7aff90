"""A cache hit on an unchanged answer is not parsed again; callers still get their own data."""

from __future__ import annotations

import contextlib

import pytest
from httpsupport import STATUS

from xest.connector import Connector
from xest.http import Transport, cache
from xest.http.cache import CachedAnswer


def test_hits_decode_afresh_so_a_caller_changing_its_data_changes_no_other(sim):
    t = Transport("echo", sim.url)
    fresh = t.request(STATUS)
    assert cache.flush()  # stored: hits read the store (not the answer still being written)
    hit = t.request(STATUS)
    assert hit.from_cache and hit.data == fresh.data
    hit.data.clear()  # a careless caller
    again = t.request(STATUS)
    assert again.data == fresh.data and again.data and again.data is not hit.data
    assert again.headers is hit.headers  # what is rebuilt for nothing is shared: the headers
    assert sim.hits["/status"] == 1


def test_a_changed_answer_gets_its_own_headers(sim):
    t = Transport("echo", sim.url)
    first = t.request(STATUS)
    key = next(iter(t.cached._hits))
    t.response_cache.set(key, CachedAnswer(200, {"X-New": "1"}, {"new": 1}, '{"new": 1}'), 30)
    assert cache.flush()
    changed = t.request(STATUS)
    assert changed.data == {"new": 1} and changed.headers["x-new"] == "1"
    assert changed.headers is not first.headers


class Counting(Connector):
    exchange = "counting"
    capabilities = frozenset()


def test_request_parsed_parses_each_body_once_per_name_and_copies_containers(sim):
    connector = Counting(Transport("echo", sim.url))
    calls = []

    def parse(data):
        calls.append(1)
        return {"keys": sorted(data)}

    first = connector.request_parsed(STATUS, None, "status", parse)
    first["mutated"] = True  # the caller's own copy
    second = connector.request_parsed(STATUS, None, "status", parse)
    assert "mutated" not in second and second == {"keys": first["keys"]}
    assert len(calls) == 1  # the hit had the same body
    connector.request_parsed(STATUS, None, "other parser", parse)
    assert len(calls) == 2
    key = next(iter(connector.transport.cached._hits))
    connector.transport.response_cache.set(key, CachedAnswer(200, {}, {"z": 1}, '{"z": 1}'), 30)
    assert cache.flush()
    assert connector.request_parsed(STATUS, None, "status", parse) == {"keys": ["z"]}
    assert len(calls) == 3


def test_a_ticker_is_parsed_once_per_body(monkeypatch):
    import xest

    parse = pytest.importorskip("xest_kraken.parse")
    parsed = []
    real = parse.ticker
    monkeypatch.setattr(parse, "ticker", lambda *a: parsed.append(1) or real(*a))
    with xest.open("kraken", sim=True) as client:
        tickers = [client.ticker("BTC/USD") for _ in range(4)]
        assert len(parsed) == 1
        assert all(t == tickers[0] for t in tickers)
        client.tickers(["BTC/USD", "ETH/USD"])  # another request: parsed on its own
        assert len(parsed) == 3
    with xest.open("kraken", sim=True, cache=False) as client:
        before = client.ticker("BTC/USD")
        assert client.ticker("BTC/USD") == before  # the same body, fetched again: no parse
        assert len(parsed) == 4
        client.simulator.set_price("XXBTZUSD", before.last * 2)
        assert client.ticker("BTC/USD") != before  # a new body: parsed
        assert len(parsed) == 5


@pytest.mark.parametrize(("exchange", "symbol"), [("kraken", "BTC/USD"), ("binance", "BTC/USDT")])
def test_a_ticker_follows_the_market_list_it_was_planned_on(exchange, symbol, monkeypatch):
    import attrs

    import xest
    from xest import errors
    from xest.markets import MarketIndex

    pytest.importorskip(f"xest_{exchange}")
    with xest.open(exchange, sim=True) as client:
        connector = client.connector
        first = client.ticker(symbol)
        assert client.ticker(symbol) == first
        asked = []
        real = connector.request_parsed
        monkeypatch.setattr(
            connector,
            "request_parsed",
            lambda e, p, *a, **k: asked.append(dict(p)) or real(e, p, *a, **k),
        )
        client.ticker(symbol)
        market = connector.market(symbol)
        renamed = attrs.evolve(market, id=market.id + "X")
        # The market list changes (a reload): the planned request must not outlive it.
        connector._index = MarketIndex(
            [renamed if m.symbol == symbol else m for m in connector.markets()]
        )
        with contextlib.suppress(errors.XestError):  # the exchange may know no such id
            client.ticker(symbol)
        assert [list(p.values()) for p in asked] == [[market.id], [renamed.id]]
        with pytest.raises(errors.BadSymbol):
            client.ticker("NOT/LISTED")


def test_request_parsed_passes_cache_and_timeout_to_the_transport(sim):
    connector = Counting(Transport("echo", sim.url))
    parse = sorted
    connector.request_parsed(STATUS, None, "status", parse)
    connector.request_parsed(STATUS, None, "status", parse)
    assert sim.hits["/status"] == 1
    assert connector.request_parsed(STATUS, None, "status", parse, cache=False, timeout=5)
    assert sim.hits["/status"] == 2
