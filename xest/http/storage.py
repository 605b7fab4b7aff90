"""Where xest keeps its machine-wide shared state, and the file locks that guard it.

Everything lives under one private directory (mode 0700): ``XEST_CACHE_DIR``, else
``$XDG_CACHE_HOME/xest``, else ``~/.cache/xest``. Processes on the machine coordinate through
``flock`` on files there; a thread lock in front of each one makes the same guarantee between
threads of one process (``flock`` would not, on a shared descriptor).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xest import errors


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
        self._generation = -1
        self._size = 0
        _files.add(self)

    def _descriptor(self) -> int:
        if self._fd is None or self._generation != _generation:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._generation = _generation
        return self._fd

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
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def read(self) -> bytes:
        """The file's content; call inside :meth:`locked`."""
        fd = self._descriptor()
        data = os.pread(fd, 65536, 0)
        if len(data) == 65536:
            chunks = [data]
            while chunk := os.pread(fd, 65536, sum(map(len, chunks))):
                chunks.append(chunk)
            data = b"".join(chunks)
        self._size = len(data)
        return data

    def write(self, data: bytes) -> None:
        """Replace the content; call inside :meth:`locked`, after :meth:`read`."""
        fd = self._descriptor()
        os.pwrite(fd, data, 0)
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

    @contextlib.contextmanager
    def hold(self, name: str, timeout: float) -> Iterator[bool]:
        """Hold the lock for ``name``; yields False if it could not be had within ``timeout``
        (the caller then goes ahead unlocked: a lost lock must not hang a read)."""
        lf = self._file(name)
        deadline = time.monotonic() + timeout
        if not lf._lock.acquire(timeout=max(timeout, 0.0)):
            yield False
            return
        try:
            fd = lf._descriptor()
            pause = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(pause)
                    pause = min(pause * 2, 0.02)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            lf._lock.release()


def hash_stripe(name: str, stripes: int) -> int:
    return zlib.crc32(name.encode()) % stripes
