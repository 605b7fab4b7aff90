"""Path templates: ``{name}`` in an Endpoint path, filled from params; the simulator's @route
captures the same placeholders."""

from __future__ import annotations

import pytest

from xest import errors
from xest.http import Endpoint, Transport
from xest.testing.server import LoopbackServer, SimRequest, route

TICKER = Endpoint("ticker", "GET", "/api/v2/ticker/{pair}/", ttl=60)
ORDER = Endpoint("order", "POST", "/api/v2/{pair}/orders/{side}")


class PathExchange(LoopbackServer):
    exchange = "paths"

    @route("GET", "/api/v2/ticker/{pair}/")
    def ticker(self, request: SimRequest):
        return {"pair": request.path_params["pair"], "query": request.query, "hits": 1}

    @route("GET", "/api/v2/ticker/all/")
    def all_tickers(self, request: SimRequest):
        return {"all": True}

    @route("POST", "/api/v2/{pair}/orders/{side}")
    def order(self, request: SimRequest):
        return {"path": request.path_params, "form": request.form, "params": request.params}


@pytest.fixture
def server():
    sim = PathExchange().start()
    yield sim
    sim.stop()


def test_fill_escapes_and_removes_the_path_params():
    path, rest = TICKER.fill({"pair": "btc/usd x", "limit": 5})
    assert path == "/api/v2/ticker/btc%2Fusd%20x/"
    assert rest == {"limit": 5}
    assert TICKER.path_params == ("pair",)
    assert Endpoint("t", "GET", "/fixed").fill({"a": 1}) == ("/fixed", {"a": 1})


@pytest.mark.parametrize("params", [{}, {"pair": None}, {"pair": ""}])
def test_a_missing_path_param_is_a_clear_error(params):
    with pytest.raises(errors.BadRequest, match="path parameter 'pair'"):
        TICKER.fill(params)


def test_transport_sends_the_filled_path_and_the_simulator_captures_it(server):
    t = Transport("paths", server.url, cache=False)
    data = t.request(TICKER, {"pair": "btcusd", "limit": 5}).data
    assert data == {"pair": "btcusd", "query": {"limit": "5"}, "hits": 1}
    # An escaped value arrives unescaped; exact routes win over templates.
    assert t.request(TICKER, {"pair": "eth/eur"}).data["pair"] == "eth/eur"
    assert t.request(TICKER, {"pair": "all"}).data == {"all": True}
    posted = t.request(ORDER, {"pair": "btcusd", "side": "buy", "amount": "1.5"}).data
    assert posted["path"] == {"pair": "btcusd", "side": "buy"}
    assert posted["form"] == {"amount": "1.5"}
    assert posted["params"] == {"pair": "btcusd", "side": "buy", "amount": "1.5"}


def test_missing_path_param_fails_before_sending(server):
    t = Transport("paths", server.url, cache=False)
    with pytest.raises(errors.BadRequest, match="pair"):
        t.request(TICKER, {})
    assert sum(server.hits.values()) == 0


def test_the_filled_path_is_part_of_the_cache_key(server):
    t = Transport("paths", server.url)
    first = t.request(TICKER, {"pair": "btcusd"})
    other = t.request(TICKER, {"pair": "etheur"})
    again = t.request(TICKER, {"pair": "btcusd"})
    assert first.data["pair"] == "btcusd" and other.data["pair"] == "etheur"
    assert not other.from_cache
    assert again.from_cache and again.data["pair"] == "btcusd"
    assert server.hits["/api/v2/ticker/btcusd/"] == 1
