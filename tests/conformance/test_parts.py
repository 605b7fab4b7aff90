"""The suite's parts on their own: the invariant checks, the fault proxy, the replay server and
the cases plugins register."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xest import errors
from xest.models import Candle, OrderBook
from xest.testing import ErrorCase, Fault, LoopbackServer, RecordedCase, route
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.check_recorded import _MISSING, resolve
from xest.testing.proxy import FaultProxy, ReplayServer, pending_faults

T = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_value_problems_name_floats_float_born_decimals_and_bad_datetimes():
    assert inv.value_problems({"a": Decimal("0.1"), "t": T}) == []
    found = inv.value_problems(
        {
            "f": 0.1,
            "d": Decimal(0.1),  # noqa: RUF032 -- the defect under test
            "naive": datetime(2024, 1, 1),
            "paris": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        }
    )
    assert len(found) == 4
    assert "result['f'] is the float 0.1" in found[0]
    assert "went through a float" in found[1]
    assert "naive datetime" in found[2]
    assert "not in UTC" in found[3]


def test_models_must_keep_their_raw_payload():
    found = inv.value_problems(OrderBook("BTC/USD", bids=[("1", "1")], asks=[]), "book")
    assert found == ["book (OrderBook) does not keep the raw payload it was parsed from"]
    assert inv.value_problems(OrderBook("BTC/USD", bids=[], asks=[], raw={})) == []


def test_book_problems():
    book = OrderBook("BTC/USD", bids=[("10", "1"), ("11", "1")], asks=[("10.5", "1")])
    found = inv.book_problems(book, depth=1)
    assert any("bids not sorted best (highest) first" in p for p in found)
    assert any("crossed" in p for p in found)
    assert any("asked depth 1" in p for p in found)
    good = OrderBook("BTC/USD", bids=[("10", "1"), ("9", "1")], asks=[("11", "1"), ("12", "2")])
    assert inv.book_problems(good, depth=2) == []


def test_candle_problems():
    bad = Candle("BTC/USD", "1m", T, open="10", high="9", low="8", close="9.5", volume="1")
    later = Candle("BTC/USD", "1m", T - timedelta(minutes=1), "9", "9", "9", "9", "1")
    found = inv.candle_problems([bad, later], "1m", 1)
    assert any("low <= open, close <= high" in p for p in found)
    assert any("ascending" in p for p in found)
    assert any("at most 1" in p for p in found)


def test_resolve_dotted_paths():
    book = OrderBook("BTC/USD", bids=[("10", "1")], asks=[])
    assert resolve(book, "bids.0.price") == Decimal("10")
    assert resolve({"BTC": book}, "BTC.symbol") == "BTC/USD"
    assert resolve(book, "bids.3.price") is _MISSING
    assert resolve(book, "nope") is _MISSING


def test_cases_coerce_dicts_and_refuse_nonsense():
    case = ErrorCase.coerce({"name": "n", "body": {}, "error": "InsufficientFunds"})
    assert case.error is errors.InsufficientFunds and case.status == 200
    with pytest.raises(errors.PluginError, match="not an xest error class"):
        ErrorCase(name="n", body={}, error="KeyError")
    with pytest.raises(errors.PluginError, match="unknown operation 'balance'"):
        RecordedCase(name="n", operation="balance", responses={}, expect=1)
    with pytest.raises(errors.PluginError, match="says nothing about the result"):
        RecordedCase(name="n", operation="balances", responses={})


class Upstream(LoopbackServer):
    @route("GET", "/hello")
    def hello(self, request):
        return {"hello": request.query.get("who"), "header": request.header("X-Test")}

    @route("POST", "/echo")
    def echo(self, request):
        return {"form": request.form}


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers={"X-Test": "yes"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_fault_proxy_forwards_counts_and_injects():
    with Upstream() as upstream, FaultProxy(upstream.url) as proxy:
        assert fetch(f"{proxy.url}/hello?who=me") == (200, '{"hello":"me","header":"yes"}')
        assert json.loads(fetch(f"{proxy.url}/echo", b"a=1")[1]) == {"form": {"a": "1"}}
        proxy.inject(Fault.http(503, "down"), path="/hello")
        mark = proxy.mark()
        assert fetch(f"{proxy.url}/echo", b"a=2")[0] == 200  # other paths pass
        assert fetch(f"{proxy.url}/hello") == (503, "down")
        assert pending_faults(proxy) == 0
        assert proxy.requests_since(mark) == [("POST", "/echo"), ("GET", "/hello")]
        assert proxy.count("/hello") == 2 and upstream.hits["/hello"] == 1


def test_replay_server_answers_only_what_was_recorded():
    with ReplayServer({"GET /a": '{"x":1.50}', "/b": {"y": "2"}}) as server:
        assert fetch(f"{server.url}/a") == (200, '{"x":1.50}')  # exact text, digits kept
        assert fetch(f"{server.url}/b", b"") == (200, '{"y":"2"}')
        status, body = fetch(f"{server.url}/c")
        assert status == 404 and "no recorded answer for GET /c" in body
        assert server.missing == ["GET /c"]
