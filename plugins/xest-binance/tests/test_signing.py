"""Binance's documented HMAC-SHA256 signing examples, reproduced exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from xest_binance.connector import BinanceConnector
from xest_binance.signing import encode_params, sign_request, signature, wire_value

from xest.credentials import Credentials
from xest.http import PreparedRequest, SigningContext

# The key pair Binance's docs use for their examples ("SIGNED request example (HMAC)").
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ORDER = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
]
DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
UNICODE_PAYLOAD = (
    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
    "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
# The docs' symbol: six FULLWIDTH digits, U+FF11..U+FF16, spelled out so linters stay quiet.
FULLWIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16"
UNICODE_SIGNATURE = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
MIXED_SIGNATURE = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"


def test_documented_ascii_example():
    payload = encode_params([*ORDER, ("recvWindow", 5000), ("timestamp", 1499827319559)])
    assert payload == DOC_PAYLOAD
    assert signature(SECRET, payload) == DOC_SIGNATURE


def test_documented_non_ascii_example_is_percent_encoded_before_signing():
    params = [("symbol", FULLWIDTH), *ORDER[1:], ("recvWindow", 5000)]
    payload = encode_params([*params, ("timestamp", 1499827319559)])
    assert payload == UNICODE_PAYLOAD
    assert signature(SECRET, payload) == UNICODE_SIGNATURE


def test_documented_mixed_query_and_body_example():
    # totalParams is the query string concatenated with the body, with no "&" between them.
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    assert signature(SECRET, query + body) == MIXED_SIGNATURE


def _prepared(method: str, params: list[tuple[str, str]]) -> PreparedRequest:
    return PreparedRequest(method, "https://x/api/v3/order", "/api/v3/order", dict(params))


def test_sign_request_post_puts_the_signed_payload_in_the_body():
    req = _prepared("POST", ORDER)
    sign_request(req, API_KEY, SECRET, 1499827319559, 5000)
    assert req.body == f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"
    assert req.query is None
    assert req.headers["X-MBX-APIKEY"] == API_KEY
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_sign_request_get_puts_it_in_the_query_string():
    req = _prepared("GET", [("symbol", FULLWIDTH), *ORDER[1:]])
    sign_request(req, API_KEY, SECRET, 1499827319559, 5000)
    assert req.query == f"{UNICODE_PAYLOAD}&signature={UNICODE_SIGNATURE}"
    assert req.body is None


def test_connector_signs_with_the_context_timestamp_and_its_recv_window():
    conn = BinanceConnector.create("http://127.0.0.1:9", recv_window=5000)
    req = _prepared("POST", ORDER)
    context = SigningContext(nonce=lambda: 1, timestamp_ms=lambda: 1499827319559)
    conn.sign(req, Credentials(API_KEY, SECRET), context)
    assert req.body.endswith(f"&signature={DOC_SIGNATURE}")


def test_recv_window_is_configurable_and_bounded(monkeypatch):
    conn = BinanceConnector.create("http://127.0.0.1:9", recv_window=2500)
    req = _prepared("GET", [("symbol", "LTCBTC")])
    conn.sign(req, Credentials("k", "s"), SigningContext(lambda: 1, lambda: 1000))
    assert "recvWindow=2500&timestamp=1000&signature=" in req.query
    monkeypatch.setenv("XEST_BINANCE_RECV_WINDOW", "7000")
    assert BinanceConnector.create("http://127.0.0.1:9").recv_window == 7000
    from xest import errors

    with pytest.raises(errors.ConfigError, match="60000"):
        BinanceConnector.create("http://127.0.0.1:9", recv_window=60001)


def test_wire_values_never_use_exponents():
    assert wire_value(Decimal("1E-7")) == "0.0000001"
    assert wire_value(Decimal("0.00100000")) == "0.001"
    assert wire_value(Decimal("100")) == "100"
    assert wire_value(True) == "true"
    with pytest.raises(TypeError):
        wire_value(0.1)


def test_reserved_characters_are_encoded():
    assert encode_params({"symbols": '["BTCUSDT","ETHUSDT"]'}) == (
        "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D"
    )
    assert encode_params({"newClientOrderId": "a/b+c=d~e"}) == "newClientOrderId=a%2Fb%2Bc%3Dd~e"


def test_percent_encoding_shortcut_matches_quote():
    from urllib.parse import quote

    from xest_binance.signing import _percent

    for text in ["BTCUSDT", "0.00100", "a-b_c.d~e", "a b", "x/y", "é", "1+1", "", "%", "A&B=C"]:
        assert _percent(text) == quote(text, safe=""), text
