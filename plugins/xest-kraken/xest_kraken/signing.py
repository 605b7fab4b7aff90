"""Kraken's request signature.

``API-Sign`` = base64(HMAC-SHA512(key = base64-decoded secret,
message = URI path + SHA256(nonce + POST data))). The nonce travels inside the POST data too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import urlencode

from xest import errors
from xest.credentials import Credentials
from xest.http import PreparedRequest, SigningContext


def decode_secret(secret: str) -> bytes:
    """The raw HMAC key; a clear error (without the secret) when it is not base64."""
    try:
        return base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise errors.AuthenticationError(
            "the Kraken API secret is not valid base64: copy the private key again from "
            "Kraken (Settings > API) into the account's configuration",
            exchange="kraken",
        ) from None


def signature(path: str, nonce: str | int, post_data: str, secret: str | bytes) -> str:
    """The ``API-Sign`` value for one request."""
    key = decode_secret(secret) if isinstance(secret, str) else secret
    digest = hashlib.sha256(f"{nonce}{post_data}".encode()).digest()
    mac = hmac.new(key, path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def sign(request: PreparedRequest, credentials: Credentials, context: SigningContext) -> None:
    """Add the nonce, the form-encoded body and the two headers to a private request."""
    nonce = str(context.nonce())
    params = {"nonce": nonce, **{k: v for k, v in request.params.items() if k != "nonce"}}
    request.params = params
    request.body = urlencode(params)
    request.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request.headers["API-Key"] = credentials.key
    key = credentials.derived("kraken-hmac-key", decode_secret)  # decoded once per credentials
    request.headers["API-Sign"] = signature(request.path, nonce, request.body, key)


def _signed_message(request) -> bytes:
    nonce = request.form.get("nonce", "")
    return request.path.encode() + hashlib.sha256(f"{nonce}{request.body}".encode()).digest()


def scheme():
    """This signature as a :class:`xest.testing.signing.HmacScheme`: the simulator's base
    verifies every private request with it (and that each nonce increases)."""
    from xest.testing.signing import HmacScheme

    return HmacScheme(
        key_at=("header", "API-Key"),
        signature_at=("header", "API-Sign"),
        nonce_at=("param", "nonce"),
        message=_signed_message,
        digest="sha512",
        encoding="base64",
        secret_encoding="base64",
        nonce_kind="counter",
    )
