"""Kraken's asset and pair codes, unified."""

from __future__ import annotations

import pytest
from xest_kraken.markets import balance_note, exchange_asset, pair_assets, unify_asset


@pytest.mark.parametrize(
    ("code", "common"),
    [
        ("XXBT", "BTC"),
        ("XBT", "BTC"),
        ("ZUSD", "USD"),
        ("ZEUR", "EUR"),
        ("XETH", "ETH"),
        ("XXDG", "DOGE"),
        ("XDG", "DOGE"),
        ("XXRP", "XRP"),
        ("USDT", "USDT"),  # newer codes stay as they are
        ("DOT", "DOT"),
        ("ZEUS", "ZEUS"),  # four letters starting with Z, but not a legacy code
        ("XCN", "XCN"),
        ("ETH2.S", "ETH2.S"),
        ("XBT.M", "BTC.M"),
        ("USD.HOLD", "USD.HOLD"),
    ],
)
def test_unify_asset(code, common):
    assert unify_asset(code) == common


def test_suffixed_balances_are_explained_plain_ones_are_not():
    assert "staked" in balance_note("ETH2.S")
    assert "rewards" in balance_note("USD.M")
    assert "hold" in balance_note("USD.HOLD")
    assert balance_note("ZUSD") == ""
    assert balance_note("DOT.X")  # unknown suffixes still get a note


def test_pair_assets_prefer_wsname_and_fall_back_to_codes():
    assert pair_assets({"wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD"}) == ("BTC", "USD")
    assert pair_assets({"wsname": "ETH/XBT", "base": "XETH", "quote": "XXBT"}) == ("ETH", "BTC")
    assert pair_assets({"base": "XXDG", "quote": "ZUSD"}) == ("DOGE", "USD")
    assert pair_assets({"wsname": "XBT/USDT", "base": "XXBT", "quote": "USDT"}) == ("BTC", "USDT")


def test_exchange_asset_is_the_reverse_for_renamed_assets():
    assert exchange_asset("BTC") == "XBT"
    assert exchange_asset("doge") == "XDG"
    assert exchange_asset("ETH") == "ETH"
