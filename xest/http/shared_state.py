"""The rate limiter's machine-wide state in the directory store: one small file per exchange and
host, read and written whole under the file lock.

No memory map: a map turns a file truncated behind our back into SIGBUS on the next access and
kills the process. A ``pread`` of 2 KiB and a ``pwrite`` of what changed cost about the same as
touching a mapping, and a short or foreign file simply reads as a fresh state. Layout
(little-endian):

    0    b"XLIM" + version (u32)
    8    ban_until, ban_status, blocked_until (3 doubles)
    32   "exchange host" (96 bytes, UTF-8, NUL-padded: for ``xest cache info``)
    128  64 bucket slots of 32 bytes: name (16 bytes, NUL-padded), a, b (2 doubles)

A bucket's (a, b) is (level, instant) for a decaying counter, (window start, used) for a
weight window.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

from xest.http import storage
from xest.http.endpoint import RateLimitPolicy
from xest.http.limits import LimitState, Reading, observe_pair, spend_pair
from xest.http.locking import ProcessLock, pread, pwrite

MAGIC = b"XLIM" + struct.pack("<I", 1)
SIZE = 128 + 64 * 32
_HEADER = struct.Struct("<ddd")
_PAIR = struct.Struct("<dd")
_META, _META_LEN = 32, 96
_SLOTS, _SLOT_LEN, _SLOT_COUNT = 128, 32, 64
_FRESH = MAGIC + bytes(SIZE - len(MAGIC))


def slot_name(bucket: str) -> bytes:
    raw = bucket.encode()
    return raw if 0 < len(raw) <= 16 else hashlib.blake2b(raw, digest_size=16).digest()


class SharedState:
    """``with state: ...`` holds the lock across threads and processes and works on a copy of
    the file read at entry; what changed is written back at exit. ``header()`` outside the lock
    reads the file directly (aligned doubles: a reader sees the old or the new value).

    If the file cannot be used at all (permissions, a directory in its place), the state lives
    in this process only, after one warning: limits are then per process, never a crash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._fd = -1
        self._plock: ProcessLock | None = None
        self._generation = -1
        self._local = False  # the file is unusable: state kept in ``_data`` only
        self._data = bytearray(_FRESH)
        self._dirty: set[int] = set()
        self._slots: dict[bytes, int] = {}
        self._known: dict[str, tuple[int, bytes]] = {}  # bucket -> its slot (see spend_known)
        storage.renew_locks_after_fork(self)

    _instances: weakref.WeakValueDictionary[Path, SharedState] = weakref.WeakValueDictionary()
    _instances_lock = threading.Lock()

    @classmethod
    def at(cls, path: Path) -> SharedState:
        """The process's handle on ``path`` (one descriptor per file)."""
        with cls._instances_lock:
            state = cls._instances.get(path)
            if state is None:
                state = cls._instances[path] = cls(path)
            return state

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            if self._fd >= 0 and self._generation == storage.fork_generation():
                os.close(self._fd)

    def _open(self) -> int:
        """The descriptor (-1 once the file turned out unusable)."""
        if self._local or (self._fd >= 0 and self._generation == storage.fork_generation()):
            return self._fd
        with self._open_lock:
            if self._fd >= 0 and self._generation == storage.fork_generation():
                return self._fd
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._plock = ProcessLock(self.path, fd)
            except (OSError, ValueError) as exc:
                storage.unusable("rate-limit state", self.path, exc)
                self._local, self._fd = True, -1
                return -1
            self._fd, self._generation, self._slots = fd, storage.fork_generation(), {}
            self._known = {}
            return fd

    def __enter__(self) -> SharedState:
        self._lock.acquire()
        try:
            fd = self._open()
            if fd >= 0:
                assert self._plock is not None
                self._plock.acquire()
                try:
                    data = pread(fd, SIZE, 0)
                except OSError:
                    data = b""
                if len(data) != SIZE or not data.startswith(MAGIC):
                    # New, truncated, or not ours (another format, a torn file): start afresh.
                    self._data[:] = _FRESH
                    self._dirty = {-1}
                    self._slots = {}
                else:
                    self._data[:] = data
                    self._dirty = set()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd >= 0 and not self._local:
                try:
                    if -1 in self._dirty:
                        pwrite(self._fd, bytes(self._data), 0)
                    else:
                        for at in self._dirty:
                            pwrite(self._fd, bytes(self._data[at : at + _SLOT_LEN]), at)
                except OSError as exc:
                    storage.unusable("rate-limit state", self.path, exc)
                finally:
                    assert self._plock is not None
                    self._plock.release()
        finally:
            self._lock.release()

    def _touch(self, at: int, length: int) -> None:
        # Dirty regions are tracked in 32-byte units (a header, the meta, a slot).
        for start in range(at - at % _SLOT_LEN, at + length, _SLOT_LEN):
            self._dirty.add(start)

    # -- header ----------------------------------------------------------------------------------

    def header(self) -> tuple[float, int, float]:
        """(ban_until, ban_status, blocked_until), inside ``with``."""
        ban_until, status, blocked = _HEADER.unpack_from(self._data, 8)
        return ban_until, int(status), blocked

    def peek_header(self) -> tuple[float, int, float]:
        """The header read from the file without the lock (the hot path of unlimited calls)."""
        fd = self._open()
        if fd < 0:
            with self:
                return self.header()
        try:
            data = pread(fd, 32, 0)
        except OSError:
            return 0.0, 0, 0.0
        if len(data) < 32 or not data.startswith(MAGIC):
            return 0.0, 0, 0.0
        ban_until, status, blocked = _HEADER.unpack_from(data, 8)
        return ban_until, int(status), blocked

    def set_header(self, ban_until: float, status: int, blocked_until: float) -> None:
        _HEADER.pack_into(self._data, 8, ban_until, float(status), blocked_until)
        self._touch(8, _HEADER.size)

    def meta(self) -> str:
        return bytes(self._data[_META : _META + _META_LEN]).rstrip(b"\0").decode(errors="replace")

    def set_meta(self, text: str) -> None:
        data = text.encode()[:_META_LEN].ljust(_META_LEN, b"\0")
        if self._data[_META : _META + _META_LEN] != data:
            self._data[_META : _META + _META_LEN] = data
            self._touch(_META, _META_LEN)

    # -- buckets (inside ``with``) -------------------------------------------------------------

    def _offset(self, bucket: str) -> int:
        offset = self._find(bucket)
        self._known[bucket] = (offset, bytes(self._data[offset : offset + 16]))
        return offset

    def _find(self, bucket: str) -> int:
        name = slot_name(bucket)
        padded = name.ljust(16, b"\0")
        offset = self._slots.get(name)
        if offset is not None and self._data[offset : offset + 16] == padded:
            return offset
        free = None
        for i in range(_SLOT_COUNT):
            at = _SLOTS + i * _SLOT_LEN
            current = self._data[at : at + 16]
            if current == padded:
                self._slots[name] = at
                return at
            if free is None and current == b"\0" * 16:
                free = at
        if free is None:
            raise RuntimeError(f"more than {_SLOT_COUNT} rate-limit buckets for one exchange")
        self._data[free : free + 16] = padded
        self._touch(free, 16)
        self._slots[name] = free
        return free

    def get(self, bucket: str) -> tuple[float, float] | None:
        """The bucket's (a, b), or None if never used."""
        a, b = _PAIR.unpack_from(self._data, self._offset(bucket) + 16)
        return None if a == 0.0 and b == 0.0 else (a, b)

    def put(self, bucket: str, a: float, b: float) -> None:
        at = self._offset(bucket) + 16
        _PAIR.pack_into(self._data, at, a, b)
        self._touch(at, _PAIR.size)

    def spend_known(
        self, bucket: str, policy: RateLimitPolicy, cost: float, now: float
    ) -> tuple[float, int, float, float] | None:
        """:meth:`DirectoryLimits.spend` reading and writing only the header and the bucket's
        slot, when this process has used the bucket before; None when it has not, or when the
        slot no longer holds it (the caller then takes the whole-file path). Same lock, same
        arithmetic: the file's other 2 KiB are neither read nor copied on every call."""
        known = self._known.get(bucket)
        if known is None:
            return None
        at, name = known
        fd = self._open()
        if fd < 0 or self._plock is None:
            return None
        with self._lock:
            self._plock.acquire()
            try:
                if at < 1024:  # one read up to the slot beats two system calls
                    head = pread(fd, at + 32, 0)
                    slot = head[at:]
                else:
                    head, slot = pread(fd, 32, 0), pread(fd, 32, at)
                if len(slot) < 32 or not head.startswith(MAGIC) or slot[:16] != name:
                    return None
                ban_until, status, blocked_until = _HEADER.unpack_from(head, 8)
                if ban_until > now or blocked_until > now:
                    return ban_until, int(status), blocked_until, 0.0
                a, b = _PAIR.unpack_from(slot, 16)
                pair, wait = spend_pair(None if a == b == 0.0 else (a, b), policy, cost, now)
                if pair is not None:
                    pwrite(fd, _PAIR.pack(*pair), at + 16)
                return ban_until, int(status), blocked_until, wait
            except OSError:
                return None
            finally:
                self._plock.release()

    def buckets(self) -> dict[str, tuple[float, float]]:
        """Every used slot, by name (hashed names show as hex)."""
        found = {}
        for i in range(_SLOT_COUNT):
            at = _SLOTS + i * _SLOT_LEN
            name = bytes(self._data[at : at + 16]).rstrip(b"\0")
            if name:
                try:
                    label = name.decode()
                except UnicodeDecodeError:
                    label = name.hex()
                found[label] = _PAIR.unpack_from(self._data, at + 16)
        return found


class DirectoryLimits(LimitState):
    """The limiter's state for one exchange and host, in a :class:`SharedState` file (or in
    this process only: ``path=None``)."""

    def __init__(self, path: Path | None, meta: str) -> None:
        if path is None:
            self.shared = SharedState(Path(os.devnull))
            self.shared._local = True
        else:
            self.shared = SharedState.at(path)
        with self.shared as shared:
            shared.set_meta(meta)  # for `xest cache info`

    def header(self) -> tuple[float, int, float]:
        return self.shared.peek_header()

    def spend(
        self, bucket: str, policy: RateLimitPolicy, cost: float, now: float
    ) -> tuple[float, int, float, float]:
        known = self.shared.spend_known(bucket, policy, cost, now)
        if known is not None:
            return known
        with self.shared as shared:
            ban_until, ban_status, blocked_until = shared.header()
            if ban_until > now or blocked_until > now:
                return ban_until, ban_status, blocked_until, 0.0
            pair, wait = spend_pair(shared.get(bucket), policy, cost, now)
            if pair is not None:
                shared.put(bucket, *pair)
            return ban_until, ban_status, blocked_until, wait

    def observe(self, readings: Sequence[Reading], now: float) -> None:
        with self.shared as shared:
            for bucket, window, used in readings:
                shared.put(bucket, *observe_pair(shared.get(bucket), window, used, now))

    def block(self, until: float) -> float:
        with self.shared as shared:
            ban_until, status, blocked_until = shared.header()
            until = max(blocked_until, until)
            shared.set_header(ban_until, status, until)
            return until

    def ban(self, until: float, status: int) -> float:
        with self.shared as shared:
            ban_until, _, blocked_until = shared.header()
            until = max(ban_until, until)
            shared.set_header(until, status, blocked_until)
            return until

    def clear(self) -> None:
        with self.shared as shared:
            shared.set_header(0.0, 0, 0.0)

    def buckets(self) -> dict[str, tuple[float, float]]:
        with self.shared as shared:
            return shared.buckets()


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


def clear_restrictions(path: Path) -> bool:
    """Lift the bans and waits recorded in a state file (``xest cache clear``); True if any."""
    header = read_header(path)
    if header is None:
        return False
    state = SharedState.at(path)
    with state as shared:
        ban_until, _, blocked_until = shared.header()
        shared.set_header(0.0, 0, 0.0)
    return ban_until > 0 or blocked_until > 0
