"""Binance's HMAC-SHA256 request signing.

The signature is the hex HMAC-SHA256, keyed with the secret, of ``totalParams``: the query
string concatenated with the request body, exactly as sent. Parameters are percent-encoded
(UTF-8, RFC 3986) *before* signing, so a non-ASCII value is signed in its encoded form. We set
``prepared.query`` / ``prepared.body`` ourselves so what is signed is byte for byte what goes on
the wire.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from xest.http import wire_value

API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW = 5000  # ms, Binance's own default
MAX_RECV_WINDOW = 60000  # ms, Binance refuses more


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def _percent(text: str) -> str:
    # Most names and values (symbols, numbers, ids) need no escaping: skip quote() for them.
    if text.isascii() and (text.isalnum() or _UNRESERVED.issuperset(text)):
        return text
    return quote(text, safe="")


def encode_params(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """``k=v&k=v`` in the given order, names and values percent-encoded (UTF-8, RFC 3986).

    Only the unreserved characters ``A-Z a-z 0-9 - _ . ~`` stay as they are.
    """
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(
        f"{_percent(str(k))}={_percent(wire_value(v))}" for k, v in items if v is not None
    )


def signature(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` (query string + body, as sent) keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_request(
    prepared: Any,
    key: str,
    secret: str,
    timestamp_ms: int,
    recv_window: int | float | None = DEFAULT_RECV_WINDOW,
) -> None:
    """Sign a :class:`xest.http.PreparedRequest` in place.

    GET and DELETE carry everything in the query string; POST and PUT carry it in a
    form-encoded body. ``timestamp`` and ``recvWindow`` are added last, then ``signature``.
    """
    params = dict(prepared.params)
    params.pop("signature", None)
    if recv_window is not None:
        params["recvWindow"] = recv_window
    params["timestamp"] = int(timestamp_ms)
    payload = encode_params(params)
    signed = f"{payload}&signature={signature(secret, payload)}"
    if prepared.method in ("GET", "DELETE", "HEAD"):
        prepared.query = signed
        prepared.body = None
    else:
        prepared.query = None
        prepared.body = signed
        prepared.headers["Content-Type"] = "application/x-www-form-urlencoded"
    prepared.headers[API_KEY_HEADER] = key


def _signed_message(request: Any) -> bytes:
    def strip(text: str) -> str:
        return "&".join(p for p in text.split("&") if p and not p.startswith("signature="))

    return (strip(request.query_string) + strip(request.body)).encode()


def scheme() -> Any:
    """This signature as a :class:`xest.testing.signing.HmacScheme`: the simulator's base
    verifies every signed request with it (and refuses a replayed timestamp and signature)."""
    from xest.testing.signing import HmacScheme

    return HmacScheme(
        key_at=("header", API_KEY_HEADER),
        signature_at=("param", "signature"),
        nonce_at=("param", "timestamp"),
        message=_signed_message,
        nonce_kind="timestamp",
    )
