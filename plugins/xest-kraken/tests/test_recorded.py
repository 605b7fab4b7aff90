"""Kraken's documented answers, served over HTTP and parsed by the connector end to end.

The cases are the ones the plugin hands the conformance suite (its ``ConnectorKit``), so
this also proves those cases hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kraken_helpers import Replay, connector
from xest_kraken.conformance import error_cases, raw, recorded_cases

from xest.models import Balance, Status
from xest.testing import RecordedCase


def _value(result: Any, path: str) -> Any:
    for part in path.split("."):
        if part.isdigit() and isinstance(result, list | tuple):
            result = result[int(part)]
        elif isinstance(result, dict):
            result = result[part]
        else:
            result = getattr(result, part)
    return result


@pytest.mark.parametrize("case", recorded_cases(), ids=lambda c: c.name)
def test_recorded_case_parses_to_its_documented_values(case: RecordedCase):
    with Replay(case.responses) as server:
        result = getattr(connector(server.url), case.operation)(*case.args, **case.kwargs)
    for path, expected in case.values.items():
        assert _value(result, path) == expected, path


def test_tickers_map_canonical_keys_back_to_the_symbols_asked_for():
    # Asked as XBTUSD (the altname), answered under XXBTZUSD: still BTC/USD.
    responses = {"/0/public/AssetPairs": raw("asset_pairs"), "/0/public/Ticker": raw("ticker")}
    with Replay(responses) as server:
        tickers = connector(server.url).tickers(["XBTUSD"])
        sent = next(r for r in server.requests if r.path == "/0/public/Ticker")
    assert list(tickers) == ["BTC/USD"]
    assert tickers["BTC/USD"].bid == Decimal("30300.00000")
    assert sent.query["pair"] == "XXBTZUSD"


def test_balances_fall_back_to_balance_where_balance_ex_is_missing():
    responses = {"/0/private/Balance": raw("balance")}  # BalanceEx: EGeneral:Unknown method
    with Replay(responses) as server:
        balances = connector(server.url).balances()
    assert balances["BTC"] == Balance("BTC", Decimal("1011.1908877900"), Decimal(0), "XXBT")
    assert balances["EUR"].free == Decimal("504861.8946")
    # Suffixed sub-balances stay apart from the plain asset, and say why.
    assert balances["ETH2.S"].free == Decimal("198.3970800000")
    assert balances["ETH2"].free == Decimal("2.5885574330")
    assert "staked" in balances["ETH2.S"].note
    assert balances["USD.M"].free == Decimal("1213029.2780")
    assert balances["USD"].free == Decimal("171288.6158")
    assert balances["USD.M"].note and not balances["USD"].note


def test_private_requests_are_signed_form_posts_with_a_nonce():
    with Replay({"/0/private/BalanceEx": raw("balance_ex")}) as server:
        connector(server.url).balances()
        request = server.requests[-1]
    assert request.method == "POST"
    assert request.header("API-Key") == "test-key"
    assert request.header("API-Sign")
    assert request.header("content-type").startswith("application/x-www-form-urlencoded")
    assert request.body.startswith("nonce=") and request.form["nonce"].isdigit()


@pytest.mark.parametrize("case", error_cases(), ids=lambda c: c.name)
def test_error_envelopes_answered_with_http_200_map_to_xest_errors(case):
    with (
        Replay({"/0/public/SystemStatus": case.body}) as server,
        pytest.raises(case.error) as caught,
    ):
        connector(server.url).status()
    assert caught.value.code == case.code
    assert case.code in str(caught.value)


def test_a_status_kraken_adds_later_reads_as_unknown():
    body = {"error": [], "result": {"status": "limit_only", "timestamp": "2023-07-06T18:52:00Z"}}
    with Replay({"/0/public/SystemStatus": body}) as server:
        status = connector(server.url).status()
    assert status.status is Status.UNKNOWN and "limit_only" in status.message


def test_the_plugin_hands_its_cases_to_the_conformance_suite():
    from xest import registry

    kit = registry.kits()["kraken"]
    names = {case.name for case in kit.cases("recorded_cases")}
    assert {"Ticker", "AssetPairs", "BalanceEx", "AddOrder"} <= names
    texts = {case.code for case in kit.cases("error_cases")}
    assert "EAPI:Invalid nonce" in texts
    assert kit.simulator is not None and kit.options["symbol"] == "BTC/USD"
