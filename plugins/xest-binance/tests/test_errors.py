"""Binance's {code, msg} errors onto xest.errors."""

from __future__ import annotations

import pytest
from xest_binance.conformance import _raw
from xest_binance.errors import error_for

from xest import errors


@pytest.mark.parametrize("case", _raw("errors"), ids=lambda c: c["name"])
def test_documented_error_payloads_map(case):
    error = error_for(case["status"], case["body"], case.get("headers", {}), "/api/v3/time")
    assert type(error) is getattr(errors, case["error"])
    assert error.code == case["body"]["code"]
    assert case["body"]["msg"] in str(error)  # nothing Binance said is lost


def test_filter_failures_name_the_filter():
    error = error_for(400, {"code": -1013, "msg": "Filter failure: LOT_SIZE"}, {}, "/api/v3/order")
    assert isinstance(error, errors.InvalidOrder)
    assert "the LOT_SIZE filter" in str(error)


def test_parameter_errors_name_the_parameter_and_depend_on_the_endpoint():
    body = {
        "code": -1102,
        "msg": "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
    }
    on_order = error_for(400, body, {}, "/api/v3/order")
    assert type(on_order) is errors.InvalidOrder and "'quantity'" in str(on_order)
    elsewhere = error_for(400, body, {}, "/api/v3/depth")
    assert type(elsewhere) is errors.BadRequest


def test_ban_until_comes_from_the_message_or_retry_after():
    msg = "Way too much request weight used; IP banned until 1659146400000. Please use WebSocket"
    error = error_for(418, {"code": -1003, "msg": msg}, {}, "", now=1659146000.0)
    assert isinstance(error, errors.RateLimited)
    assert error.ban_until == 1659146400.0 and error.retry_after == 400.0
    assert "banned" in str(error)
    header_only = error_for(
        418, {"code": -1003, "msg": "Way too much"}, {"Retry-After": "120"}, "", now=1000.0
    )
    assert header_only.ban_until == 1120.0
    plain = error_for(
        429, {"code": -1003, "msg": "Too much request weight used"}, {"retry-after": "7"}, ""
    )
    assert plain.retry_after == 7.0 and plain.ban_until is None
    bare = error_for(429, "<html>", {"Retry-After": "3"}, "")
    assert isinstance(bare, errors.RateLimited) and bare.retry_after == 3.0


def test_convert_errors_are_told_apart_by_their_text():
    path = "/sapi/v1/convert/acceptQuote"
    expired = error_for(400, {"code": 345103, "msg": "Quote has expired."}, {}, path)
    assert type(expired) is errors.QuoteExpired
    used = error_for(400, {"code": 345104, "msg": "Quote has already been accepted."}, {}, path)
    assert type(used) is errors.QuoteAlreadyExecuted
    unknown = error_for(
        400, {"code": 345105, "msg": "Quote is invalid or does not exist."}, {}, path
    )
    assert type(unknown) is errors.InvalidQuote
    caused = error_for(
        400, {"code": 345199, "msg": "Convert failure caused by risk control."}, {}, path
    )
    assert type(caused) is errors.ExchangeError  # "caused" does not read as "used"
    # The same words elsewhere are not about quotes.
    assert type(error_for(400, {"code": 345103, "msg": "expired"}, {}, "/api/v3/order")) is (
        errors.ExchangeError
    )


def test_successes_are_not_errors():
    assert error_for(200, {"serverTime": 1}, {}, "") is None
    assert error_for(200, [], {}, "") is None
    assert error_for(200, {"status": 0, "msg": "normal"}, {}, "") is None
    assert error_for(500, "<html>", {}, "") is None  # left to the transport
