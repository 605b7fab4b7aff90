"""Where xest keeps its machine-wide shared state, and the file locks that guard it.

Everything lives under one private directory (mode 0700): ``XEST_CACHE_DIR``, else
``$XDG_CACHE_HOME/xest``, else ``~/.cache/xest``. Processes on the machine coordinate through
file locks there (:mod:`xest.http.locking`: ``flock`` on POSIX, the ``filelock`` library
elsewhere); a thread lock in front of each one makes the same guarantee between threads of one
process (``flock`` would not, on a shared descriptor).

A directory that cannot be used (permissions, a file where a directory should be, a full disk)
never stops xest: the shared state degrades to "not shared" and :func:`unusable` says so once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xest import errors
from xest.http.locking import ProcessLock, pread, pwrite

log = logging.getLogger("xest.http")
_warned: set[str] = set()


def unusable(what: str, path: Path, exc: BaseException) -> None:
    """Warn once per kind of shared state and place that it cannot use ``path`` and goes on
    unshared."""
    key = f"{what}\0{path}"
    if key in _warned:
        return
    _warned.add(key)
    reason = getattr(exc, "strerror", None) or str(exc)
    log.warning(
        "cannot use %s for the shared %s (%s); going on without sharing it between processes "
        "(set XEST_CACHE_DIR to a writable directory)",
        path,
        what,
        reason,
    )


def cache_dir() -> Path:
    """The root of xest's shared state, resolved from the environment on every call."""
    explicit = os.environ.get("XEST_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "xest"


def private_dir(*parts: str) -> Path:
    """``cache_dir()/parts``, created with mode 0700 (the cache may hold account-free data only,
    but other users need not see which exchanges this one talks to)."""
    root = cache_dir()
    path = root.joinpath(*parts)
    try:
        for directory in (root, *(root.joinpath(*parts[: i + 1]) for i in range(len(parts)))):
            if not directory.is_dir():
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(directory, 0o700)
    except OSError as exc:
        raise errors.ConfigError(
            f"cannot create the xest cache directory {path} ({exc.strerror}); "
            "set XEST_CACHE_DIR to a writable directory"
        ) from None
    return path


# Bumped in a forked child: descriptors (and their locks) opened before the fork belong to the
# parent's open file descriptions, so the child must open its own. Cheaper than os.getpid().
_generation = 0
_files: weakref.WeakSet[Any] = weakref.WeakSet()  # objects whose thread locks to renew


def _forked() -> None:
    global _generation
    _generation += 1
    for obj in list(_files):  # a thread of the parent may have held one: it is gone now
        obj._lock = threading.Lock()
        if hasattr(obj, "_open_lock"):
            obj._open_lock = threading.Lock()


def renew_locks_after_fork(obj: Any) -> None:
    """Give ``obj`` fresh ``_lock`` (and ``_open_lock``) thread locks in a forked child."""
    _files.add(obj)


os.register_at_fork(after_in_child=_forked)


def fork_generation() -> int:
    return _generation


class LockedFile:
    """A small state file read and written under an exclusive lock, across threads and processes.

    The descriptor stays open for speed and is reopened after a fork: a forked child sharing its
    parent's open file would share its lock too, and so would not be excluded by it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._plock: ProcessLock | None = None
        self._generation = -1
        self._size = 0
        _files.add(self)

    def _descriptor(self) -> int:
        if self._fd is None or self._generation != _generation:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._plock = ProcessLock(self.path, self._fd)
            self._generation = _generation
        return self._fd

    def _process_lock(self) -> ProcessLock:
        self._descriptor()
        assert self._plock is not None
        return self._plock

    def __del__(self) -> None:
        if self._fd is not None and self._generation == _generation:
            with contextlib.suppress(OSError):
                os.close(self._fd)

    def locked(self) -> LockedFile:
        """``with lf.locked(): ...`` holds the lock (a plain context manager: this is on the
        path of every request, and a generator-based one costs several microseconds)."""
        return self

    def __enter__(self) -> LockedFile:
        self._lock.acquire()
        try:
            self._process_lock().acquire()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._process_lock().release()
        finally:
            self._lock.release()

    def read(self) -> bytes:
        """The file's content; call inside :meth:`locked`."""
        fd = self._descriptor()
        data = pread(fd, 65536, 0)
        if len(data) == 65536:
            chunks = [data]
            while chunk := pread(fd, 65536, sum(map(len, chunks))):
                chunks.append(chunk)
            data = b"".join(chunks)
        self._size = len(data)
        return data

    def write(self, data: bytes) -> None:
        """Replace the content; call inside :meth:`locked`, after :meth:`read`."""
        fd = self._descriptor()
        pwrite(fd, data, 0)
        if len(data) != self._size:  # fixed-width contents never pay for a truncate
            os.ftruncate(fd, len(data))
        self._size = len(data)


class StripedLocks:
    """Named exclusive locks across threads and processes, hashed onto a fixed set of files so
    the directory never grows. Two names may share a stripe: that only costs a little waiting."""

    _instances: weakref.WeakValueDictionary[Path, StripedLocks] = weakref.WeakValueDictionary()
    _instances_lock = threading.Lock()

    @classmethod
    def at(cls, directory: Path) -> StripedLocks:
        """The process's locks for ``directory`` (shared, so descriptors are not multiplied)."""
        with cls._instances_lock:
            locks = cls._instances.get(directory)
            if locks is None:
                locks = cls._instances[directory] = cls(directory)
            return locks

    def __init__(self, directory: Path, stripes: int = 64) -> None:
        self.directory = directory
        self.stripes = stripes
        self._files: dict[int, LockedFile] = {}
        self._guard = threading.Lock()

    def _file(self, name: str) -> LockedFile:
        index = hash_stripe(name, self.stripes)
        with self._guard:
            lf = self._files.get(index)
            if lf is None:
                lf = self._files[index] = LockedFile(self.directory / f"lock-{index:02d}")
            return lf

    def acquire(self, name: str, timeout: float) -> LockedFile | None:
        """Take the lock for ``name``; None if it could not be had within ``timeout`` (the
        caller then goes ahead unlocked: a lost lock must not hang a read). Release with
        :meth:`release`, from any thread."""
        lf = self._file(name)
        deadline = time.monotonic() + timeout
        if not lf._lock.acquire(timeout=max(timeout, 0.0)):
            return None
        try:
            plock = lf._process_lock()
            pause = 0.001
            while not plock.try_acquire():
                if time.monotonic() >= deadline:
                    lf._lock.release()
                    return None
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        except BaseException:
            lf._lock.release()
            raise
        return lf

    def take(self, name: str, timeout: float) -> tuple[LockedFile | None, bool]:
        """:meth:`acquire`, also saying whether anyone held the lock first (the caller had to
        wait): only then may a holder have done what the caller came to do."""
        lf = self._file(name)
        if lf._lock.acquire(blocking=False):
            try:
                if lf._process_lock().try_acquire():
                    return lf, False
            except BaseException:
                lf._lock.release()
                raise
            lf._lock.release()
        return self.acquire(name, timeout), True

    @staticmethod
    def release(lf: LockedFile) -> None:
        try:
            lf._process_lock().release()
        finally:
            lf._lock.release()

    @contextlib.contextmanager
    def hold(self, name: str, timeout: float) -> Iterator[bool]:
        """``with locks.hold(name, timeout) as held:`` (see :meth:`acquire`)."""
        lf = self.acquire(name, timeout)
        try:
            yield lf is not None
        finally:
            if lf is not None:
                self.release(lf)


def hash_stripe(name: str, stripes: int) -> int:
    return zlib.crc32(name.encode()) % stripes
