"""The common models: Decimal money, aware UTC times, unified symbols, raw kept aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from xest.models import (
    Balance,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    Side,
    Ticker,
    to_decimal,
    to_utc,
)


def test_decimals_come_from_strings_and_ints_never_floats():
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")
    assert to_decimal(12345678901234567890) == Decimal("12345678901234567890")
    with pytest.raises(TypeError, match="never a float"):
        to_decimal(0.1)
    with pytest.raises(ValueError, match="not a decimal"):
        to_decimal("abc")
    with pytest.raises(ValueError, match="finite"):
        to_decimal("NaN")


def test_models_convert_fields_and_refuse_floats():
    ticker = Ticker(symbol="BTC/USD", bid="30000.1", ask=Decimal("30000.2"))
    assert ticker.bid == Decimal("30000.1")
    with pytest.raises(TypeError):
        Ticker(symbol="BTC/USD", bid=30000.1)


def test_datetimes_are_aware_utc():
    paris = timezone(timedelta(hours=2))
    assert to_utc(datetime(2024, 1, 1, 14, tzinfo=paris)) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert to_utc(1700000000).tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2024, 1, 1))


def test_symbols_are_unified():
    with pytest.raises(ValueError, match="unified symbol"):
        Ticker(symbol="BTCUSD")
    market = Market(symbol="BTC/USD", id="XXBTZUSD", base="BTC", quote="USD")
    assert (market.symbol, market.id) == ("BTC/USD", "XXBTZUSD")


def test_raw_is_kept_but_not_compared_or_shown():
    a = Ticker(symbol="BTC/USD", last="1", raw={"c": ["1", "0.1"]})
    b = Ticker(symbol="BTC/USD", last="1", raw={"other": True})
    assert a == b
    assert "raw" not in repr(a)
    assert a.raw == {"c": ["1", "0.1"]}


def test_models_are_frozen():
    balance = Balance(asset="BTC", free="1", locked="0.5")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        balance.free = Decimal(2)  # type: ignore[misc]
    assert balance.total == Decimal("1.5")


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="free must be >= 0"):
        Balance(asset="BTC", free="-1")


def test_order_book_levels_and_best_prices():
    book = OrderBook(symbol="BTC/USD", bids=[("100", "1"), ("99", "2")], asks=[("101", "3")])
    assert book.best_bid.price == Decimal(100)
    assert book.best_ask.amount == Decimal(3)


def test_order_remaining_and_finality():
    order = Order(
        id="1",
        symbol="BTC/USD",
        side="buy",
        type="limit",
        status="partially_filled",
        amount="2",
        filled="0.5",
        price="100",
    )
    assert order.side is Side.BUY
    assert order.remaining == Decimal("1.5")
    assert not order.is_final
    assert OrderStatus.FILLED.is_final and OrderStatus.CANCELLED.is_final


def test_market_rounding_follows_the_exchange_grid():
    market = Market(
        symbol="BTC/USD",
        id="XXBTZUSD",
        base="BTC",
        quote="USD",
        price_step="0.1",
        amount_step="0.00000001",
    )
    assert market.round_price("30000.06") == Decimal("30000.1")
    # Amounts are cut down, never rounded up: rounding up could spend more than the user has.
    assert market.round_amount("0.123456789") == Decimal("0.12345678")
