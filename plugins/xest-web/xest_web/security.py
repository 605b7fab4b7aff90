"""The guard in front of every request (a page that can place orders is secured like Jupyter's).

- **Host**: only the names the server was bound for (loopback, or ``--host``): a DNS-rebinding
  page, whose requests carry the attacker's host name, is refused.
- **Token**: every request carries the random token, in the URL (``?token=``) or in the
  cookie set when a page was opened with it. The first page load moves it from the URL into an
  HttpOnly, SameSite=Strict cookie and redirects to the same page without it, so it does not
  linger in the address bar or leak through a ``Referer``.
- **Changes**: only POST changes state, with a JSON body, and only from the same origin
  (``Origin``, else ``Referer``, must be this server's scheme and host).
- Every answer forbids framing, sniffing, referrers and caching, and its Content-Security-Policy
  allows only this server's own scripts and styles.
"""

from __future__ import annotations

import collections
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

COOKIE = "xest_web_token"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_name(host: str) -> str:
    """``example.com:8080`` → ``example.com``; ``[::1]:80`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware enforcing the rules above; ``hosts`` are the accepted host names."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token
        self.hosts = frozenset(h.lower() for h in hosts) | LOOPBACK
        self.refused: collections.Counter[str] = collections.Counter()  # by reason, for tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        host = headers.get("host", "")
        if host_name(host) not in self.hosts:
            self.refused["host"] += 1
            return await _refuse(
                send,
                403,
                "this server answers only to its own address "
                f"(host {host_name(host)!r} refused: DNS rebinding?)",
            )
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        from_url = query.get("token")
        cookie = _cookie(headers.get("cookie", ""))
        if not (self._valid(from_url) or self._valid(cookie)):
            self.refused["token"] += 1
            return await _refuse(
                send, 403, "missing or wrong token: open the URL that xest web printed"
            )
        if method not in SAFE_METHODS:
            if method != "POST":
                self.refused["method"] += 1
                return await _refuse(send, 405, "only GET and POST are used here")
            origin = headers.get("origin") or _origin_of(headers.get("referer", ""))
            expected = f"{scope.get('scheme', 'http')}://{host.lower()}"
            if not origin or origin.lower() != expected:
                self.refused["origin"] += 1
                return await _refuse(send, 403, "cross-origin request refused")
            if headers.get("content-type", "").split(";")[0].strip() != "application/json":
                self.refused["content-type"] += 1
                return await _refuse(send, 415, "send JSON (Content-Type: application/json)")
        elif from_url is not None and self._valid(from_url) and _is_page(scope["path"]):
            # Move the token into the cookie and out of the address bar.
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            location = scope["path"] + (f"?{rest}" if rest else "")
            return await _redirect(send, location, self.token)
        await self.app(scope, receive, _with_headers(send))

    def _valid(self, candidate: str | None) -> bool:
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())


def _is_page(path: str) -> bool:
    return not (path.startswith("/static/") or path.startswith("/api/") or path == "/events")


def _cookie(header: str) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed cookie header is simply no token
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def _origin_of(referer: str) -> str | None:
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _with_headers(send: Send) -> Send:
    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = list(message.get("headers", [])) + HEADERS
        await send(message)

    return wrapped


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str, token: str) -> None:
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1")),
                (b"content-length", b"0"),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
