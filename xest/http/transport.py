"""The transport: turns an :class:`Endpoint` and parameters into a decoded :class:`Response`.

Exchange-agnostic. Connectors hand it two hooks: ``signer`` (adds the exchange's signature to
a :class:`PreparedRequest`) and ``check`` (raises the xest error an exchange error payload maps
to). Everything else — the pool, timeouts, typed network errors — lives here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from xest import errors
from xest.credentials import Credentials
from xest.http.endpoint import (
    Endpoint,
    PreparedRequest,
    RateLimitPolicy,
    Response,
    SigningContext,
)

Signer = Callable[[PreparedRequest, Credentials, SigningContext], None]
Checker = Callable[[Response], None]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0

_pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None


def pool() -> urllib3.PoolManager:
    """The process's one connection pool (thread safe, keep-alive)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(num_pools=16, maxsize=8, block=False, retries=False)
        return _pool


def decode_json(text: str) -> Any:
    """JSON with exact numbers: floats become Decimal, integers stay exact ints."""
    return json.loads(text, parse_float=Decimal)


class Transport:
    """Sends requests for one exchange at one base URL."""

    def __init__(
        self,
        exchange: str,
        base_url: str,
        *,
        rate_limits: Mapping[str, RateLimitPolicy] | None = None,
        cache: bool = True,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        retries: int = 3,
        clock: Any = None,
    ) -> None:
        self.exchange = exchange
        self.base_url = base_url.rstrip("/")
        self.rate_limits = dict(rate_limits or {})
        self.cache_enabled = cache
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.clock = clock
        self._nonce_lock = threading.Lock()
        self._last_nonce = 0

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def request(
        self,
        endpoint: Endpoint,
        params: Mapping[str, Any] | None = None,
        *,
        signer: Signer | None = None,
        credentials: Credentials | None = None,
        check: Checker | None = None,
        cache: bool | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Response:
        prepared = self._prepare(endpoint, params)
        if endpoint.signed:
            if credentials is None:
                raise errors.AuthenticationError(
                    f"{endpoint.name} needs API credentials: configure an account "
                    "(see `xest accounts list`) or pass key= and secret=",
                    exchange=self.exchange,
                )
            if signer is None:
                raise errors.NotSupported(f"no signer for {endpoint.name}", exchange=self.exchange)
            signer(prepared, credentials, self.signing_context(credentials))
        response = self._send(endpoint, prepared, timeout)
        if check is not None:
            check(response)
        if response.status >= 400:
            raise errors.ExchangeError(
                f"HTTP {response.status} from {endpoint.path}: {response.text[:200]}",
                exchange=self.exchange,
                code=response.status,
            )
        return response

    def signing_context(self, credentials: Credentials) -> SigningContext:
        return SigningContext(nonce=self._next_nonce, timestamp_ms=self._timestamp_ms)

    def _next_nonce(self) -> int:
        with self._nonce_lock:
            self._last_nonce = max(self._last_nonce + 1, time.time_ns() // 1000)
            return self._last_nonce

    def _timestamp_ms(self) -> int:
        if self.clock is not None:
            return self.clock.timestamp_ms()
        return time.time_ns() // 1_000_000

    def _prepare(self, endpoint: Endpoint, params: Mapping[str, Any] | None) -> PreparedRequest:
        clean = {k: _wire(v) for k, v in (params or {}).items() if v is not None}
        return PreparedRequest(
            method=endpoint.method,
            url=self.base_url + endpoint.path,
            path=urlsplit(self.base_url).path.rstrip("/") + endpoint.path,
            params=clean,
        )

    def _send(
        self,
        endpoint: Endpoint,
        req: PreparedRequest,
        timeout: float | tuple[float, float] | None,
    ) -> Response:
        query = req.query
        body = req.body
        headers = {"User-Agent": "xest", "Accept": "application/json", **req.headers}
        if req.method in ("GET", "DELETE", "HEAD"):
            if query is None:
                query = urlencode(req.params)
        elif body is None:
            body = urlencode(req.params)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        url = req.url + (f"?{query}" if query else "")
        connect, read = _timeouts(timeout, self.connect_timeout, self.read_timeout)
        started = time.monotonic()
        try:
            raw = pool().request(
                req.method,
                url,
                body=body.encode() if body is not None else None,
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:
            # Checked first: urllib3 files refused connections and DNS failures under timeouts.
            raise errors.ExchangeUnavailable(
                f"could not reach {self.host} ({_reason(exc)}); check the URL and your network",
                exchange=self.exchange,
            ) from None
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise errors.RequestTimeout(
                f"{self.host} did not answer {endpoint.path} in time ({type(exc).__name__}); "
                "try again, or raise the timeout",
                exchange=self.exchange,
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise errors.ExchangeUnavailable(
                f"could not reach {self.host} ({_reason(exc)}); check the URL and your network",
                exchange=self.exchange,
            ) from None
        elapsed = time.monotonic() - started
        return self._decode(endpoint, raw, elapsed)

    def _decode(
        self, endpoint: Endpoint, raw: urllib3.BaseHTTPResponse, elapsed: float
    ) -> Response:
        text = raw.data.decode("utf-8", errors="replace")
        headers = dict(raw.headers)
        status = raw.status
        if status in (418, 429):
            retry_after = _retry_after(headers)
            raise errors.RateLimited(
                f"{self.host} says too many requests (HTTP {status}); "
                f"wait {retry_after or 'a while'} s before the next call",
                exchange=self.exchange,
                code=status,
                retry_after=retry_after,
                ban_until=time.time() + retry_after if status == 418 and retry_after else None,
            )
        try:
            data = decode_json(text)
        except ValueError:
            if status >= 500:
                raise errors.ExchangeUnavailable(
                    f"{self.host} answered HTTP {status} to {endpoint.path}; try again later",
                    exchange=self.exchange,
                    code=status,
                ) from None
            raise errors.BadResponse(
                f"{self.host} answered {endpoint.path} with HTTP {status} and a body that is not "
                f"JSON: {_snippet(text)!r}",
                exchange=self.exchange,
                code=status,
            ) from None
        return Response(
            status=status, headers=headers, data=data, endpoint=endpoint, elapsed=elapsed, text=text
        )


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError(f"float parameter {value!r}: pass a Decimal or a string")
    return str(value)


def _timeouts(
    timeout: float | tuple[float, float] | None, connect: float, read: float
) -> tuple[float, float]:
    if timeout is None:
        return connect, read
    if isinstance(timeout, tuple):
        return timeout
    return min(connect, timeout), timeout


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1][:120]


def _snippet(text: str) -> str:
    return " ".join(text.split())[:200]
