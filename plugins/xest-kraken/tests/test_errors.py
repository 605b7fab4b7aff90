"""Kraken's error envelope (HTTP 200 with ``error: [...]``) mapped onto xest's errors."""

from __future__ import annotations

import logging

import pytest
from xest_kraken.errors import InvalidArguments, check_payload, classify

from xest import errors

TABLE = [
    ("EAPI:Invalid key", errors.AuthenticationError),
    ("EAPI:Invalid signature", errors.AuthenticationError),
    ("EAPI:Invalid nonce", errors.InvalidNonce),
    ("EGeneral:Permission denied", errors.PermissionDenied),
    ("EOrder:Insufficient funds", errors.InsufficientFunds),
    ("EOrder:Unknown order", errors.OrderNotFound),
    ("EOrder:Order minimum not met", errors.InvalidOrder),
    (
        "EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.",
        errors.InvalidOrder,
    ),
    ("EOrder:Duplicate order", errors.DuplicateOrder),
    ("EGeneral:Invalid arguments", errors.InvalidOrder),
    ("EGeneral:Invalid arguments:volume", errors.InvalidOrder),
    ("EQuery:Unknown asset pair", errors.BadSymbol),
    ("EAPI:Rate limit exceeded", errors.RateLimited),
    ("EOrder:Rate limit exceeded", errors.RateLimited),
    ("EGeneral:Too many requests", errors.RateLimited),
    ("EService:Throttled:1700000000", errors.RateLimited),
    ("EService:Unavailable", errors.ExchangeUnavailable),
    ("EService:Busy", errors.ExchangeUnavailable),
    ("EGeneral:Temporary lockout", errors.ExchangeUnavailable),
    ("EService:Market in cancel_only mode", errors.OnMaintenance),
    ("EService:Market in post_only mode", errors.OnMaintenance),
    ("EGeneral:Unavailable during maintenance", errors.OnMaintenance),
]


@pytest.mark.parametrize(("text", "cls"), TABLE)
def test_error_prefix_table(text, cls):
    with pytest.raises(cls) as caught:
        check_payload({"error": [text]})
    assert caught.value.code == text
    assert caught.value.exchange == "kraken"
    assert text in str(caught.value)


def test_the_most_specific_class_wins():
    assert classify("EOrder:Unknown order")[0] is errors.OrderNotFound
    assert classify("EService:Unavailable")[0] is errors.ExchangeUnavailable
    assert classify("EQuery:Unknown asset pair")[0] is errors.BadSymbol


def test_invalid_arguments_names_the_argument_and_is_both_invalid_order_and_bad_request():
    with pytest.raises(InvalidArguments) as caught:
        check_payload({"error": ["EGeneral:Invalid arguments:volume"]})
    assert isinstance(caught.value, errors.InvalidOrder)
    assert isinstance(caught.value, errors.BadRequest)
    assert "'volume'" in str(caught.value)


def test_unknown_errors_keep_the_exchange_text():
    with pytest.raises(errors.ExchangeError) as caught:
        check_payload({"error": ["EFunding:Unknown withdraw key"]})
    assert type(caught.value) is errors.ExchangeError
    assert "EFunding:Unknown withdraw key" in str(caught.value)


def test_warnings_are_logged_not_raised(caplog):
    with caplog.at_level(logging.WARNING, logger="xest.kraken"):
        check_payload({"error": ["WGeneral:Something to know"], "result": {"count": 1}})
    assert "WGeneral:Something to know" in caplog.text


def test_an_error_after_a_warning_is_still_raised():
    with pytest.raises(errors.InsufficientFunds):
        check_payload({"error": ["WGeneral:Note", "EOrder:Insufficient funds"]})


def test_envelopes_without_a_result_or_of_the_wrong_shape_are_bad_responses():
    with pytest.raises(errors.BadResponse):
        check_payload({"error": []})
    with pytest.raises(errors.BadResponse):
        check_payload(["not", "an", "envelope"])
    check_payload({"error": [], "result": {}})


def test_throttled_until_a_time_gives_retry_after():
    import time

    with pytest.raises(errors.RateLimited) as caught:
        check_payload({"error": [f"EService:Throttled:{int(time.time()) + 30}"]})
    assert 25 <= caught.value.retry_after <= 30
