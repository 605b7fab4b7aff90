"""The rate limiter's machine-wide state: one small memory-mapped file per exchange and host.

The limiter touches this on every request, so it costs no system call beyond the ``flock``
pair: numbers are read and written in place in the shared mapping. Layout (little-endian):

    0    b"XLIM" + version (u32)
    8    ban_until, ban_status, blocked_until (3 doubles)
    32   "exchange host" (96 bytes, UTF-8, NUL-padded: for ``xest cache info``)
    128  64 bucket slots of 32 bytes: name (16 bytes, NUL-padded), a, b (2 doubles)

A bucket's (a, b) is (level, instant) for a decaying counter, (window start, used) for a
weight window.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
import weakref
from pathlib import Path

from xest.http import storage

MAGIC = b"XLIM" + struct.pack("<I", 1)
SIZE = 128 + 64 * 32
_HEADER = struct.Struct("<ddd")
_PAIR = struct.Struct("<dd")
_META, _META_LEN = 32, 96
_SLOTS, _SLOT_LEN, _SLOT_COUNT = 128, 32, 64


def slot_name(bucket: str) -> bytes:
    raw = bucket.encode()
    return raw if 0 < len(raw) <= 16 else hashlib.blake2b(raw, digest_size=16).digest()


class SharedState:
    """``with state: ...`` holds the lock across threads and processes; reads outside it are
    allowed for the header (aligned doubles: a reader sees the old or the new value).

    The file must not be truncated while processes have it mapped (they would crash on the
    next access); xest itself only ever creates it at its full size.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._generation = -1
        self._slots: dict[bytes, int] = {}
        storage.renew_locks_after_fork(self)

    _instances: weakref.WeakValueDictionary[Path, SharedState] = weakref.WeakValueDictionary()
    _instances_lock = threading.Lock()

    @classmethod
    def at(cls, path: Path) -> SharedState:
        """The process's mapping of ``path`` (one descriptor and one mapping per file)."""
        with cls._instances_lock:
            state = cls._instances.get(path)
            if state is None:
                state = cls._instances[path] = cls(path)
            return state

    def __del__(self) -> None:
        try:
            if self._map is not None:
                self._map.close()
            if self._fd >= 0 and self._generation == storage.fork_generation():
                os.close(self._fd)
        except (OSError, ValueError, BufferError):
            pass

    def _open(self) -> mmap.mmap:
        if self._map is not None and self._generation == storage.fork_generation():
            return self._map
        with self._open_lock:
            if self._map is not None and self._generation == storage.fork_generation():
                return self._map
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size != SIZE:
                    os.ftruncate(fd, SIZE)
                if os.pread(fd, len(MAGIC), 0) != MAGIC:
                    # New, or not ours (another format, a torn file): start afresh. Never
                    # shrink it to nothing: another process may have it mapped.
                    os.pwrite(fd, MAGIC + bytes(SIZE - len(MAGIC)), 0)
                mapping = mmap.mmap(fd, SIZE)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._fd, self._slots = fd, {}
            self._map, self._generation = mapping, storage.fork_generation()
            return mapping

    def __enter__(self) -> SharedState:
        self._lock.acquire()
        try:
            mapping = self._open()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            if mapping[: len(MAGIC)] != MAGIC:  # overwritten behind our back: start afresh
                mapping[:] = MAGIC + bytes(SIZE - len(MAGIC))
                self._slots = {}
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    # -- header ----------------------------------------------------------------------------------

    def header(self) -> tuple[float, int, float]:
        """(ban_until, ban_status, blocked_until)."""
        ban_until, status, blocked = _HEADER.unpack_from(self._open(), 8)
        return ban_until, int(status), blocked

    def set_header(self, ban_until: float, status: int, blocked_until: float) -> None:
        _HEADER.pack_into(self._open(), 8, ban_until, float(status), blocked_until)

    def meta(self) -> str:
        return self._open()[_META : _META + _META_LEN].rstrip(b"\0").decode(errors="replace")

    def set_meta(self, text: str) -> None:
        data = text.encode()[:_META_LEN].ljust(_META_LEN, b"\0")
        mapping = self._open()
        if mapping[_META : _META + _META_LEN] != data:
            mapping[_META : _META + _META_LEN] = data

    # -- buckets (inside ``with``) -------------------------------------------------------------

    def _offset(self, bucket: str) -> int:
        name = slot_name(bucket)
        offset = self._slots.get(name)
        if offset is not None:
            return offset
        mapping = self._open()
        free = None
        padded = name.ljust(16, b"\0")
        for i in range(_SLOT_COUNT):
            at = _SLOTS + i * _SLOT_LEN
            current = mapping[at : at + 16]
            if current == padded:
                self._slots[name] = at
                return at
            if free is None and current == b"\0" * 16:
                free = at
        if free is None:
            raise RuntimeError(f"more than {_SLOT_COUNT} rate-limit buckets for one exchange")
        mapping[free : free + 16] = padded
        self._slots[name] = free
        return free

    def get(self, bucket: str) -> tuple[float, float] | None:
        """The bucket's (a, b), or None if never used."""
        at = self._offset(bucket)
        a, b = _PAIR.unpack_from(self._open(), at + 16)
        return None if a == 0.0 and b == 0.0 else (a, b)

    def put(self, bucket: str, a: float, b: float) -> None:
        _PAIR.pack_into(self._open(), self._offset(bucket) + 16, a, b)

    def buckets(self) -> dict[str, tuple[float, float]]:
        """Every used slot, by name (hashed names show as hex)."""
        mapping = self._open()
        found = {}
        for i in range(_SLOT_COUNT):
            at = _SLOTS + i * _SLOT_LEN
            name = mapping[at : at + 16].rstrip(b"\0")
            if name:
                try:
                    label = name.decode()
                except UnicodeDecodeError:
                    label = name.hex()
                found[label] = _PAIR.unpack_from(mapping, at + 16)
        return found


def read_header(path: Path) -> tuple[str, float, int, float] | None:
    """(meta, ban_until, ban_status, blocked_until) of a state file, without locking or
    creating anything; None if the file is not a limiter state file."""
    try:
        with open(path, "rb") as f:
            data = f.read(_META + _META_LEN)
    except OSError:
        return None
    if len(data) < _META + _META_LEN or not data.startswith(MAGIC):
        return None
    ban_until, status, blocked = _HEADER.unpack_from(data, 8)
    meta = data[_META : _META + _META_LEN].rstrip(b"\0").decode(errors="replace")
    return meta, ban_until, int(status), blocked
