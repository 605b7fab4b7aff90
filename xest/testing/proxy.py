"""Loopback servers the conformance suite puts in front of (or instead of) an exchange simulator.

:class:`FaultProxy` forwards every request to an upstream server (any simulator, whatever it is
built on) and injects :class:`~xest.testing.server.Fault` s on the way, counting what reached it.
:class:`ReplayServer` answers from recorded payloads only.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from xest.testing.server import LoopbackServer, SimRequest, SimResponse, _Handler

__all__ = ["FaultProxy", "RecordingMixin", "ReplayServer"]

# Hop-by-hop and framing headers: the loopback server writes its own.
_DROP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server"}


class RecordingMixin:
    """Keeps every request that reached the server, in order, as ``(method, path)``."""

    def _init_log(self) -> None:
        self.log: list[tuple[str, str]] = []
        self._log_lock = threading.Lock()

    def _serve_one(self, h: _Handler) -> None:
        with self._log_lock:
            self.log.append((h.command, urlsplit(h.path).path))
        super()._serve_one(h)  # type: ignore[misc]

    def start(self) -> Any:
        started = super().start()  # type: ignore[misc]
        # A client that gave up (timeout fault) breaks the pipe we write to: expected, not news.
        self._server.handle_error = lambda request, address: None  # type: ignore[attr-defined]
        return started

    def requests_since(self, mark: int) -> list[tuple[str, str]]:
        with self._log_lock:
            return list(self.log[mark:])

    def mark(self) -> int:
        """A position in the log, for :meth:`requests_since`."""
        with self._log_lock:
            return len(self.log)

    def count(self, path: str, since: int = 0, method: str | None = None) -> int:
        return sum(
            1
            for m, p in self.requests_since(since)
            if p == path and (method is None or m == method)
        )


class FaultProxy(RecordingMixin, LoopbackServer):
    """Forwards to ``upstream`` (a base URL on loopback), with faults queued by :meth:`inject`.

    What it changes on the way: nothing in the request but the hop-by-hop and framing headers
    (``Connection``, ``Keep-Alive``, ``Transfer-Encoding``, ``Content-Length``, rewritten for
    the forwarded body); ``Host`` is passed through unchanged. In the answer it drops the same
    headers plus ``Server``; the upstream's ``Date`` is kept (it is the upstream's clock)."""

    exchange = "proxy"

    def __init__(self, upstream: str, *, timeout: float = 30.0, port: int = 0) -> None:
        super().__init__(port)
        self._init_log()
        split = urlsplit(upstream)
        self.upstream_host = split.hostname or "127.0.0.1"
        self.upstream_port = split.port or 80
        self.upstream_prefix = split.path.rstrip("/")
        self.timeout = timeout
        # Forwarding happens outside the base class's state lock: the upstream keeps its own.
        self.lock = _NoLock()  # type: ignore[assignment]
        # Every request forwarded, in order (positions are stable: checks slice from a mark).
        self.requests: list[SimRequest] = []

    def resend(self, request: SimRequest) -> SimResponse:
        """Send ``request`` (one this proxy forwarded) to the upstream again, byte for byte."""
        return self._forward(request)

    def handle(self, request: SimRequest) -> SimResponse:
        self.requests.append(request)
        return self._forward(request)

    def _forward(self, request: SimRequest) -> SimResponse:
        target = self.upstream_prefix + request.path
        if request.query_string:
            target += "?" + request.query_string
        # Host is kept as the client sent it (the proxy's address): a connector whose signature
        # covers the host must verify upstream exactly as it would without the proxy.
        headers = {k: v for k, v in request.headers.items() if k not in _DROP}
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, self.timeout)
        try:
            conn.request(
                request.method, target, body=request.body.encode() or None, headers=headers
            )
            answer = conn.getresponse()
            body = answer.read()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in _DROP}
            return SimResponse(body, answer.status, kept)
        except OSError as exc:
            return SimResponse(f"upstream unreachable: {exc}", 502, {"Content-Type": "text/plain"})
        finally:
            conn.close()


class ReplayServer(RecordingMixin, LoopbackServer):
    """Answers ``"METHOD /path"`` (or ``"/path"``) from ``responses``; anything else is a 404
    whose body names the request, so a test can say which answer was missing."""

    exchange = "replay"

    def __init__(self, responses: Mapping[str, Any], port: int = 0) -> None:
        super().__init__(port)
        self._init_log()
        self.responses = dict(responses)
        self.missing: list[str] = []
        self.requests: list[SimRequest] = []  # every request as received, in order

    def handle(self, request: SimRequest) -> SimResponse:
        self.requests.append(request)
        for key in (f"{request.method} {request.path}", request.path):
            if key in self.responses:
                return _as_response(self.responses[key])
        self.missing.append(f"{request.method} {request.path}")
        return SimResponse(
            {"replay": f"no recorded answer for {request.method} {request.path}"}, status=404
        )


def _as_response(value: Any) -> SimResponse:
    if isinstance(value, SimResponse):
        return value
    # A str or bytes body is sent as is: recorded JSON text keeps the exchange's exact digits.
    return SimResponse(value)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def pending_faults(server: LoopbackServer) -> int:
    """How many injected faults are still waiting for a request."""
    with server._fault_lock:
        return len(server._faults)
