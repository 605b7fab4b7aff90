"""The bulk constructors build exactly what the models' own constructors build, and refuse
exactly what they refuse, with the same errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
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
    steady_times,
    to_decimals,
    to_utc,
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


def test_numbers_keep_every_digit_and_exponent_as_the_constructor_makes_them():
    texts = [
        "30300.10000",  # trailing zeros kept
        "0.1234567890123456789012345678901234567890",  # past the default 28 digits
        "1E+999999",
        "1e-999999999",
        "-0",
        "123456789" * 8,
    ]
    made = to_decimals(texts)
    assert [str(d) for d in made] == [str(Decimal(t)) for t in texts]
    assert [d.as_tuple() for d in made] == [Decimal(t).as_tuple() for t in texts]


def test_a_column_of_decimals_is_checked_as_any_other():
    c = candle_columns(volumes=[Decimal(1), Decimal("NaN")])
    with pytest.raises(ValueError, match="not a finite number"):
        candles("ETH/USD", "1m", **c)
    c = candle_columns(volumes=[Decimal(1), Decimal(-1)])
    with pytest.raises(ValueError, match=">= 0"):
        candles("ETH/USD", "1m", **c)
    c = candle_columns(volumes=[Decimal(1), Decimal("2.50")], vwaps=[Decimal(3), Decimal("Inf")])
    with pytest.raises(ValueError, match="not a finite number"):
        candles("ETH/USD", "1m", **c)
    c = candle_columns(volumes=[Decimal(1), Decimal("2.50")], vwaps=[Decimal(3), Decimal(4)])
    assert candles("ETH/USD", "1m", **c) == per_candle(c)


@pytest.mark.parametrize(
    ("values", "per_second"),
    [
        ([1688666400 + 60 * i for i in range(50)], 1),
        ([1688666400 - 3600 * i for i in range(5)], 1),  # newest first
        ([1499040000123 + 60_000 * i for i in range(50)], 1000),
        ([-86_400_000 + 1 + 7 * i for i in range(9)], 1000),  # before 1970, odd milliseconds
    ],
)
def test_evenly_spaced_times_equal_those_made_one_by_one(values, per_second):
    made = steady_times(values, per_second)
    one_by_one = [
        datetime.fromtimestamp(v // per_second, UTC) + timedelta(milliseconds=v % per_second)
        if per_second == 1000
        else to_utc(v)
        for v in values
    ]
    assert made == one_by_one
    assert all(d.tzinfo is UTC for d in made)


def test_times_not_evenly_spaced_are_left_to_the_clock():
    assert steady_times([1, 2, 4]) is None
    assert steady_times([5, 5, 5]) is None
    assert steady_times([5]) is None
    assert steady_times([1, 2, True]) is None
    three = {k: [*v, v[0]] for k, v in candle_columns().items()}  # a third candle
    c = three | {"open_times": [1688666400, 1688666460, 1688666407]}
    assert candles("ETH/USD", "1m", **c) == per_candle(c)
    with pytest.raises(ValueError, match="divide"):
        steady_times([1, 2], 7)


def test_evenly_spaced_times_out_of_range_raise_as_one_by_one():
    far = [0, 10**12]  # the year 33658
    with pytest.raises((ValueError, OverflowError)) as slow:
        [to_utc(v) for v in far]
    with pytest.raises(type(slow.value)):
        steady_times(far)


def test_candle_times_given_in_another_zone_become_utc():
    paris = timezone(timedelta(hours=1))
    c = candle_columns(open_times=[datetime(2024, 1, 1, 1, tzinfo=paris)] * 2)
    made = candles("ETH/USD", "1m", **c)
    assert made == per_candle(c)
    assert made[0].open_time == datetime(2024, 1, 1, tzinfo=UTC)
    assert made[0].open_time.tzinfo is UTC
    gmt = timezone(timedelta(0), "GMT")  # equal to UTC as a zone, but not UTC itself
    made = candles(
        "ETH/USD", "1m", **candle_columns(open_times=[datetime(2024, 1, 1, tzinfo=gmt)] * 2)
    )
    assert all(c.open_time.tzinfo is UTC for c in made)
