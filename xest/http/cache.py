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

from xest import errors
from xest.http import storage
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
                sqlite_synchronous=0,
            )
            _stores[directory] = store
        return store


_UNUSABLE = (OSError, sqlite3.Error, errors.ConfigError)


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
    location: Path | str
    entries: int
    size: int  # bytes on disk


class ResponseCache:
    """The machine-wide cache of public answers, under ``cache_dir()/responses``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._locks: StripedLocks | None = None
        self._broken = False

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = private_dir(RESPONSES)
        return self._directory

    def _db(self) -> Any:
        return _store(self.directory)

    def get(self, key: str) -> CachedAnswer | None:
        if self._broken:
            return None
        try:
            value = self._db().get(key)
        except _UNUSABLE as exc:  # a broken cache must not break reads
            self._unusable(exc)
            return None
        return value if isinstance(value, CachedAnswer) else None

    def set(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        if self._broken:
            return
        try:
            self._db().set(key, answer, expire=ttl)
        except _UNUSABLE as exc:
            self._unusable(exc)

    def _unusable(self, exc: BaseException) -> None:
        # Permissions, a file where the directory should be, a corrupted database: go on
        # without the cache (one warning), rather than stop or retry it on every call.
        self._broken = True
        path = self._directory if self._directory is not None else cache_dir() / RESPONSES
        storage.unusable("response cache", path, exc)

    @contextlib.contextmanager
    def single_flight(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the key's lock (threads and processes) for the duration of one remote call."""
        if self._broken:
            yield False
            return
        try:
            if self._locks is None:
                self._locks = StripedLocks.at(private_dir(RESPONSES, "locks"))
            hold = self._locks.hold(key, timeout)
            held = hold.__enter__()
        except _UNUSABLE as exc:
            self._unusable(exc)
            yield False
            return
        try:
            yield held
        finally:
            hold.__exit__(None, None, None)

    def info(self) -> CacheInfo:
        directory = cache_dir() / RESPONSES if self._directory is None else self._directory
        try:
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
        except _UNUSABLE as exc:
            raise _cannot("read", directory, exc) from None

    def clear(self) -> int:
        """Remove every stored answer; returns how many there were."""
        directory = cache_dir() / RESPONSES if self._directory is None else self._directory
        try:
            if not directory.is_dir():
                return 0
            return _store(directory).clear()
        except _UNUSABLE as exc:
            raise _cannot("clear", directory, exc) from None


def _cannot(what: str, directory: Path, exc: BaseException) -> errors.ConfigError:
    if isinstance(exc, errors.ConfigError):
        return exc
    reason = getattr(exc, "strerror", None) or str(exc)
    return errors.ConfigError(
        f"cannot {what} the response cache at {directory} ({reason}); fix its permissions "
        "or set XEST_CACHE_DIR to a writable directory"
    )


def _walk(directory: Path) -> Iterator[os.DirEntry]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            else:
                yield entry
