"""Orders checked against Binance's filters before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from xest_binance import parse
from xest_binance.conformance import payload
from xest_binance.filters import check_order

from xest import errors
from xest.models import OrderType, Side

D = Decimal
MARKETS = {m.id: m for m in parse.markets(payload("exchange_info"))}
BTC = MARKETS["BTCUSDT"]
ETH = MARKETS["ETHBTC"]
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


@pytest.mark.parametrize(
    ("market", "type_", "amount", "price", "filter_", "words"),
    [
        (BTC, LIMIT, "0.000011", "40000", "LOT_SIZE", "not on the step 0.00001"),
        (BTC, LIMIT, "0.000001", "40000", "LOT_SIZE", "below the minimum 0.00001"),
        (BTC, LIMIT, "9001", "1", "LOT_SIZE", "above the maximum 9000"),
        (BTC, LIMIT, "0.01", "40000.005", "PRICE_FILTER", "not on the step 0.01"),
        (BTC, LIMIT, "0.01", "0.001", "PRICE_FILTER", "below the minimum 0.01"),
        (BTC, LIMIT, "0.0001", "40000", "NOTIONAL", "cost 4 is below the minimum 5"),
        (BTC, MARKET, "117", None, "MARKET_LOT_SIZE", "above the maximum 116.91807191"),
        (ETH, LIMIT, "200", "60", "NOTIONAL", "above the maximum 10000"),
    ],
)
def test_breaches_name_the_filter(market, type_, amount, price, filter_, words):
    with pytest.raises(errors.InvalidOrder) as info:
        check_order(market, Side.BUY, type_, D(amount), None if price is None else D(price))
    assert info.value.code == filter_
    assert filter_ in str(info.value) and words in str(info.value)
    assert "nothing was sent" in str(info.value)


def test_good_orders_pass():
    check_order(BTC, Side.BUY, LIMIT, D("0.00012"), D("43250.01"))
    check_order(BTC, Side.SELL, MARKET, D("116"), None)
    check_order(ETH, Side.SELL, LIMIT, D("200"), D("0.06"))


def test_closed_market_and_missing_price():
    with pytest.raises(errors.InvalidOrder, match="not trading"):
        check_order(MARKETS["BNBBTC"], Side.BUY, LIMIT, D("1"), D("0.01"))
    with pytest.raises(errors.InvalidOrder, match="needs a positive price"):
        check_order(BTC, Side.BUY, LIMIT, D("1"), None)
    with pytest.raises(errors.InvalidOrder, match="positive"):
        check_order(BTC, Side.BUY, MARKET, D("0"), None)
