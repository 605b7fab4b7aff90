"""The transport: turns an :class:`Endpoint` and parameters into a decoded :class:`Response`.

Exchange-agnostic. Connectors hand it two hooks: ``signer`` (adds the exchange's signature to
a :class:`PreparedRequest`) and ``check`` (raises the xest error an exchange error payload maps
to). Everything else lives here: one connection pool per process, the shared response cache,
the shared rate limiter, bounded retries for safe requests, typed network errors, nonces and
the server-clock timestamps signers use.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import attrs

from xest import errors
from xest.clock import RemoteClock
from xest.credentials import Credentials
from xest.http import deadline
from xest.http.answer_size import TooLarge, max_answer_from_env
from xest.http.cache import ResponseCache
from xest.http.cached import CachedReads
from xest.http.deadline import bounded, check_cancelled
from xest.http.endpoint import (
    Endpoint,
    PreparedRequest,
    RateLimitPolicy,
    Response,
    SigningContext,
)
from xest.http.limiter import RateLimiter, retry_after_seconds
from xest.http.outcomes import (
    GatewayError,
    decode_json,
    decode_response,
    network_error,
    status_error,
    try_decode,
)
from xest.http.pool import no_retries, pool, pool_lock, pool_size
from xest.http.redact import redact
from xest.http.refusals import refusal
from xest.http.store import SendOrder
from xest.http.validity import current_placement
from xest.http.wire import wire_value

if TYPE_CHECKING:
    import urllib3
    from urllib3.util.retry import Retry
else:

    class _Urllib3:
        """urllib3 (with ssl, http.client and email) on first use: opening a client sends
        nothing, and ``import xest; xest.open("kraken")`` should not pay for an HTTP stack."""

        def __getattr__(self, name: str) -> Any:
            import urllib3

            globals()["urllib3"] = urllib3
            return getattr(urllib3, name)

    urllib3 = _Urllib3()

__all__ = ["GatewayError", "Transport", "decode_json", "pool"]

Signer = Callable[[PreparedRequest, Credentials, SigningContext], None]
Checker = Callable[[Response], None]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_WAIT = 30.0  # seconds a call may wait for rate-limit budget before RateLimited
RETRY_STATUSES = frozenset({502, 503, 504})

log = logging.getLogger("xest.http")


class Transport:
    """Sends requests for one exchange at one base URL.

    ``cache=False`` bypasses the shared response cache. Timeouts default to
    ``XEST_CONNECT_TIMEOUT`` / ``XEST_READ_TIMEOUT`` (seconds) if set, else 5 s / 10 s; a call
    may override them. ``retries`` is the number of attempts in all (the first included) for
    may override them. ``max_connections`` is how many calls to one host may run at once
    without reconnecting (the process's pool grows to the largest asked; default 64, or
    ``XEST_MAX_CONNECTIONS``). ``retries`` is the number of attempts in all (the first
    included) for endpoints marked ``retry``. ``max_wait`` bounds how long a call waits for
    rate-limit budget; ``max_wait=0`` raises RateLimited at once instead of waiting.

    Bounded everything: a whole call ends within :attr:`total_timeout` (a server trickling its
    answer is cut off), an answer over ``max_answer`` bytes (``XEST_MAX_ANSWER_MB``, 64 MB by
    default), on the wire or decompressed, is refused with BadResponse, and a call made in an
    agent's thread ends as soon as the agent stops.
    """

    def __init__(
        self,
        exchange: str,
        base_url: str,
        *,
        rate_limits: Mapping[str, RateLimitPolicy] | None = None,
        cache: bool = True,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retries: int = 3,
        clock: RemoteClock | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
        backoff: float = 0.25,
        response_cache: ResponseCache | None = None,
        limiter: RateLimiter | None = None,
        total_timeout: float | None = None,
        max_answer: int | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.exchange = exchange
        self.base_url = base_url.rstrip("/")
        self.rate_limits = dict(rate_limits or {})
        self.cache_enabled = cache
        if connect_timeout is None:
            connect_timeout = _env_seconds("XEST_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)
        if read_timeout is None:
            read_timeout = _env_seconds("XEST_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = max(1, retries)
        self.clock = clock
        self.max_wait = max_wait
        self.backoff = backoff
        if total_timeout is None and os.environ.get("XEST_TOTAL_TIMEOUT"):
            total_timeout = _env_seconds("XEST_TOTAL_TIMEOUT", 0.0)
        self._total_timeout = total_timeout
        self._timeouts: tuple[tuple[float, float], urllib3.Timeout] | None = None
        self.max_answer = max_answer if max_answer is not None else max_answer_from_env()
        if response_cache is None or limiter is None:
            from xest.http import store

            shared = store.current()  # the directory store, or Redis (XEST_STORE)
        self.response_cache = response_cache or shared.responses()
        self.limiter = limiter or RateLimiter(exchange, self.host, self.rate_limits)
        self._nonces: dict[str, tuple[Callable[[], int], SendOrder]] = {}
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        if max_connections is not None:
            with pool_lock:
                pool_size(max_connections)
        self.cached = CachedReads(self.response_cache, exchange, self.base_url)
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._host_pool: tuple[Any, Any] | None = None  # (the process's pool, this host's)

    def __repr__(self) -> str:
        return f"<Transport {self.exchange} at {self.base_url}>"

    @property
    def total_timeout(self) -> float:
        """Seconds a whole call (connect, send, the whole answer) may take: ``total_timeout``
        or ``XEST_TOTAL_TIMEOUT`` if set, else the connect timeout plus twice the read one."""
        if self._total_timeout is not None:
            return self._total_timeout
        return self.connect_timeout + 2 * self.read_timeout

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    # -- the one entry point ---------------------------------------------------------------------

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
        """Call ``endpoint``; ``cache=False`` skips the cache, ``timeout`` overrides the read
        timeout (a number) or both timeouts (a ``(connect, read)`` pair) for this call."""
        prepared = self._prepare(endpoint, params)
        if endpoint.signed:
            if credentials is None:
                raise errors.missing_credentials(self.exchange)
            if signer is None:
                raise errors.NotSupported(f"no signer for {endpoint.name}", exchange=self.exchange)
        if endpoint.cacheable and self.cache_enabled and cache is not False:
            connect, read = _timeouts(timeout, self.connect_timeout, self.read_timeout)
            # Long enough for the leader's whole call; a stuck leader must not stall readers.
            patience = self.retries * (connect + read + 2 * self.backoff) + self.max_wait

            def fetch() -> Response:
                return self._call(endpoint, prepared, None, None, check, timeout, " (cache miss)")

            return self.cached.read(endpoint, prepared, patience, fetch)
        return self._call(endpoint, prepared, signer, credentials, check, timeout, "")

    def signing_context(self, credentials: Credentials) -> SigningContext:
        return SigningContext(nonce=self._nonce(credentials)[0], timestamp_ms=self._timestamp_ms)

    def _nonce(self, credentials: Credentials) -> tuple[Callable[[], int], SendOrder]:
        found = self._nonces.get(credentials.key)
        if found is None:
            from xest.http import store

            shared = store.current()
            found = self._nonces[credentials.key] = (
                shared.nonces(credentials.key, self.exchange),
                shared.send_order(credentials.key, self.exchange),
            )
        return found

    def _ordered(self, credentials: Credentials, endpoint: Endpoint, key: str | None) -> _Ordered:
        nonce, order = self._nonce(credentials)

        def spend() -> None:
            self.limiter.acquire(endpoint.bucket, endpoint.cost, self.max_wait, key=key)

        return _Ordered(nonce, order, self._timestamp_ms, spend)

    @staticmethod
    def _sign(
        prepared: PreparedRequest,
        signer: Signer,
        credentials: Credentials,
        context: SigningContext,
        secrets: set[str],
    ) -> PreparedRequest:
        # Signed afresh on every attempt, on a copy: a retry needs a new nonce and timestamp,
        # and must not carry the last attempt's signature.
        req = PreparedRequest(
            prepared.method,
            prepared.url,
            prepared.path,
            dict(prepared.params),
            dict(prepared.headers),
            prepared.query,
            prepared.body,
        )
        before = dict(req.headers)
        signer(req, credentials, context)
        secrets.update(v for k, v in req.headers.items() if before.get(k) != v)
        return req

    def _timestamp_ms(self) -> int:
        if self.clock is not None:
            return self.clock.timestamp_ms()
        return time.time_ns() // 1_000_000

    # -- remote calls ----------------------------------------------------------------------------

    def _retry_policy(self, endpoint: Endpoint) -> Retry | None:
        if not endpoint.retry or self.retries <= 1:
            return None
        return urllib3.Retry(
            total=self.retries - 1,
            connect=None,
            read=None,
            status=None,
            other=0,
            redirect=0,
            allowed_methods=None,  # the endpoint's own ``retry`` flag already decided
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_jitter=self.backoff,
            backoff_max=10.0,
            raise_on_status=False,
        )

    def _call(
        self,
        endpoint: Endpoint,
        prepared: PreparedRequest,
        signer: Signer | None,
        credentials: Credentials | None,
        check: Checker | None,
        timeout: float | tuple[float, float] | None,
        note: str,
    ) -> Response:
        # No secret is a local of this frame (error reporters render tracebacks with locals):
        # the signed request lives and dies in _attempt, the secrets in a set with a blank repr.
        retry: Retry | None = None  # made on the first failure: most calls never need it
        secrets = _Secrets()
        if credentials is not None:
            secrets.update((credentials.key, credentials.secret))
        connect, read = _timeouts(timeout, self.connect_timeout, self.read_timeout)
        total = self.total_timeout
        if timeout is not None:
            total = min(total, connect + 2 * read)
        key = _Secrets((credentials.key,)) if endpoint.signed and credentials is not None else None
        nonce_retried = False
        attempt = 0
        while True:
            attempt += 1
            check_cancelled(self.exchange)
            sent = self._attempt(
                endpoint, prepared, signer, credentials, secrets, connect, read, total
            )
            if isinstance(sent, _Failed):
                log.debug(
                    "%s %s -> %s after %.1f ms%s",
                    prepared.method,
                    prepared.path,
                    type(sent.failure).__name__,
                    sent.elapsed * 1000,
                    note,
                )
                if sent.retryable and (retry := retry or self._retry_policy(endpoint)):
                    try:
                        retry = retry.increment(prepared.method, prepared.path, error=sent.cause)
                    except Exception:
                        pass  # attempts spent: report it
                    else:
                        self._pause(retry, None, attempt, endpoint, type(sent.failure).__name__)
                        continue
                failure = sent.failure
                del sent  # its cause's traceback reaches urllib3's frames (headers, body)
                raise failure  # outside any except block: no context chained to it
            raw, elapsed = sent.raw, sent.elapsed
            status = raw.status
            log.debug(
                "%s %s -> %s in %.1f ms%s",
                prepared.method,
                prepared.path,
                status,
                elapsed * 1000,
                note,
            )
            response_headers = raw.headers  # case-insensitive, as HTTP header names are
            self.limiter.observe(response_headers, key=key.one() if key else None)
            if status in (418, 429):
                limited = refusal(
                    self.limiter, try_decode(raw, sent.data, endpoint, elapsed), check
                )
                del sent
                raise limited
            if status in RETRY_STATUSES and (retry := retry or self._retry_policy(endpoint)):
                try:
                    retry = retry.increment(prepared.method, prepared.path, response=raw)
                except Exception:
                    pass  # attempts spent: report this answer
                else:
                    self._pause(retry, response_headers, attempt, endpoint, f"HTTP {status}")
                    continue
            verdict = self._judge(endpoint, sent, check, secrets)
            if isinstance(verdict, Response):
                return verdict
            nonce_used = sent.nonce_used
            del sent  # a server may echo the request: its body is no local of a traceback
            if (
                isinstance(verdict, errors.InvalidNonce)
                and not nonce_retried
                and nonce_used
                and current_placement() is None
            ):
                # Refused before handling: one retry with a fresh nonce is safe, except for a
                # placement, whose retries place_once decides.
                nonce_retried = True
                log.info("%s %s: nonce refused; retrying once", prepared.method, prepared.path)
                continue
            raise verdict

    def _judge(
        self, endpoint: Endpoint, sent: _Sent, check: Checker | None, secrets: set[str]
    ) -> Response | errors.XestError:
        """The decoded answer, or the error it means (returned, not raised, with no traceback:
        the frames below hold the answer's text, which may echo the request)."""
        try:
            response = decode_response(
                self.exchange, self.host, endpoint, sent.raw, sent.data, sent.elapsed, secrets
            )
            if check is not None:
                check(response)
        except errors.XestError as exc:
            exc.__traceback__ = None
            return _redacted(exc, secrets)
        if response.status >= 400:
            failure = status_error(self.exchange, self.host, endpoint, response, secrets)
            if failure is not None:
                return failure
        return response

    def _attempt(
        self,
        endpoint: Endpoint,
        prepared: PreparedRequest,
        signer: Signer | None,
        credentials: Credentials | None,
        secrets: set[str],
        connect: float,
        read: float,
        total: float,
    ) -> _Sent | _Failed:
        """Sign (afresh, on a copy: a retry needs a new nonce and timestamp, and must not carry
        the last attempt's signature), send, and read the whole answer within ``total``."""
        ordered: _Ordered | None = None
        key = credentials.key if endpoint.signed and credentials is not None else None
        if not (endpoint.signed and signer is not None and credentials is not None):
            self.limiter.acquire(endpoint.bucket, endpoint.cost, self.max_wait, key=key)
        with bounded(total) as limit:
            started = time.monotonic()
            try:
                req = prepared
                if endpoint.signed and signer is not None and credentials is not None:
                    # A signer that draws a nonce spends the budget once it holds the key's
                    # send order (budget, nonces and arrivals follow one order); one that does
                    # not (timestamps) spends it after signing, and signs again if it waited.
                    ordered = self._ordered(credentials, endpoint, key)
                    req = self._sign(prepared, signer, credentials, ordered.context, secrets)
                    if not ordered.spent:
                        waited = self.limiter.acquire(
                            endpoint.bucket, endpoint.cost, self.max_wait, key=key
                        )
                        if waited > 0:  # the timestamp is stale now
                            req = self._sign(
                                prepared, signer, credentials, ordered.context, secrets
                            )
                method, url, body, headers = _wire_request(req)
                try:
                    raw = self._send(method, url, body, headers, connect, read)
                finally:
                    # The exchange has the request (or never will): the next nonce may go.
                    if ordered is not None:
                        ordered.release()
                data = self._read(raw, endpoint)
                if limit.fired:  # whatever arrived before the socket was shut is not an answer
                    raise urllib3.exceptions.ProtocolError("cut off at the deadline")
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                failure: errors.XestError
                failure, retryable = network_error(self.exchange, self.host, endpoint, exc, secrets)
                if limit.fired:
                    failure, retryable = self._out_of_time(endpoint, total, limit), False
                return _Failed(failure, retryable, exc, time.monotonic() - started)
            finally:
                if ordered is not None:
                    ordered.release()  # also when signing failed after drawing a nonce
        used = ordered is not None and ordered.spent
        return _Sent(raw, data, time.monotonic() - started, used)

    def _send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        connect: float,
        read: float,
    ) -> urllib3.BaseHTTPResponse:
        """Send on this host's connection pool directly: going through the pool manager
        parses the URL and normalises a pool key on every call (a few microseconds) to find
        the same pool each time. The manager still owns the pool (one per host per process)."""
        kw: dict[str, Any] = {
            "body": body,
            "headers": headers,
            "timeout": self._urllib3_timeout(connect, read),
            "retries": no_retries(),
            "redirect": False,
            "preload_content": False,
            "decode_content": False,
        }
        manager = pool()
        if not url.startswith(self._origin + "/"):  # a signer pointed the request elsewhere
            return manager.urlopen(method, url, **kw)
        host = self._host_pool
        if host is None or host[0] is not manager or host[1].pool is None:
            # First call, a new process pool (fork, resize), or the manager closed this
            # host's pool (evicted, cleared): ask the manager for the current one.
            host = self._host_pool = (manager, manager.connection_from_url(self._origin))
        return host[1].urlopen(method, url[len(self._origin) :], assert_same_host=False, **kw)

    def _urllib3_timeout(self, connect: float, read: float) -> urllib3.Timeout:
        # One object per (connect, read): building a Timeout costs more than a cache look-up.
        cached = self._timeouts
        if cached is None or cached[0] != (connect, read):
            cached = self._timeouts = ((connect, read), urllib3.Timeout(connect=connect, read=read))
        return cached[1]

    def _read(self, raw: urllib3.BaseHTTPResponse, endpoint: Endpoint) -> bytes:
        from xest.http.answer import read_body  # loaded with the pool, before any answer

        try:
            return read_body(raw, self.max_answer)
        except TooLarge as exc:
            raw.close()
            raise errors.BadResponse(
                f"{self.host} answered {endpoint.path} with more than {exc.limit} bytes "
                f"({exc.where}: {exc.size}); refused. Raise the limit with XEST_MAX_ANSWER_MB "
                "(or Transport(max_answer=...)) if the answer is genuine",
                exchange=self.exchange,
            ) from None
        except ValueError as exc:
            raw.close()
            raise errors.BadResponse(
                f"{self.host} answered {endpoint.path} with a body xest cannot read ({exc})",
                exchange=self.exchange,
            ) from None
        finally:
            raw.release_conn()

    def _out_of_time(self, endpoint: Endpoint, total: float, limit: Any) -> errors.XestError:
        if limit.cancelled:
            return errors.RequestTimeout(
                f"the call to {endpoint.path} was cancelled: the agent is stopping",
                exchange=self.exchange,
            )
        return errors.RequestTimeout(
            f"{self.host} did not give a whole answer to {endpoint.path} within {total:g} s; "
            "try again, or raise the timeouts (XEST_READ_TIMEOUT, XEST_TOTAL_TIMEOUT)",
            exchange=self.exchange,
        )

    def _pause(
        self,
        retry: Retry,
        headers: Mapping[str, str] | None,
        attempt: int,
        endpoint: Endpoint,
        why: str,
    ) -> None:
        delay = max(retry.get_backoff_time(), self.backoff * (0.5 + random.random()))
        server_says = retry_after_seconds(headers) if headers else None
        if server_says is not None:
            delay = max(delay, min(server_says, self.max_wait))
        log.info(
            "%s %s: %s, attempt %d of %d; retrying in %.2f s",
            endpoint.method,
            endpoint.path,
            why,
            attempt,
            self.retries,
            delay,
        )
        deadline.sleep(delay)

    def _prepare(self, endpoint: Endpoint, params: Mapping[str, Any] | None) -> PreparedRequest:
        path, rest = endpoint.fill(params or {})
        clean = {k: wire_value(v) for k, v in rest.items() if v is not None}
        return PreparedRequest(
            method=endpoint.method,
            url=self.base_url + path,
            path=self._base_path + path,
            params=clean,
        )


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise errors.ConfigError(f"{name}={value!r} is not a timeout: give seconds, e.g. 10")
    return seconds


def _wire_request(req: PreparedRequest) -> tuple[str, str, bytes | None, dict[str, str]]:
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
    return req.method, url, body.encode() if body is not None else None, headers


class _Ordered:
    """The nonce of one signed attempt. Drawing it takes the key's send order (held until the
    answer is in, so requests reach the exchange in nonce order from every process and machine
    sharing the store), then spends the call's rate-limit budget, then draws. A signer that
    never draws a nonce (timestamps) never waits for the order."""

    __slots__ = ("_held", "_nonce", "_order", "_spend", "context", "spent")

    def __init__(
        self,
        nonce: Callable[[], int],
        order: SendOrder,
        timestamp_ms: Callable[[], int],
        spend: Callable[[], None],
    ) -> None:
        self._nonce, self._order, self._spend = nonce, order, spend
        self._held = self.spent = False
        self.context = SigningContext(nonce=self, timestamp_ms=timestamp_ms)

    def __call__(self) -> int:
        if not self._held:
            self._order.acquire()
            self._held = True
        if not self.spent:
            self._spend()
            self.spent = True
        return self._nonce()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._order.release()


class _Secrets(set[str]):
    """The strings to redact: a set that never shows its content (tracebacks with locals)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secrets>"

    def one(self) -> str:
        return next(iter(self))


@attrs.frozen(repr=False)
class _Sent:
    raw: urllib3.BaseHTTPResponse
    data: bytes
    elapsed: float
    nonce_used: bool

    def __repr__(self) -> str:
        return f"<sent: HTTP {self.raw.status}, {len(self.data)} bytes>"


@attrs.frozen(repr=False)
class _Failed:
    failure: errors.XestError
    retryable: bool
    cause: Exception
    elapsed: float

    def __repr__(self) -> str:
        return f"<failed: {type(self.failure).__name__}>"


def _redacted(exc: errors.XestError, secrets: set[str]) -> errors.XestError:
    """``exc`` with its message redacted: a connector's error may quote the server, and a
    server may echo the request (key, signature) back."""
    clean = redact(exc.message, secrets)
    if clean != exc.message:
        exc.message = clean
        exc.args = (clean, *exc.args[1:])
    return exc


def _timeouts(
    timeout: float | tuple[float, float] | None, connect: float, read: float
) -> tuple[float, float]:
    if timeout is None:
        return connect, read
    if isinstance(timeout, tuple):
        return timeout
    return min(connect, timeout), timeout
