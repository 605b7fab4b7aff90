"""Paging: a limit above a page pages transparently; a pager that stops advancing raises."""

from __future__ import annotations

import pytest

from xest import errors, registry
from xest.paging import collect
from xest.schemas import parse as jdoc


def test_collect_reads_pages_until_enough():
    pages = {None: ([1, 2, 3], 3), 3: ([3, 4, 5], 5), 5: ([6], None)}
    rows = collect(
        lambda c: pages[c], first=None, want=None, key=lambda r: r, exchange="x", what="rows"
    )
    assert rows == [1, 2, 3, 4, 5, 6]
    few = collect(lambda c: pages[c], first=None, want=4, key=lambda r: r, exchange="x", what="r")
    assert few == [1, 2, 3, 4, 5]  # whole pages; the caller cuts


def test_a_pager_that_does_not_advance_raises():
    calls = []

    def stuck(cursor):
        calls.append(cursor)
        return [len(calls)], 7  # new rows every time, same cursor: would loop for ever

    with pytest.raises(errors.BadResponse, match="did not advance"):
        collect(stuck, first=7, want=None, key=lambda r: r, exchange="x", what="trades")
    assert len(calls) == 1


def test_a_page_of_known_rows_ends_the_read():
    rows = collect(
        lambda c: ([1, 2], c + 1), first=0, want=None, key=lambda r: r, exchange="x", what="r"
    )
    assert rows == [1, 2]


def test_candles_above_the_page_size_page_transparently(xest_cli):
    if "binance" not in registry.simulators():
        pytest.skip("no binance simulator")
    result = xest_cli("candles", "binance", "BTC/USDT", "1h", "--limit", "2500", "--sim", "--json")
    assert result.code == 0, result.err
    candles = jdoc(result.out)
    times = [c["open_time"] for c in candles]
    assert len(candles) == 2500 and times == sorted(set(times))
    since = xest_cli(
        "candles",
        "binance",
        "BTC/USDT",
        "1m",
        "--limit",
        "1500",
        "--since",
        "2026-01-01",
        "--sim",
        "--json",
        "--progress",
    )
    assert since.code == 0, since.err
    assert len(jdoc(since.out)) == 1500 and jdoc(since.out)[0]["open_time"].startswith("2026-01-01")
    assert "binance: reading candles, page 2" in since.err


def test_fewer_rows_than_asked_is_said(xest_cli):
    if "kraken" not in registry.simulators():
        pytest.skip("no kraken simulator")
    result = xest_cli("candles", "kraken", "BTC/USD", "1h", "--limit", "2000", "--sim")
    assert result.code == 0, result.err
    assert "720 candles of the 2000 asked for" in result.err
