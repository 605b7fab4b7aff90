"""Nonces that strictly increase per API key, across threads, processes, machines and restarts.

Kraken refuses a nonce not above the last one it saw for the key ("EAPI:Invalid nonce"), so
every program sharing a key must draw from one sequence. A nonce is a time in microseconds
times :data:`SCALE`, plus a small *slot*:

    nonce = t * SCALE + slot,   t = max(clock in µs, this process's last t + 1, stored floor)

In the directory store each process holds one slot of the key for its lifetime (an exclusive
lock on a slot file, released by the OS when the process ends), so two processes can never
draw the same nonce, and a nonce drawn later (in another microsecond) is always larger: no file
is read or written per call. (Only a process running ahead of the clock writes its last t into
its slot file, so that the slot's next holder starts above it.) A floor file, written at most
once a second and read when a slot is taken, keeps the sequence going up across restarts even
if the clock stepped back.

Where slots cannot be held safely (no OS lock that dies with its process) or all are taken,
each draw reads and advances the floor file under its lock instead, on the last slot.

The Redis store draws ``max(last + 1, clock * SCALE)`` in one atomic script: the same scale,
so moving a key between stores never makes its nonces go backwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from xest.http import storage
from xest.http.locking import ProcessLock, posix_locks, pread, pwrite

SCALE = 64  # slots per microsecond; 2**64 allows until the year 10 000
SHARED_SLOT = SCALE - 1  # the locked, per-draw mode
FLOOR_EVERY = 1_000_000  # µs between floor writes
_WIDTH = 20  # digits: fixed width, so a rewrite always replaces the whole number


def key_digest(api_key: str) -> str:
    """A stable, non-reversible name for an API key's nonce file."""
    return hashlib.sha256(b"xest-nonce\0" + api_key.encode()).hexdigest()[:32]


def clock_floor() -> int:
    """The smallest nonce the clock allows now."""
    return (time.time_ns() // 1000) * SCALE


class NonceSource:
    """Callable: each call returns a nonce above every earlier one for the same key (directory
    store)."""

    def __init__(self, api_key: str, directory: Path | None = None) -> None:
        directory = directory or storage.private_dir("nonces")
        self.path = directory / key_digest(api_key)
        self._floor = storage.LockedFile(self.path)
        self._lock = threading.Lock()
        self._generation = -1
        self._slot = -1  # -1: not claimed yet; SHARED_SLOT: locked mode
        self._slot_fd = -1
        self._slot_lock: ProcessLock | None = None
        self._last = 0  # the last t drawn (µs)
        self._written = 0  # t at the last floor write
        self._degraded = False
        storage.renew_locks_after_fork(self)

    def __repr__(self) -> str:
        return f"<NonceSource {self.path.name[:8]}…>"

    def __del__(self) -> None:
        if self._slot_fd >= 0 and self._generation == storage.fork_generation():
            with contextlib.suppress(OSError):
                os.close(self._slot_fd)  # and the slot is free again

    @property
    def slot(self) -> int:
        return self._slot

    def __call__(self) -> int:
        with self._lock:
            if self._generation != storage.fork_generation():
                self._claim()
            if self._slot == SHARED_SLOT:
                return self._locked_draw()
            now = time.time_ns() // 1000
            t = max(now, self._last + 1)
            self._last = t
            if t > now:
                # Ahead of the clock (a floor from a clock stepped back, or draws faster than
                # one a microsecond): the next holder of this slot must start above us.
                self._mark_slot(t)
            if t - self._written >= FLOOR_EVERY:
                self._write_floor(t * SCALE + self._slot)
            return t * SCALE + self._slot

    # -- slots -----------------------------------------------------------------------------------

    def _claim(self) -> None:
        if self._slot_fd >= 0:  # inherited from the parent: its slot stays the parent's
            with contextlib.suppress(OSError):
                os.close(self._slot_fd)
        self._slot, self._slot_fd, self._slot_lock = SHARED_SLOT, -1, None
        self._generation = storage.fork_generation()
        floor = self._read_floor()
        self._last = max(self._last, floor // SCALE)
        if posix_locks() is None and os.name != "nt":
            return  # only lock files are left: a crashed process would keep its slot for good
        for slot in range(SHARED_SLOT):
            path = self.path.with_name(f"{self.path.name}.slot-{slot:02d}")
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                self._unusable(exc)
                return
            lock = ProcessLock(path, fd)
            if lock.try_acquire():
                self._slot, self._slot_fd, self._slot_lock = slot, fd, lock
                # The previous holder's last t, if it ran ahead of the clock.
                with contextlib.suppress(OSError, ValueError):
                    self._last = max(self._last, int(pread(fd, _WIDTH, 0) or b"0"))
                return
            os.close(fd)

    def _mark_slot(self, t: int) -> None:
        try:
            pwrite(self._slot_fd, str(t).zfill(_WIDTH).encode(), 0)
        except OSError:  # the slot is ours alone: fall back to the always-safe mode
            self._slot = SHARED_SLOT

    def _unusable(self, exc: OSError) -> None:
        storage.unusable("nonce state", self.path.parent, exc)
        self._degraded = True

    def _read_floor(self) -> int:
        try:
            with self._floor.locked():
                raw = self._floor.read().strip()
        except OSError as exc:
            self._unusable(exc)
            return 0
        return int(raw) if raw.isdigit() else 0

    def _write_floor(self, nonce: int) -> None:
        self._written = nonce // SCALE
        if self._degraded:
            return
        try:
            with self._floor.locked():
                raw = self._floor.read().strip()
                if not raw.isdigit() or int(raw) < nonce:
                    self._floor.write(str(nonce).zfill(_WIDTH).encode())
        except OSError as exc:
            self._unusable(exc)

    def _locked_draw(self) -> int:
        """Read, advance and write the floor file under its lock (the slow, always-safe mode)."""
        if self._degraded:  # no file: this process's own sequence, on the shared slot
            t = max(time.time_ns() // 1000, self._last + 1)
            self._last = t
            return t * SCALE + SHARED_SLOT
        try:
            with self._floor.locked():
                raw = self._floor.read().strip()
                last = int(raw) if raw.isdigit() else 0
                t = max(time.time_ns() // 1000, last // SCALE + 1, self._last + 1)
                nonce = t * SCALE + SHARED_SLOT
                self._floor.write(str(nonce).zfill(_WIDTH).encode())
        except OSError as exc:
            self._unusable(exc)
            return self._locked_draw()
        self._last = t
        return nonce


_sources: dict[tuple[Path, str], NonceSource] = {}
_sources_lock = threading.Lock()


def directory_source(api_key: str, directory: Path) -> NonceSource:
    """The process's source for ``api_key`` in ``directory`` (one per key: one slot)."""
    slot = (directory, key_digest(api_key))
    with _sources_lock:
        source = _sources.get(slot)
        if source is None:
            while len(_sources) >= 64:  # a process uses a few keys; tests, many directories
                _sources.pop(next(iter(_sources)))
            source = _sources[slot] = NonceSource(api_key, directory)
        return source


def nonce_source(api_key: str, exchange: str | None = None) -> Callable[[], int]:
    """The process's nonce source for ``api_key`` in the current store (a callable)."""
    from xest.http import store

    return store.current().nonces(api_key, exchange)
