"""The bulk constructors build exactly what the models' own constructors build, and refuse
exactly what they refuse, with the same errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from xest.models import (
    Candle,
    OrderBook,
    PriceLevel,
    PriceLevels,
    PublicTrade,
    Side,
    candles,
    price_levels,
    public_trades,
    to_decimals,
)

ROWS = [["30300.10000", "0.500", 1688666559], ["30301.5", 2, 1688666560], [Decimal(30299), "1e-8"]]


def test_levels_equal_the_per_level_constructor_and_are_real_models():
    fast = price_levels(ROWS)
    assert fast == tuple(PriceLevel(r[0], r[1]) for r in ROWS)
    assert all(type(level) is PriceLevel for level in fast)
    assert fast[0].price == Decimal("30300.10000") and fast[1].amount == Decimal(2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast[0].price = Decimal(1)  # type: ignore[misc]
    assert hash(fast[0]) == hash(PriceLevel("30300.10000", "0.500"))


def test_levels_sorted_best_first_on_request():
    bids = price_levels(ROWS, descending=True)
    asks = price_levels(ROWS, descending=False)
    assert [lv.price for lv in bids] == sorted((lv.price for lv in bids), reverse=True)
    assert [lv.price for lv in asks] == sorted(lv.price for lv in asks)


def test_order_book_takes_checked_levels_as_they_are():
    bids = price_levels(ROWS, descending=True)
    book = OrderBook(symbol="BTC/USD", bids=bids, asks=price_levels([]))
    assert book.bids is bids and isinstance(bids, PriceLevels)
    by_price = sorted(ROWS, key=lambda r: Decimal(r[0]), reverse=True)
    assert book == OrderBook(symbol="BTC/USD", bids=[(r[0], r[1]) for r in by_price], asks=[])


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        ("NaN", ValueError, "not a finite number"),
        ("Infinity", ValueError, "not a finite number"),
        ("-Infinity", ValueError, "not a finite number"),
        ("abc", ValueError, "not a decimal number"),
        (1.5, TypeError, "float"),
        (True, TypeError, "bool"),
        ("-1", ValueError, ">= 0"),
        (None, TypeError, "expected a decimal number"),
    ],
)
def test_levels_refuse_what_the_model_refuses_with_its_message(bad, error, words):
    rows = [["1", "1"], [bad, "1"], ["2", "2"]]
    with pytest.raises(error) as fast:
        price_levels(rows)
    with pytest.raises(error) as slow:
        PriceLevel(bad, "1")
    assert str(fast.value) == str(slow.value)
    assert words in str(fast.value)
    with pytest.raises(error):
        price_levels([["1", bad]])


def test_to_decimals():
    assert to_decimals(["1.50", 2, Decimal("3")]) == [Decimal("1.50"), Decimal(2), Decimal(3)]
    with pytest.raises(ValueError, match=">= 0"):
        to_decimals(["1", "-2"], non_negative=True)
    assert to_decimals(["1", "-2"]) == [Decimal(1), Decimal(-2)]
    with pytest.raises(TypeError, match="float"):
        to_decimals([0.1])


def trade_columns(**change):
    columns = {
        "prices": ["30300.1", "30301"],
        "amounts": ["0.5", 1],
        "sides": [Side.BUY, None],
        "timestamps": [Decimal("1688666559.8974"), 1688666560],
        "ids": ["1", "2"],
        "raws": [["a"], ["b"]],
    }
    columns.update(change)
    return columns


def per_trade(symbol, c):
    return [
        PublicTrade(symbol=symbol, price=p, amount=a, side=s, timestamp=t, id=i, raw=r)
        for p, a, s, t, i, r in zip(*c.values(), strict=True)
    ]


def test_trades_equal_the_per_trade_constructor():
    c = trade_columns()
    fast = public_trades("BTC/USD", **c)
    assert fast == per_trade("BTC/USD", c)
    assert [t.raw for t in fast] == c["raws"]
    assert fast[0].timestamp == datetime.fromtimestamp(1688666559.8974, UTC)
    aware = trade_columns(timestamps=[datetime(2024, 1, 1, tzinfo=UTC), None])
    assert public_trades("BTC/USD", **aware) == per_trade("BTC/USD", aware)


@pytest.mark.parametrize(
    "change",
    [
        {"prices": ["NaN", "1"]},
        {"amounts": ["1", "-1"]},
        {"timestamps": [datetime(2024, 1, 1), 1]},  # naive
        {"sides": ["up", None]},
    ],
)
def test_trades_refuse_what_the_model_refuses(change):
    c = trade_columns(**change)
    with pytest.raises((ValueError, TypeError)) as slow:
        per_trade("BTC/USD", c)
    with pytest.raises(type(slow.value)) as fast:
        public_trades("BTC/USD", **c)
    assert str(fast.value) == str(slow.value)


def test_trades_refuse_a_symbol_that_is_not_unified_and_uneven_columns():
    with pytest.raises(ValueError, match="unified symbol"):
        public_trades("BTCUSD", **trade_columns())
    with pytest.raises(ValueError, match="one value per trade"):
        public_trades("BTC/USD", **trade_columns(ids=["1"]))


def candle_columns(**change):
    columns = {
        "open_times": [1688666400, Decimal(1688666460)],
        "opens": ["1", "2"],
        "highs": ["3", "4"],
        "lows": ["-1", "0"],  # no sign rule on prices (spreads, synthetic markets)
        "closes": ["2", "3"],
        "volumes": ["10", Decimal("0")],
        "vwaps": ["2.5", None],
        "counts": [5, None],
        "raws": [[1], [2]],
    }
    columns.update(change)
    return columns


def per_candle(c):
    return [
        Candle(
            symbol="ETH/USD",
            interval="1m",
            open_time=t,
            open=o,
            high=h,
            low=lo,
            close=cl,
            volume=v,
            vwap=w,
            count=n,
            raw=r,
        )
        for t, o, h, lo, cl, v, w, n, r in zip(*c.values(), strict=True)
    ]


def test_candles_equal_the_per_candle_constructor():
    c = candle_columns()
    assert candles("ETH/USD", "1m", **c) == per_candle(c)
    assert candles("ETH/USD", "1m", **candle_columns(vwaps=["", "1"])) == per_candle(
        candle_columns(vwaps=["", "1"])
    )


@pytest.mark.parametrize(
    "change", [{"volumes": ["1", "-1"]}, {"closes": ["1", 2.0]}, {"open_times": [1, "x"]}]
)
def test_candles_refuse_what_the_model_refuses(change):
    c = candle_columns(**change)
    with pytest.raises((ValueError, TypeError)) as slow:
        per_candle(c)
    with pytest.raises(type(slow.value)) as fast:
        candles("ETH/USD", "1m", **c)
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize("text", ["inf", "-inf", "snan", "nan", "INFINITY", "sNaN"])
def test_every_non_finite_spelling_is_refused(text):
    with pytest.raises(ValueError, match="not a finite number"):
        price_levels([["1", "1"], [text, "1"]])


def test_exponents_and_negative_zero_are_numbers_as_for_the_model():
    rows = [["1e-8", "2E+3"], ["-0", "0.5"], ["1_000", " 7 "]]
    assert price_levels(rows) == tuple(PriceLevel(a, b) for a, b in rows)
    assert to_decimals(["-1e-8", "3"]) == [Decimal("-1e-8"), Decimal(3)]
    with pytest.raises(ValueError, match=">= 0"):
        to_decimals(["-1e-8"], non_negative=True)
