"""The response cache shared by every process and thread on the machine (diskcache).

Only answers to unsigned GETs with a TTL are stored (see ``Endpoint.cacheable``): nothing
authenticated ever reaches the disk. Identical concurrent misses make one remote call: the
first caller takes a lock for the key, the others wait for it and then find the answer cached.

A miss does not wait for the database write: the answer is handed to a writer thread, which
stores it and only then lets go of the key's lock (so a waiting process still finds it), while
the caller already has its answer. Until the write is done, this process serves the answer
from memory. Pending writes are finished at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from xest import errors
from xest.http import storage
from xest.http.outcomes import decode_json
from xest.http.storage import StripedLocks, cache_dir, private_dir

log = logging.getLogger("xest.http")

RESPONSES = "responses"
SIZE_LIMIT = 128 * 1024 * 1024

_stores: dict[Path, Any] = {}
_stores_lock = threading.Lock()
_BATCH = 64  # answers written in one transaction at most
_CULL_EVERY = 256  # writes between two sweeps of expired and excess entries
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
                cull_limit=0,  # expired and excess entries go in batches (ResponseCache._write)
            )
            _stores[directory] = store
        return store


_UNUSABLE = (OSError, sqlite3.Error, errors.ConfigError)


class _Writer:
    """The process's write-behind queue: (cache, key, answer, ttl, held lock)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Keyed by directory: every ResponseCache of the process on it sees an answer at once.
        self.pending: dict[tuple[Path, str], tuple[CachedAnswer, float]] = {}  # with expiry
        self.stored = 0  # answers written so far (see ResponseCache.single_flight)
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def put(self, cache: ResponseCache, key: str, answer: CachedAnswer, ttl: float, held) -> None:
        self.pending[(cache.directory, key)] = (answer, time.time() + ttl)
        self.idle.clear()
        self.queue.put((cache, key, answer, ttl, held))
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(
                        target=self.run, name="xest-cache-writer", daemon=True
                    )
                    self.thread.start()

    def run(self) -> None:
        while True:
            # What queued up while the last batch was written goes in one transaction: a burst
            # of misses pays one commit, and this thread wakes (and takes the GIL) once.
            batch = [self.queue.get()]
            while len(batch) < _BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                by_cache: dict[int, tuple[ResponseCache, list[tuple[str, CachedAnswer, float]]]]
                by_cache = {}
                for cache, key, answer, ttl, _ in batch:
                    by_cache.setdefault(id(cache), (cache, []))[1].append((key, answer, ttl))
                for cache, items in by_cache.values():
                    cache._write(items)
            finally:
                for cache, key, answer, _, held in batch:
                    self.stored += 1
                    waiting = self.pending.get((cache.directory, key))
                    if waiting is not None and waiting[0] is answer:
                        del self.pending[(cache.directory, key)]
                    if held is not None:
                        with contextlib.suppress(OSError, RuntimeError):
                            StripedLocks.release(held)
                if self.queue.empty():
                    self.idle.set()

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait for pending writes (at exit, and for tests); False if they did not finish."""
        return self.idle.wait(timeout)


_writer = _Writer()


def _renew_writer() -> None:
    global _writer
    _writer = _Writer()  # the parent's thread and queue did not come along


os.register_at_fork(after_in_child=_renew_writer)
atexit.register(lambda: _writer.flush())


def flush(timeout: float = 2.0) -> bool:
    """Wait until every answer handed to the cache is stored."""
    return _writer.flush(timeout)


def cache_key(exchange: str, base_url: str, path: str, query: str) -> str:
    """What identifies one answer: exchange, base URL, path and canonical (sorted) parameters."""
    return f"xest/2 {exchange} {base_url}{path}?{query}"


def canonical_query(params: Mapping[str, str]) -> str:
    """The parameters in a canonical, unambiguous form: sorted, each key and value quoted as
    Python quotes strings (a third of ``urlencode``'s cost, on the path of every first call)."""
    return repr(sorted(params.items()))


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
        self._local = threading.local()
        self._written = 0  # writes since the last cull (the writer thread's)

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
        if _writer.pending:
            waiting = _writer.pending.get((self.directory, key))
            if waiting is not None and time.time() < waiting[1]:
                # Decoded afresh, as a read from disk is: a caller changing its data must not
                # change the next caller's (nor the answer about to be written).
                answer = waiting[0]
                return CachedAnswer(
                    answer.status, answer.headers, decode_json(answer.text), answer.text
                )
        self._local.missed_at = _writer.stored
        try:
            value = self._db().get(key)
        except _UNUSABLE as exc:  # a broken cache must not break reads
            self._unusable(exc)
            return None
        return value if isinstance(value, CachedAnswer) else None

    def set(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        """Store ``answer`` (in the background). Inside :meth:`single_flight` for ``key``, the
        key's lock is released once the answer is stored, not before."""
        if self._broken:
            return
        held = None
        hold = getattr(self._local, "hold", None)
        if hold is not None and hold[0] == key:
            held, self._local.hold = hold[1], None
        _writer.put(self, key, answer, ttl, held)

    def _write(self, items: list[tuple[str, CachedAnswer, float]]) -> None:
        if self._broken:
            return
        try:
            db = self._db()
            if len(items) == 1:
                key, answer, ttl = items[0]
                db.set(key, answer, expire=ttl)
            else:
                with db.transact():
                    for key, answer, ttl in items:
                        db.set(key, answer, expire=ttl)
        except _UNUSABLE as exc:
            self._unusable(exc)
            return
        finally:
            self._written += len(items)
        if self._written >= _CULL_EVERY:
            # diskcache would look for expired entries on every write; once per batch of
            # writes keeps the cache within its size limit for a fraction of the cost.
            self._written = 0
            try:
                db.cull()
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
        """Hold the key's lock (threads and processes) for the duration of one remote call,
        and of the write of its answer (see :meth:`set`). Yields True when the caller should
        look in the cache again because the answer may have been stored since its miss (a
        lock taken at once, with nothing written meanwhile, needs no second look)."""
        if self._broken:
            yield False
            return
        try:
            if self._locks is None:
                self._locks = StripedLocks.at(private_dir(RESPONSES, "locks"))
            held, waited = self._locks.take(key, timeout)
        except _UNUSABLE as exc:
            self._unusable(exc)
            yield False
            return
        if held is None:
            yield False
            return
        # Look again if someone held the lock first, or if this process stored an answer
        # since this thread's last miss: a write finishing between that read and the lock
        # leaves the lock free but the answer stored. (Another process's write landing in
        # those few microseconds costs one extra remote call, never a wrong answer.)
        look_again = waited or _writer.stored != getattr(self._local, "missed_at", None)
        self._local.hold = (key, held)
        try:
            yield look_again
        finally:
            hold = getattr(self._local, "hold", None)
            self._local.hold = None
            if hold is not None and hold[1] is held:  # no answer stored: release it now
                StripedLocks.release(held)

    def info(self) -> CacheInfo:
        _writer.flush()
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
        _writer.flush()
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
