"""Orders are put on the market's grid, or refused, before anything is sent."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from xest import errors
from xest.models import Market, OrderType, Side, TimeInForce
from xest.trading import new_client_id, prepare_order

BTC = Market(
    "BTC/USD",
    "BTCUSD",
    "BTC",
    "USD",
    price_step="0.1",
    amount_step="0.0001",
    min_amount="0.001",
    max_amount="100",
    min_cost="10",
    market_min_amount="0.002",
)


def test_amount_is_cut_down_and_price_rounded_to_the_tick():
    req = prepare_order(BTC, "buy", "limit", "0.12349", "50000.06")
    assert req.amount == Decimal("0.1234")  # never rounded up
    assert req.price == Decimal("50000.1")
    assert req.side is Side.BUY and req.type is OrderType.LIMIT
    assert req.requested_amount == Decimal("0.12349") and req.adjusted


def test_on_grid_order_is_unchanged():
    req = prepare_order(BTC, Side.SELL, OrderType.LIMIT, Decimal("0.5"), Decimal("60000"))
    assert (req.amount, req.price, req.adjusted) == (Decimal("0.5"), Decimal("60000"), False)


def test_client_id_is_always_set_and_fits_both_exchanges():
    ids = {prepare_order(BTC, "buy", "market", "0.01").client_id for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert re.fullmatch(r"[0-9a-f]{32}", new_client_id())


def test_given_client_id_and_options_pass_through():
    req = prepare_order(
        BTC,
        "buy",
        "limit",
        "0.01",
        "50000",
        time_in_force="ioc",
        client_id="mine-1",
        validate=True,
    )
    assert req.client_id == "mine-1" and req.validate and req.time_in_force is TimeInForce.IOC


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("buy", "limit", "0.0005", "50000"), "below BTC/USD's minimum of 0.001"),
        (("buy", "limit", "0.00001", "50000"), "smaller than BTC/USD's amount step"),
        (("buy", "limit", "101", "50000"), "above BTC/USD's maximum of 100"),
        (("buy", "limit", "0.001", "5000"), "USD is below BTC/USD's minimum of 10 USD"),
        (("buy", "market", "0.001"), "below BTC/USD's minimum of 0.002"),
        (("buy", "limit", "0.01", "0.01"), "smaller than BTC/USD's price step"),
        (("buy", "limit", "0.01"), "a limit order needs a price"),
        (("buy", "market", "0.01", "50000"), "a market order takes no price"),
        (("hold", "market", "0.01"), "side must be one of buy, sell"),
        (("buy", "stop", "0.01"), "type must be one of market, limit"),
        (("buy", "market", "-1"), "the amount must be positive"),
        (("buy", "limit", "0.01", "-5"), "the price must be positive"),
        (("buy", "market", "lots"), "amount: not a decimal number"),
    ],
)
def test_bad_orders_are_refused_with_what_would_do(args, message):
    with pytest.raises(errors.InvalidOrder, match=re.escape(message)):
        prepare_order(BTC, *args)


def test_floats_are_refused():
    with pytest.raises(errors.InvalidOrder, match="float"):
        prepare_order(BTC, "buy", "market", 0.01)


@pytest.mark.parametrize("client_id", ["", "has space", "x" * 37, "é"])
def test_bad_client_ids_are_refused(client_id):
    with pytest.raises(errors.InvalidOrder, match="client order id"):
        prepare_order(BTC, "buy", "market", "0.01", client_id=client_id)


def test_inactive_market_is_refused():
    halted = Market("ETH/USD", "ETHUSD", "ETH", "USD", active=False, status="halted")
    with pytest.raises(errors.InvalidOrder, match="not trading now"):
        prepare_order(halted, "buy", "market", "1")


def test_without_a_market_only_basic_checks_apply():
    req = prepare_order(None, "buy", "limit", "0.123456789", "1.23456", symbol="X/Y")
    assert (req.amount, req.price, req.symbol) == (
        Decimal("0.123456789"),
        Decimal("1.23456"),
        "X/Y",
    )


def test_an_amount_with_more_digits_than_decimal_precision_is_never_rounded_up():
    req = prepare_order(BTC, "buy", "limit", "0.99999999999999999999999999999", "50000")
    assert req.amount == Decimal("0.9999")
    assert BTC.round_amount("99.9999999999999999999999999999999") == Decimal("99.9999")


@pytest.mark.parametrize(
    ("amount", "says"),
    [("1" * 5000, "out of range"), ("0." + "1" * 60, "significant digits"), ("Infinity", "finite")],
)
def test_absurd_numbers_are_refused_before_anything_is_sent(amount, says):
    with pytest.raises(errors.InvalidOrder, match=says):
        prepare_order(BTC, "buy", "market", amount)
