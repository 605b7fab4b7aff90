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
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import attrs
import urllib3
from urllib3.util.retry import Retry

from xest import errors
from xest.clock import RemoteClock
from xest.credentials import Credentials
from xest.http.cache import CachedAnswer, ResponseCache, cache_key, canonical_query
from xest.http.endpoint import (
    Endpoint,
    PreparedRequest,
    RateLimitPolicy,
    Response,
    SigningContext,
)
from xest.http.limiter import DEFAULT_BACKOFF, DEFAULT_BAN, RateLimiter, retry_after_seconds
from xest.http.outcomes import (
    GatewayError,
    decode_json,
    decode_response,
    network_error,
    status_error,
    try_decode,
)
from xest.http.storage import fork_generation
from xest.http.store import SendOrder
from xest.http.wire import wire_value

__all__ = ["GatewayError", "Transport", "decode_json", "pool"]

Signer = Callable[[PreparedRequest, Credentials, SigningContext], None]
Checker = Callable[[Response], None]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_WAIT = 30.0  # seconds a call may wait for rate-limit budget before RateLimited
RETRY_STATUSES = frozenset({502, 503, 504})

log = logging.getLogger("xest.http")

_pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None
_pool_generation = -1


def pool() -> urllib3.PoolManager:
    """The process's one connection pool (thread safe, keep-alive; fresh after a fork, so a
    child never shares its parent's sockets)."""
    global _pool, _pool_generation
    if _pool is not None and _pool_generation == fork_generation():
        return _pool
    with _pool_lock:
        if _pool is None or _pool_generation != fork_generation():
            _pool = urllib3.PoolManager(num_pools=16, maxsize=8, block=False, retries=False)
            _pool_generation = fork_generation()
        return _pool


# One instance for every call (``retries=False`` would build a new Retry per request):
# total=False hands connection errors straight back to us, where the endpoint's policy decides.
_NO_RETRY = Retry(total=False, redirect=False)


class Transport:
    """Sends requests for one exchange at one base URL.

    ``cache=False`` bypasses the shared response cache. Timeouts default to
    ``XEST_CONNECT_TIMEOUT`` / ``XEST_READ_TIMEOUT`` (seconds) if set, else 5 s / 10 s; a call
    may override them. ``retries`` is the number of attempts in all (the first included) for
    endpoints marked ``retry``. ``max_wait`` bounds how long a call waits for rate-limit budget;
    ``max_wait=0`` raises RateLimited at once instead of waiting.
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
        self._timeout = (
            (connect_timeout, read_timeout),
            urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )
        if response_cache is None or limiter is None:
            from xest.http import store

            shared = store.current()  # the directory store, or Redis (XEST_STORE)
        self.response_cache = response_cache or shared.responses()
        self.limiter = limiter or RateLimiter(exchange, self.host, self.rate_limits)
        self._nonces: dict[str, tuple[Callable[[], int], SendOrder]] = {}
        self._base_path = urlsplit(self.base_url).path.rstrip("/")

    def __repr__(self) -> str:
        return f"<Transport {self.exchange} at {self.base_url}>"

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
            return self._through_cache(endpoint, prepared, check, timeout)
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
        req = attrs.evolve(prepared, params=dict(prepared.params), headers=dict(prepared.headers))
        before = dict(req.headers)
        signer(req, credentials, context)
        secrets.update(v for k, v in req.headers.items() if before.get(k) != v)
        return req

    def _timestamp_ms(self) -> int:
        if self.clock is not None:
            return self.clock.timestamp_ms()
        return time.time_ns() // 1_000_000

    # -- cache -----------------------------------------------------------------------------------

    def _through_cache(
        self,
        endpoint: Endpoint,
        prepared: PreparedRequest,
        check: Checker | None,
        timeout: float | tuple[float, float] | None,
    ) -> Response:
        started = time.monotonic()
        query = canonical_query(prepared.params)
        # The filled path (``/ticker/btcusd/``), not the template: one entry per pair.
        key = cache_key(self.exchange, self.base_url, prepared.url[len(self.base_url) :], query)
        answer = self.response_cache.get(key)
        if answer is not None:
            return self._from_cache(endpoint, prepared, answer, started)
        connect, read = _timeouts(timeout, self.connect_timeout, self.read_timeout)
        # Long enough for the leader's whole call; a stuck leader must not stall readers forever.
        patience = self.retries * (connect + read + 2 * self.backoff) + self.max_wait
        with self.response_cache.single_flight(key, patience) as held:
            if held:
                answer = self.response_cache.get(key)
                if answer is not None:
                    return self._from_cache(endpoint, prepared, answer, started)
            response = self._call(endpoint, prepared, None, None, check, timeout, " (cache miss)")
            if response.status == 200:
                answer = CachedAnswer(200, dict(response.headers), response.data, response.text)
                self.response_cache.set(key, answer, endpoint.ttl or 0)
            return response

    def _from_cache(
        self, endpoint: Endpoint, prepared: PreparedRequest, answer: CachedAnswer, started: float
    ) -> Response:
        elapsed = time.monotonic() - started
        log.debug(
            "%s %s -> %s from cache (hit) in %.2f ms",
            prepared.method,
            prepared.path,
            answer.status,
            elapsed * 1000,
        )
        return Response(
            status=answer.status,
            headers=urllib3.HTTPHeaderDict(answer.headers),  # case-insensitive, as when fresh
            data=answer.data,
            endpoint=endpoint,
            elapsed=elapsed,
            from_cache=True,
            text=answer.text,
        )

    # -- remote calls ----------------------------------------------------------------------------

    def _retry_policy(self, endpoint: Endpoint) -> Retry | None:
        if not endpoint.retry or self.retries <= 1:
            return None
        return Retry(
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
        retry: Retry | None = None  # made on the first failure: most calls never need it
        secrets = {credentials.key, credentials.secret} if credentials is not None else set()
        if timeout is None and self._timeout[0] == (self.connect_timeout, self.read_timeout):
            urllib3_timeout = self._timeout[1]
        else:
            connect, read = _timeouts(timeout, self.connect_timeout, self.read_timeout)
            urllib3_timeout = urllib3.Timeout(connect=connect, read=read)
        key = credentials.key if endpoint.signed and credentials is not None else None
        attempt = 0
        while True:
            attempt += 1
            if endpoint.signed and signer is not None and credentials is not None:
                # A signer that draws a nonce spends the budget once it holds the key's send
                # order (so budget, nonces and arrivals all follow one order); one that does not
                # (timestamps) spends it after signing, and signs again if it had to wait.
                ordered = self._ordered(credentials, endpoint, key)
                try:
                    req = self._sign(prepared, signer, credentials, ordered.context, secrets)
                    if not ordered.spent:
                        waited = self.limiter.acquire(
                            endpoint.bucket, endpoint.cost, self.max_wait, key=key
                        )
                        if waited > 0:  # the timestamp is stale now
                            req = self._sign(
                                prepared, signer, credentials, ordered.context, secrets
                            )
                except BaseException:
                    ordered.release()
                    raise
            else:
                self.limiter.acquire(endpoint.bucket, endpoint.cost, self.max_wait, key=key)
                req, ordered = prepared, None
            method, url, body, headers = _wire_request(req)
            started = time.monotonic()
            try:
                raw = pool().request(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    timeout=urllib3_timeout,
                    retries=_NO_RETRY,
                    redirect=False,
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                elapsed = time.monotonic() - started
                failure, retryable = network_error(self.exchange, self.host, endpoint, exc, secrets)
                log.debug(
                    "%s %s -> %s after %.1f ms%s",
                    method,
                    req.path,
                    type(failure).__name__,
                    elapsed * 1000,
                    note,
                )
                if retryable and (retry := retry or self._retry_policy(endpoint)) is not None:
                    try:
                        retry = retry.increment(method, req.path, error=exc)
                    except Exception:
                        raise failure from None
                    self._pause(retry, None, attempt, endpoint, type(failure).__name__)
                    continue
                raise failure from None
            finally:
                if ordered is not None:
                    ordered.release()
            elapsed = time.monotonic() - started
            status = raw.status
            log.debug("%s %s -> %s in %.1f ms%s", method, req.path, status, elapsed * 1000, note)
            response_headers = raw.headers  # case-insensitive, as HTTP header names are
            self.limiter.observe(response_headers, key=key)
            if status in (418, 429):
                raise self._rate_limited(try_decode(raw, endpoint, elapsed), check)
            if status in RETRY_STATUSES and (retry := retry or self._retry_policy(endpoint)):
                try:
                    retry = retry.increment(method, req.path, response=raw)
                except Exception:
                    pass  # attempts spent: report this answer
                else:
                    self._pause(retry, response_headers, attempt, endpoint, f"HTTP {status}")
                    continue
            response = decode_response(self.exchange, self.host, endpoint, raw, elapsed, secrets)
            if check is not None:
                check(response)
            if status >= 400:
                refused = status_error(self.exchange, self.host, endpoint, response, secrets)
                if refused is not None:
                    raise refused
            return response

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
        time.sleep(delay)

    def _rate_limited(self, response: Response, check: Checker | None) -> errors.RateLimited:
        """Record a 429's wait or a 418's ban for every process, and the error to raise.

        The connector's ``check`` sees the answer too: an exchange may say more than the
        headers (Binance's 418 body gives the ban's end to the millisecond), and its own words
        make the better message. The longer of the two verdicts is what every process obeys.
        """
        status, endpoint = response.status, response.endpoint
        retry_after = retry_after_seconds(response.headers)
        theirs: errors.RateLimited | None = None
        if check is not None and response.data is not None:
            try:
                check(response)
            except errors.RateLimited as exc:
                theirs = exc
            except errors.XestError:
                pass  # mapped to something else: the status decides
        now = time.time()
        if status == 418 or (theirs is not None and theirs.ban_until):
            seconds = retry_after if retry_after is not None else DEFAULT_BAN
            if theirs is not None and theirs.ban_until:
                told = theirs.ban_until - now
                # On a 418 the header's length is a floor too; the longer verdict wins.
                seconds = max(seconds, told) if status == 418 else told
            until = self.limiter.ban(seconds, status)
            log.warning(
                "%s: HTTP %s, this IP is banned for %.0f s; every xest process refuses calls "
                "to it until then",
                self.exchange,
                status,
                seconds,
            )
            if theirs is not None:
                theirs.ban_until, theirs.retry_after = until, max(until - now, 0.0)
                return theirs
            return errors.RateLimited(
                f"{self.host} banned this IP for {seconds:.0f} s (HTTP {status}, too many "
                "requests); xest refuses every call to it, from every process, until the ban ends",
                exchange=self.exchange,
                code=status,
                retry_after=seconds,
                ban_until=until,
            )
        seconds = retry_after if retry_after is not None else DEFAULT_BACKOFF
        if theirs is not None and theirs.retry_after:
            seconds = max(seconds, theirs.retry_after)
        self.limiter.block(seconds)
        log.warning(
            "%s %s: HTTP 429, every xest process waits %.2f s before its next call to %s",
            endpoint.method,
            endpoint.path,
            seconds,
            self.exchange,
        )
        if theirs is not None:
            theirs.retry_after = seconds
            return theirs
        return errors.RateLimited(
            f"{self.host} says too many requests (HTTP 429); wait {seconds:g} s before the next "
            "call (xest makes every process wait)",
            exchange=self.exchange,
            code=status,
            retry_after=seconds,
        )

    def _prepare(self, endpoint: Endpoint, params: Mapping[str, Any] | None) -> PreparedRequest:
        path, rest = endpoint.fill(params or {})
        clean = {k: wire_value(v) for k, v in rest.items() if v is not None}
        return PreparedRequest(
            method=endpoint.method,
            url=self.base_url + path,
            path=self._base_path + path,
            params=clean,
        )


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


def _timeouts(
    timeout: float | tuple[float, float] | None, connect: float, read: float
) -> tuple[float, float]:
    if timeout is None:
        return connect, read
    if isinstance(timeout, tuple):
        return timeout
    return min(connect, timeout), timeout
