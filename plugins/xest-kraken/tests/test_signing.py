"""Kraken's signature, checked against the example in Kraken's own documentation."""

from __future__ import annotations

import pytest
from kraken_helpers import TEST_SECRET
from xest_kraken.signing import sign, signature

from xest import errors
from xest.credentials import Credentials
from xest.http import PreparedRequest, SigningContext

# docs.kraken.com, Spot REST Authentication: buy 1.25 XBTUSD at 37500.
NONCE = 1616492376594
PAYLOAD = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
EXPECTED = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_documented_signature_example():
    assert signature("/0/private/AddOrder", NONCE, PAYLOAD, TEST_SECRET) == EXPECTED


def test_sign_adds_nonce_body_and_headers_like_the_documented_example():
    request = PreparedRequest(
        method="POST",
        url="https://api.kraken.com/0/private/AddOrder",
        path="/0/private/AddOrder",
        params={
            "ordertype": "limit",
            "pair": "XBTUSD",
            "price": "37500",
            "type": "buy",
            "volume": "1.25",
        },
    )
    context = SigningContext(nonce=lambda: NONCE, timestamp_ms=lambda: 0)
    sign(request, Credentials("the-key", TEST_SECRET, "doc"), context)
    assert request.body == PAYLOAD
    assert request.headers["API-Key"] == "the-key"
    assert request.headers["API-Sign"] == EXPECTED
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_a_different_path_or_nonce_changes_the_signature():
    assert signature("/0/private/Balance", NONCE, PAYLOAD, TEST_SECRET) != EXPECTED
    assert signature("/0/private/AddOrder", NONCE + 1, PAYLOAD, TEST_SECRET) != EXPECTED


def test_a_secret_that_is_not_base64_is_refused_without_showing_it():
    secret = "not base64 at all!!"
    with pytest.raises(errors.AuthenticationError) as caught:
        signature("/0/private/Balance", NONCE, "nonce=1", secret)
    assert secret not in str(caught.value)
    assert "base64" in str(caught.value)


def test_the_secret_is_decoded_once_per_credentials(monkeypatch):
    from xest_kraken import signing

    from xest.credentials import Credentials
    from xest.http import PreparedRequest, SigningContext

    decoded = []
    real = signing.decode_secret
    monkeypatch.setattr(signing, "decode_secret", lambda s: decoded.append(1) or real(s))
    credentials = Credentials("key", "a2V5IHNlY3JldA==")
    context = SigningContext(nonce=iter(range(1, 100)).__next__, timestamp_ms=lambda: 0)
    signatures = set()
    for _ in range(3):
        request = PreparedRequest("POST", "http://x/0/private/Balance", "/0/private/Balance")
        signing.sign(request, credentials, context)
        signatures.add(request.headers["API-Sign"])
    assert len(decoded) == 1
    assert len(signatures) == 3  # a fresh nonce, a fresh signature each time
    assert "a2V5IHNlY3JldA==" not in repr(credentials)
