"""The second edition's parts on their own: request expectations, cases that compare nothing,
payload eras, the simulator base's signature and nonce checks, the inspection API's defaults
and the ConnectorKit's validation."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest

from xest import errors
from xest.testing import ConnectorKit, ErrorCase, ExpectedRequest, RecordedCase
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.check_recorded import payload_era, triviality
from xest.testing.conformance.requests import request_problems
from xest.testing.server import REPLAY_GRACE, LoopbackServer, SimRequest, route
from xest.testing.signing import HmacScheme


def req(method: str, path: str, query: str = "", body: str = "") -> SimRequest:
    from urllib.parse import parse_qsl

    return SimRequest(
        method=method,
        path=path,
        query_string=query,
        body=body,
        headers={},
        query=dict(parse_qsl(query)),
        form=dict(parse_qsl(body)),
    )


ORDER = ExpectedRequest("POST", "/orders", {"side": "buy", "size": "0.50", "clientId": "c1"})


def test_request_expectations_say_what_was_sent():
    good = req("POST", "/orders", body="side=buy&size=0.5&clientId=c1&nonce=9")
    assert request_problems(ORDER, [req("GET", "/markets"), good]) == []  # 0.5 == 0.50
    wrong = req("POST", "/orders", body="side=sell&size=0.5")
    assert request_problems(ORDER, [wrong]) == [
        "sent side=sell, expected side=buy",
        "sent no clientId, expected clientId=c1",
    ]
    ticker = ExpectedRequest("GET", "/ticker/btcusd/")
    assert request_problems(ticker, [req("GET", "/ticker/btceur/")], ["GET /ticker/btcusd/"]) == [
        "asked for GET /ticker/btceur/, expected GET /ticker/btcusd/"
    ]
    absent = ExpectedRequest("POST", "/orders", {"price": None})
    assert request_problems(absent, [req("POST", "/orders", body="price=1")]) == [
        "sent price=1, expected no price"
    ]


def test_request_expectations_refuse_volatile_parameters():
    with pytest.raises(errors.PluginError, match="nonce"):
        ExpectedRequest("POST", "/x", {"nonce": "1"})


def case(**kwargs) -> RecordedCase:
    return RecordedCase(name="c", operation="order", responses={}, **kwargs)


def test_cases_that_compare_nothing_are_named():
    assert "check compares nothing" in triviality(case(check=lambda result: None))
    assert "compares nothing" in triviality(case(values={"id": "7"}, args=("7",)))
    assert "compares nothing" in triviality(case(values={"id": mock.ANY}))
    assert triviality(case(values={"amount": Decimal("1.5")}, args=("7",))) is None

    def real(result):
        assert result.amount == Decimal("1.5")

    assert triviality(case(check=real)) is None


def test_a_payload_era_comes_from_its_times_in_any_unit():
    low, high = payload_era({"/t": '{"time": 1700000000123, "x": "30300.1"}'})
    assert low == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    low, _ = payload_era({"/k": {"result": {"opentm": 1688665899.5699}}})
    assert low.date().isoformat() == "2023-07-06"
    low, _ = payload_era({"/s": {"timestamp": "2023-07-06T18:52:00Z"}})
    assert low == datetime(2023, 7, 6, 18, 52, tzinfo=UTC)
    low, high = payload_era({"/b": {"free": "1.5"}})
    assert high - low < timedelta(seconds=5)
    found = inv.era_problems({"t": datetime(1970, 1, 20, tzinfo=UTC)}, "x", (low, high))
    assert found and "wrong unit" in found[0]


def test_time_problems_name_the_unit():
    now = datetime.now(UTC)
    found = inv.time_problems(
        {"t": datetime(1970, 1, 21, tzinfo=UTC)}, "x", now, timedelta(minutes=1), "the clock"
    )
    assert "years away from the clock" in found[0] and "wrong unit" in found[0]
    assert inv.time_problems({"t": now}, "x", now, timedelta(minutes=1), "the clock") == []


SECRET = "s3cret"


def message(request) -> bytes:
    return f"{request.header('X-TS')}{request.path}{request.query_string}".encode()


class Signed(LoopbackServer):
    exchange = "signed"

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.signature_scheme = HmacScheme(
            key_at=("header", "X-KEY"),
            signature_at=("header", "X-SIG"),
            nonce_at=("header", "X-TS"),
            message=message,
            nonce_kind=kind,
        )

    def demo_credentials(self):
        return "k", SECRET

    @route("GET", "/private")
    def private(self, request):
        return {"ok": True}  # a lax handler: the base does the checking


def call(sim: Signed, ts: int, query: str = "a=1", sign: str | None = None) -> int:
    sig = sign or hmac.new(SECRET.encode(), f"{ts}/private{query}".encode(), hashlib.sha256)
    headers = {"X-KEY": "k", "X-TS": str(ts), "X-SIG": sig if sign else sig.hexdigest()}
    request = urllib.request.Request(f"{sim.url}/private?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_base_verifies_signatures_and_counter_nonces():
    with Signed("counter") as sim:
        assert call(sim, 5) == 200
        assert call(sim, 6, sign="00" * 32) == 401
        assert "does not match the declared signature scheme" in sim.refusals[-1]
        assert call(sim, 5, "a=2") == 401  # not above the last nonce
        assert "not above the last one" in sim.refusals[-1]
        assert call(sim, 7) == 200


def test_the_base_refuses_a_replayed_timestamp_only_with_the_same_signature():
    with Signed("timestamp") as sim:
        assert call(sim, 5) == 200
        assert call(sim, 5, "a=2") == 200  # same millisecond, another request
        assert call(sim, 5) == 200  # the same read twice in one millisecond: not a replay
        time.sleep(REPLAY_GRACE + 0.1)
        assert call(sim, 5) == 401
        assert "already used for this very request" in sim.refusals[-1]


def test_the_inspection_api_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="inspection API"):
        LoopbackServer().inspect_prices()


def test_a_kit_takes_typed_cases_and_reasons():
    from xest_example.connector import ExampleConnector

    kit = ConnectorKit(ExampleConnector, error_cases=[{"name": "x"}])
    with pytest.raises(errors.PluginError, match="ErrorCase instances only"):
        kit.cases("error_cases")
    typed = ErrorCase(name="x", body={}, error="BadRequest")
    assert ConnectorKit(ExampleConnector, error_cases=lambda: [typed]).cases("error_cases") == [
        typed
    ]
    with pytest.raises(errors.PluginError, match="needs a reason"):
        ConnectorKit(ExampleConnector, exclude={"test_quote_expires": " "})
    with pytest.raises(errors.PluginError, match="unknown conformance option"):
        ConnectorKit(ExampleConnector, options={"pair": "BTC/USD"})
