"""Signature schemes: how an exchange signs private requests, declared once by the plugin so the
simulator base verifies every signed request itself.

A simulator sets ``signature_scheme`` (a :class:`SignatureScheme`, usually the one its
connector's package declares). :class:`xest.testing.server.LoopbackServer` then checks, before
any handler runs, that each request carrying an API key is signed with that key's secret under
the scheme, and that its nonce is fresh: a counter nonce must increase, a timestamp nonce may
not be replayed: the same request (key, timestamp, signature, method and path) coming again
more than half a second after it first came is refused -- stricter than Binance, which
accepts a replay inside its window (two identical reads in one millisecond still pass). A
simulator's own lax checks cannot hide a signing bug, and the refusal says what was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:  # kept light: a connector's package can declare its scheme at no cost
    from xest.testing.server import SimRequest

__all__ = ["HmacScheme", "SignatureScheme", "at"]

Place = tuple[Literal["header", "param"], str]


def at(request: SimRequest, place: Place) -> str | None:
    """The value at ``("header", name)`` or ``("param", name)`` (query or form) of a request."""
    kind, name = place
    if kind == "header":
        return request.header(name)
    return request.params.get(name)


class SignatureScheme:
    """The interface the simulator base uses; :class:`HmacScheme` covers HMAC exchanges."""

    #: ``"counter"``: each nonce must exceed the key's last one (Kraken).
    #: ``"timestamp"``: a timestamp may repeat, never with the same signature (Binance).
    nonce_kind: str = "counter"

    def key(self, request: SimRequest) -> str | None:
        raise NotImplementedError

    def nonce(self, request: SimRequest) -> int | None:
        raise NotImplementedError

    def signature(self, request: SimRequest) -> str | None:
        raise NotImplementedError

    def expected(self, request: SimRequest, secret: str) -> str:
        """The signature ``request`` must carry when signed with ``secret``."""
        raise NotImplementedError

    def problem(self, request: SimRequest, secret: str) -> str | None:
        """Why the request's signature is wrong, or None."""
        got = self.signature(request)
        if not got:
            return "the request carries no signature"
        if not hmac.compare_digest(self.expected(request, secret), got):
            return "the signature does not match the declared signature scheme"
        return None


@attrs.frozen
class HmacScheme(SignatureScheme):
    """An HMAC over a message built from the request.

    ``message(request)`` returns the bytes signed (without the signature itself);
    ``digest`` the hashlib name; ``encoding`` of the signature, ``hex`` or ``base64``;
    ``secret_encoding`` how the secret becomes the HMAC key, ``utf-8`` or ``base64``.
    """

    key_at: Place
    signature_at: Place
    nonce_at: Place
    message: Callable[[SimRequest], bytes]
    digest: str = "sha256"
    encoding: str = "hex"
    secret_encoding: str = "utf-8"
    nonce_kind: str = "counter"

    def key(self, request: SimRequest) -> str | None:
        return at(request, self.key_at)

    def nonce(self, request: SimRequest) -> int | None:
        value = at(request, self.nonce_at)
        return int(value) if value and value.isdigit() else None

    def signature(self, request: SimRequest) -> str | None:
        return at(request, self.signature_at)

    def expected(self, request: SimRequest, secret: str) -> str:
        key = base64.b64decode(secret) if self.secret_encoding == "base64" else secret.encode()
        mac = hmac.new(key, self.message(request), getattr(hashlib, self.digest))
        if self.encoding == "base64":
            return base64.b64encode(mac.digest()).decode()
        return mac.hexdigest()

    def problem(self, request: SimRequest, secret: str) -> str | None:
        got = self.signature(request)
        if got and self.encoding == "hex":
            got = got.lower()
        if not got:
            return "the request carries no signature"
        try:
            expected = self.expected(request, secret)
        except (ValueError, TypeError):
            return "the secret cannot be used with the declared signature scheme"
        if not hmac.compare_digest(expected, got):
            return "the signature does not match the declared signature scheme"
        return None
