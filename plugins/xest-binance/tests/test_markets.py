"""Orders checked against Binance's filters before anything is sent: the base Connector's
checks on the Market the filters give (steps, minimums, maximums, minimum notional), then
check_order for the rule the model does not carry (NOTIONAL's maximum)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from xest_binance import parse
from xest_binance.conformance import payload
from xest_binance.markets import check_order

from xest import errors
from xest.models import OrderType, Side
from xest.trading import prepare_order

D = Decimal
MARKETS = {m.id: m for m in parse.markets(payload("exchange_info"))}
BTC = MARKETS["BTCUSDT"]
ETH = MARKETS["ETHBTC"]
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def checked(market, type_, amount, price):
    """What the base Connector's place_order does before create_order, then Binance's check."""
    request = prepare_order(market, Side.BUY, type_, D(amount), None if price is None else price)
    check_order(market, request.side, request.type, request.amount, request.price)
    return request


@pytest.mark.parametrize(
    ("market", "type_", "amount", "price", "words"),
    [
        (BTC, LIMIT, "0.000001", "40000", "smaller than BTC/USDT's amount step 0.00001"),
        (BTC, LIMIT, "9001", "1", "above BTC/USDT's maximum of 9000"),
        (BTC, LIMIT, "0.01", "0.001", "smaller than BTC/USDT's price step 0.01"),
        (
            BTC,
            LIMIT,
            "0.0001",
            "40000",
            "order value 4.000000000 USDT is below BTC/USDT's minimum of 5",
        ),
        (BTC, MARKET, "117", None, "above BTC/USDT's maximum of 116.91807191"),
    ],
)
def test_breaches_of_the_market_limits_fail_locally(market, type_, amount, price, words):
    with pytest.raises(errors.InvalidOrder, match=words.replace(".", r"\.")):
        checked(market, type_, amount, None if price is None else D(price))


def test_the_notional_maximum_names_its_filter():
    with pytest.raises(errors.InvalidOrder) as info:
        checked(ETH, LIMIT, "200", D("60"))
    assert info.value.code == "NOTIONAL"
    assert "above the maximum 10000" in str(info.value) and "nothing was sent" in str(info.value)


def test_off_grid_orders_are_put_on_the_filters_grid():
    request = checked(BTC, LIMIT, "0.0100019", D("40000.004"))
    assert (request.amount, request.price) == (D("0.01"), D("40000.00"))


def test_good_orders_pass():
    checked(BTC, LIMIT, "0.00012", D("43250.01"))
    checked(BTC, MARKET, "116", None)
    checked(ETH, LIMIT, "200", D("0.06"))


def test_closed_market_and_missing_price():
    with pytest.raises(errors.InvalidOrder, match="not trading"):
        checked(MARKETS["BNBBTC"], LIMIT, "1", D("0.01"))
    with pytest.raises(errors.InvalidOrder, match="needs a price"):
        checked(BTC, LIMIT, "1", None)
    with pytest.raises(errors.InvalidOrder, match="positive"):
        checked(BTC, MARKET, "0", None)


@pytest.mark.parametrize(
    ("market", "type_", "amount", "price"),
    [
        (BTC, LIMIT, "0.00001", "1000000"),  # LOT_SIZE minQty and PRICE_FILTER maxPrice, exactly
        (BTC, LIMIT, "9000", "0.01"),  # LOT_SIZE maxQty and PRICE_FILTER minPrice, exactly
        (BTC, LIMIT, "0.0005", "10000"),  # NOTIONAL minNotional 5, exactly
        (BTC, LIMIT, "900", "10000"),  # NOTIONAL maxNotional 9000000, exactly
        (ETH, MARKET, "100000", None),  # MARKET_LOT_SIZE (and LOT_SIZE) maxQty, exactly
        (ETH, MARKET, "0.001", None),  # MARKET_LOT_SIZE minQty, exactly
        (ETH, LIMIT, "10", "1"),  # NOTIONAL minNotional 10, exactly
        (ETH, LIMIT, "10000", "1"),  # NOTIONAL maxNotional 10000, exactly
    ],
)
def test_orders_exactly_at_a_bound_pass(market, type_, amount, price):
    """Binance's bounds are inclusive: an order exactly at a minimum or maximum is valid and
    stays as it is."""
    request = checked(market, type_, amount, None if price is None else D(price))
    assert request.amount == D(amount)
