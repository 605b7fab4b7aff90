"""Valid JSON of the wrong shape becomes BadResponse before any parsing."""

from __future__ import annotations

import pytest
from xest_binance import endpoints as ep
from xest_binance.shapes import check_shape

from xest import errors


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        (ep.SYSTEM_STATUS, {"unexpected": "shape"}),
        (ep.TIME, []),
        (ep.NEW_ORDER, {"symbol": "BTCUSDT"}),
        (ep.MY_TRADES, {"unexpected": "shape"}),
        (ep.OPEN_ORDERS, [{"symbol": "BTCUSDT"}]),
        (ep.DEPTH, {"bids": []}),
    ],
)
def test_wrong_shapes_are_bad_responses_naming_the_path(endpoint, data):
    with pytest.raises(errors.BadResponse, match=endpoint.path):
        check_shape(endpoint.method, endpoint.path, data)


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        (ep.SYSTEM_STATUS, {"status": 0, "msg": "normal"}),
        (ep.MY_TRADES, []),
        (ep.TEST_ORDER, {}),
        (ep.TICKER_24HR, [{"symbol": "BTCUSDT"}]),
        (ep.TICKER_24HR, {"symbol": "BTCUSDT"}),
    ],
)
def test_documented_shapes_pass(endpoint, data):
    check_shape(endpoint.method, endpoint.path, data)
