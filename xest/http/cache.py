"""The response cache shared by every process and thread on the machine (diskcache).

Only answers to unsigned GETs with a TTL are stored (see ``Endpoint.cacheable``): nothing
authenticated ever reaches the disk. Identical concurrent misses make one remote call: the
first caller takes a lock for the key, the others wait for it and then find the answer cached.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from xest.http.storage import StripedLocks, cache_dir, private_dir

log = logging.getLogger("xest.http")

RESPONSES = "responses"
SIZE_LIMIT = 128 * 1024 * 1024

_stores: dict[Path, Any] = {}
_stores_lock = threading.Lock()
_MAX_STORES = 4  # a process normally uses one; tests and tools that switch directories, more


def _store(directory: Path) -> Any:
    """One diskcache.Cache per directory per process (diskcache reconnects after a fork)."""
    with _stores_lock:
        store = _stores.get(directory)
        if store is None:
            import diskcache

            while len(_stores) >= _MAX_STORES:
                _stores.pop(next(iter(_stores))).close()
            store = diskcache.Cache(
                str(directory),
                timeout=2,
                size_limit=SIZE_LIMIT,
                eviction_policy="least-recently-stored",
            )
            _stores[directory] = store
        return store


def cache_key(exchange: str, base_url: str, path: str, query: str) -> str:
    """What identifies one answer: exchange, base URL, path and canonical (sorted) parameters."""
    return f"xest/1 {exchange} {base_url}{path}?{query}"


def canonical_query(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(sorted(params.items()))


@attrs.frozen
class CachedAnswer:
    status: int
    headers: dict[str, str]
    data: Any
    text: str


@attrs.frozen
class CacheInfo:
    location: Path
    entries: int
    size: int  # bytes on disk


class ResponseCache:
    """The machine-wide cache of public answers, under ``cache_dir()/responses``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._locks: StripedLocks | None = None

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = private_dir(RESPONSES)
        return self._directory

    def _db(self) -> Any:
        return _store(self.directory)

    def get(self, key: str) -> CachedAnswer | None:
        try:
            value = self._db().get(key)
        except (OSError, sqlite3.Error) as exc:  # a broken cache must not break reads
            log.warning("response cache unavailable (%s); reading from the exchange", exc)
            return None
        return value if isinstance(value, CachedAnswer) else None

    def set(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        try:
            self._db().set(key, answer, expire=ttl)
        except (OSError, sqlite3.Error) as exc:
            log.warning("could not store an answer in the response cache (%s)", exc)

    @contextlib.contextmanager
    def single_flight(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the key's lock (threads and processes) for the duration of one remote call."""
        if self._locks is None:
            self._locks = StripedLocks.at(private_dir(RESPONSES, "locks"))
        with self._locks.hold(key, timeout) as held:
            yield held

    def info(self) -> CacheInfo:
        directory = cache_dir() / RESPONSES if self._directory is None else self._directory
        if not directory.is_dir():
            return CacheInfo(directory, 0, 0)
        db = _store(directory)
        db.expire()
        size = sum(
            entry.stat().st_size
            for entry in _walk(directory)
            if entry.is_file(follow_symlinks=False)
        )
        return CacheInfo(directory, len(db), size)

    def clear(self) -> int:
        """Remove every stored answer; returns how many there were."""
        directory = cache_dir() / RESPONSES if self._directory is None else self._directory
        if not directory.is_dir():
            return 0
        return _store(directory).clear()


def _walk(directory: Path) -> Iterator[os.DirEntry]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            else:
                yield entry
