"""A small loopback HTTP server that exchange simulators build on, with fault injection.

A simulator subclasses :class:`LoopbackServer` and marks handler methods with :func:`route`.
Handlers take a :class:`SimRequest` and return a :class:`SimResponse` (or any JSON-able value,
sent as HTTP 200). The server binds to 127.0.0.1 only. Tests and the conformance suite queue
:class:`Fault` s with :meth:`LoopbackServer.inject` to make the next matching requests fail the
ways real exchanges fail.
"""

from __future__ import annotations

import collections
import contextlib
import email.utils
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from xest.testing.state import Inspection

__all__ = ["Fault", "LoopbackServer", "SimRequest", "SimResponse", "route"]

# A timestamp-nonce request seen again this long after it first came is a replay; sooner, it
# is a client sending one request twice within one millisecond (two quick reads), which the
# exchange accepts.
REPLAY_GRACE = 0.5


def route(method: str, path: str) -> Callable[[Callable], Callable]:
    """Mark a simulator method as the handler of ``method path``.

    ``path`` may hold ``{name}`` placeholders, as :class:`xest.http.Endpoint` paths do:
    ``@route("GET", "/api/v2/ticker/{pair}/")`` matches ``/api/v2/ticker/btcusd/`` and the
    handler finds ``request.path_params["pair"] == "btcusd"`` (URL-unescaped; also in
    ``request.params``). A placeholder matches one path segment; exact paths win over templates.
    """

    def mark(func: Callable) -> Callable:
        routes = [*getattr(func, "__sim_routes__", []), (method.upper(), path)]
        setattr(func, "__sim_routes__", routes)  # noqa: B010 (a plain function attribute)
        return func

    return mark


@attrs.frozen
class SimRequest:
    method: str
    path: str
    query_string: str
    body: str
    headers: dict[str, str]  # lower-case names
    query: dict[str, str]
    form: dict[str, str]
    path_params: dict[str, str] = attrs.field(factory=dict)  # from a ``{name}`` route

    @property
    def params(self) -> dict[str, str]:
        """Path, query and form parameters together (the form wins on a clash, then the query)."""
        return {**self.path_params, **self.query, **self.form}

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@attrs.frozen
class SimResponse:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, default=_json_default, separators=(",", ":")).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


@attrs.frozen
class Fault:
    """One way a request can go wrong. Build them with the class methods."""

    kind: str
    status: int = 500
    headers: dict[str, str] = attrs.field(factory=dict)
    body: str = ""
    delay: float = 0.0

    @classmethod
    def http(cls, status: int, body: str = "", headers: dict[str, str] | None = None) -> Fault:
        """Answer ``status`` with ``body`` instead of handling the request."""
        return cls("http", status=status, body=body, headers=headers or {})

    @classmethod
    def rate_limited(cls, retry_after: float = 1, status: int = 429, body: str = "") -> Fault:
        """HTTP 429 (or 418, a ban) with ``Retry-After``."""
        return cls.http(status, body, {"Retry-After": str(retry_after)})

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before handling the request (past a client's read timeout)."""
        return cls("slow", delay=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection with a TCP reset before answering."""
        return cls("reset")

    @classmethod
    def truncated(cls) -> Fault:
        """Handle the request, then send only the first half of the JSON body."""
        return cls("truncated")

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """Answer with an HTML error page, as a proxy or CDN in front of an exchange does."""
        page = (
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>"
            f"{status} Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
        )
        return cls.http(status, page, {"Content-Type": "text/html"})

    @classmethod
    def lost_response(cls) -> Fault:
        """Handle the request (state changes), then reset the connection: the answer is lost."""
        return cls("lost_response")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms per request on loopback).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own logs
        pass

    def _serve(self) -> None:
        self.server.owner._serve_one(self)

    do_GET = do_POST = do_DELETE = do_PUT = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of clients (64 threads opening connections at once) must queue, not be dropped
    # and retried a second later as with the default backlog of 5; a real exchange accepts them.
    request_queue_size = 128
    allow_reuse_address = True
    owner: LoopbackServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        with self.connections_lock:
            self.connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the kept-alive connections too: a stopped simulator must stop answering."""
        with self.connections_lock:
            connections = list(self.connections)
        for sock in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class LoopbackServer(Inspection):
    """Base of exchange simulators: routes, a little shared state lock, faults, a settable clock,
    the inspection API (:mod:`xest.testing.state`) and, when ``signature_scheme`` is set, a
    check of every signed request's signature and nonce before its handler runs."""

    exchange: ClassVar[str] = ""
    _routes: ClassVar[dict[tuple[str, str], str]] = {}
    _templates: ClassVar[tuple[tuple[str, re.Pattern[str], str], ...]] = ()
    #: How the exchange signs (:mod:`xest.testing.signing`); None: requests are not verified.
    signature_scheme: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes = dict(cls._routes)
        for name, value in list(vars(cls).items()):
            for key in getattr(value, "__sim_routes__", ()):
                routes[key] = name
        cls._routes = routes
        cls._templates = tuple(
            (method, _template_pattern(path), name)
            for (method, path), name in routes.items()
            if "{" in path
        )

    def __init__(self, port: int = 0, *, clock_offset: float = 0.0) -> None:
        self.port = port
        self.clock_offset = clock_offset
        self.lock = threading.RLock()
        self.hits: collections.Counter[str] = collections.Counter()
        self._faults: list[tuple[str | None, Fault]] = []
        self._fault_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Why the base refused signed requests, newest last (read by the conformance suite).
        self.refusals: collections.deque[str] = collections.deque(maxlen=100)
        self._last_nonce: dict[str, int] = {}
        # (key, nonce, signature, method, path) -> when first seen. Binance's signature does
        # not cover the path, so one query signed for two endpoints is no replay.
        self._seen: collections.OrderedDict[tuple[str, int, str, str, str], float] = (
            collections.OrderedDict()
        )

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LoopbackServer:
        if self._server is None:
            self._server = _Server(("127.0.0.1", self.port), _Handler)
            self._server.owner = self
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sim-{self.exchange}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until Ctrl-C (``xest sim``)."""
        self.start()
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # -- clock and faults ----------------------------------------------------------------------

    def now(self) -> float:
        """The simulated exchange's clock, in UNIX seconds (``clock_offset`` ahead of ours)."""
        return time.time() + self.clock_offset

    def inject(self, *faults: Fault, path: str | None = None) -> None:
        """Queue faults for the next requests (to ``path`` only, when given), one each."""
        with self._fault_lock:
            self._faults.extend((path, fault) for fault in faults)

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()

    def _next_fault(self, path: str) -> Fault | None:
        with self._fault_lock:
            for i, (only, fault) in enumerate(self._faults):
                if only is None or only == path:
                    del self._faults[i]
                    return fault
        return None

    # -- signatures ----------------------------------------------------------------------------

    def api_secret(self, key: str) -> str | None:
        """The secret of API key ``key`` (None: unknown, left to the simulator to refuse).
        The default knows ``demo_accounts()`` and ``demo_credentials()``; simulators with
        more accounts override it."""
        pairs = []
        if hasattr(self, "demo_accounts"):
            pairs += list(self.demo_accounts().values())
        if hasattr(self, "demo_credentials"):
            pairs.append(self.demo_credentials())
        return next((secret for k, secret in pairs if k == key), None)

    def refuse(self, request: SimRequest, reason: str, kind: str) -> SimResponse:
        """The exchange's answer to a request the base refuses; ``kind`` is ``signature`` or
        ``nonce``. Simulators override it to answer in their exchange's dialect."""
        return SimResponse({"error": reason}, status=401)

    def _verify(self, request: SimRequest) -> SimResponse | None:
        scheme = self.signature_scheme
        key = scheme.key(request) if scheme is not None else None
        secret = self.api_secret(key) if key else None
        if scheme is None or secret is None or key is None:
            return None
        problem = scheme.problem(request, secret)
        if problem is not None:
            reason = f"{request.method} {request.path}: {problem}"
            self.refusals.append(reason)
            return self.refuse(request, reason, "signature")
        nonce = scheme.nonce(request)
        signature = scheme.signature(request) or ""
        if nonce is None:
            reason = f"{request.method} {request.path}: the request carries no nonce"
        elif scheme.nonce_kind == "counter" and nonce <= self._last_nonce.get(key, -1):
            reason = (
                f"{request.method} {request.path}: nonce {nonce} is not above the last one "
                f"({self._last_nonce[key]}): a nonce was reused or went backwards"
            )
        elif (
            seen := (key, nonce, signature, request.method, request.path)
        ) in self._seen and time.monotonic() - self._seen[seen] > REPLAY_GRACE:
            reason = (
                f"{request.method} {request.path}: nonce {nonce} was already used for this "
                "very request: a replayed or reused nonce"
            )
        else:
            self._last_nonce[key] = max(nonce, self._last_nonce.get(key, -1))
            self._seen.setdefault(seen, time.monotonic())
            if len(self._seen) > 20_000:
                self._seen.popitem(last=False)
            return None
        self.refusals.append(reason)
        return self.refuse(request, reason, "nonce")

    # -- dispatch ------------------------------------------------------------------------------

    def not_found(self, request: SimRequest) -> SimResponse:
        """What the exchange answers for an unknown path; simulators override it."""
        return SimResponse({"error": f"unknown path {request.path}"}, status=404)

    def handle(self, request: SimRequest) -> SimResponse:
        name = self._routes.get((request.method, request.path))
        if name is None:
            for method, pattern, candidate in self._templates:
                found = pattern.fullmatch(request.path) if method == request.method else None
                if found is not None:
                    captured = {k: unquote(v) for k, v in found.groupdict().items()}
                    request = attrs.evolve(request, path_params=captured)
                    name = candidate
                    break
        if name is None:
            return self.not_found(request)
        result = getattr(self, name)(request)
        return result if isinstance(result, SimResponse) else SimResponse(result)

    def _serve_one(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        headers = {k.lower(): v for k, v in h.headers.items()}
        ctype = headers.get("content-type", "")
        form = dict(parse_qsl(body, keep_blank_values=True)) if "json" not in ctype else {}
        request = SimRequest(
            method=h.command,
            path=split.path,
            query_string=split.query,
            body=body,
            headers=headers,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            form=form,
        )
        self.hits[split.path] += 1
        fault = self._next_fault(split.path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "reset":
            return _reset(h)
        if fault is not None and fault.kind == "http":
            return _write(h, SimResponse(fault.body, fault.status, fault.headers))
        with self.lock:
            response = self._verify(request) or self.handle(request)
        if fault is not None and fault.kind == "lost_response":
            return _reset(h)
        if fault is not None and fault.kind == "truncated":
            data = response.encode()
            return _write(h, SimResponse(data[: max(1, len(data) // 2)], 200, response.headers))
        _write(h, response)


def _template_pattern(path: str) -> re.Pattern[str]:
    """``/ticker/{pair}/`` → a pattern capturing ``pair`` from one path segment."""
    parts = re.split(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", path)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(pattern)


def _write(h: _Handler, response: SimResponse) -> None:
    data = response.encode()
    h.send_response_only(response.status)
    h.send_header("Server", h.version_string())
    headers = {"Content-Type": "application/json", **response.headers}
    if not any(name.lower() == "date" for name in headers):
        # The simulated exchange's clock (``clock_offset`` included), as a real server's Date
        # is its own: a connector with no time endpoint reads the remote clock from it.
        headers["Date"] = email.utils.formatdate(h.server.owner.now(), usegmt=True)
    for name, value in headers.items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _reset(h: _Handler) -> None:
    # SO_LINGER with a zero timeout makes close() send RST: the client sees a reset connection.
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True
    h.connection.close()
