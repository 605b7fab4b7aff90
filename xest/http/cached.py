"""A transport's reads through the shared response cache: the cache key of a request, a hit
turned back into a :class:`Response`, and one remote call for concurrent misses."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from xest.http.cache import CachedAnswer, cache_key, canonical_query
from xest.http.endpoint import Endpoint, PreparedRequest, Response

__all__ = ["CachedReads"]

log = logging.getLogger("xest.http")

_MEMO_SIZE = 256  # cache keys (and their last answers' headers) a transport remembers


class CachedReads:
    """The cacheable calls of one transport (one exchange at one base URL)."""

    def __init__(self, responses: Any, exchange: str, base_url: str) -> None:
        self.responses = responses  # the store's response cache (directory or Redis)
        self.exchange = exchange
        self.base_url = base_url
        self._keys: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = {}
        self._hits: dict[str, Response] = {}

    def read(
        self,
        endpoint: Endpoint,
        prepared: PreparedRequest,
        patience: float,
        fetch: Callable[[], Response],
    ) -> Response:
        """The cached answer to ``prepared``, else ``fetch()``'s, stored for ``endpoint.ttl``.
        Concurrent misses (threads and processes) wait up to ``patience`` seconds for the
        one that fetches."""
        started = time.monotonic()
        key = self.key(prepared)
        answer = self.responses.get(key)
        if answer is not None:
            return self._from_cache(endpoint, prepared, answer, started, key)
        with self.responses.single_flight(key, patience) as look_again:
            if look_again:
                answer = self.responses.get(key)
                if answer is not None:
                    return self._from_cache(endpoint, prepared, answer, started, key)
            response = fetch()
            if response.status == 200:
                answer = CachedAnswer(200, dict(response.headers), response.data, response.text)
                self.responses.set(key, answer, endpoint.ttl or 0)
                self._remember(key, response)
            return response

    def key(self, prepared: PreparedRequest) -> str:
        # Remembered per URL and parameters: building it on every cache hit costs a few us.
        memo = (prepared.url, tuple(prepared.params.items()))
        key = self._keys.get(memo)
        if key is None:
            query = canonical_query(prepared.params)
            # The filled path (``/ticker/btcusd/``), not the template: one entry per pair.
            path = prepared.url[len(self.base_url) :]
            key = cache_key(self.exchange, self.base_url, path, query)
            if len(self._keys) >= _MEMO_SIZE:
                self._keys.clear()
            self._keys[memo] = key
        return key

    def _remember(self, key: str, response: Response) -> None:
        """Keep the last answer of ``key``: a later hit on the same stored answer (same body)
        reuses its case-insensitive headers instead of building them again."""
        hits = self._hits
        if len(hits) >= _MEMO_SIZE:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                hits.pop(next(iter(hits)))  # unless another thread trimmed it first
        hits[key] = response

    def _from_cache(
        self,
        endpoint: Endpoint,
        prepared: PreparedRequest,
        answer: CachedAnswer,
        started: float,
        key: str,
    ) -> Response:
        known = self._hits.get(key)
        if known is not None and known.text == answer.text and known.status == answer.status:
            headers = known.headers  # the same stored answer: its headers are made already
        else:
            from urllib3 import HTTPHeaderDict  # loaded by the first remote call already

            headers = HTTPHeaderDict(answer.headers)  # case-insensitive, as when fresh
            known = None
        elapsed = time.monotonic() - started
        log.debug(
            "%s %s -> %s from cache (hit) in %.2f ms",
            prepared.method,
            prepared.path,
            answer.status,
            elapsed * 1000,
        )
        response = Response(
            status=answer.status,
            headers=headers,
            data=answer.data,  # decoded afresh by every read: a caller may change its copy
            endpoint=endpoint,
            elapsed=elapsed,
            from_cache=True,
            text=answer.text,
        )
        if known is None:
            self._remember(key, response)
        return response
