"""Issue 15.7: only XestError leaves the public API, whatever the exchange answers."""

from __future__ import annotations

import pytest
from hostile import HostileServer, json_answer

from xest import errors, registry

KRAKEN_TIME = [
    ('{"error": [], "result": {}}', "'unixtime'"),
    ('{"error": [], "result": {"unixtime": 100000000000000000000}}', "cannot read"),
    ('{"error": [], "result": {"unixtime": -99999999999999}}', "cannot read"),
    ('{"error": [], "result": []}', "cannot read"),
    ('{"error": [], "result": {"unixtime": NaN}}', "not JSON"),
    ('{"error": [], "result": {"unixtime": 1e999}}', "not JSON"),
]
BINANCE_TIME = [
    ("{}", "serverTime"),
    ('{"serverTime": 100000000000000000000000}', "binance"),
    ('{"serverTime": "soon"}', "binance"),
    ("[1, 2]", "binance"),
]


def _connector(exchange, url):
    if exchange not in registry.connectors():
        pytest.skip(f"no {exchange} connector installed")
    return registry.connector_class(exchange).create(url, cache=False)


@pytest.mark.parametrize(("body", "says"), KRAKEN_TIME)
def test_kraken_odd_time_answers_are_bad_responses(body, says):
    with HostileServer(json_answer(body)) as server, pytest.raises(errors.BadResponse, match=says):
        _connector("kraken", server.url).server_time()


@pytest.mark.parametrize(("body", "says"), BINANCE_TIME)
def test_binance_odd_time_answers_are_bad_responses(body, says):
    with HostileServer(json_answer(body)) as server, pytest.raises(errors.BadResponse, match=says):
        _connector("binance", server.url).server_time()
