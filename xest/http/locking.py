"""Cross-process file locks that work wherever Python does.

On POSIX the lock is ``flock`` on a descriptor kept open (the fast path: two system calls per
hold). Where ``fcntl`` cannot be imported (Windows, or a stripped-down Python) the lock comes
from the ``filelock`` library, which picks the platform's own mechanism (``msvcrt`` on Windows,
a lock file elsewhere). Nothing POSIX-only is imported at module level: the backend is chosen on
first use, so ``import xest`` works everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_fcntl: Any = None
_probed = False


def posix_locks() -> Any:
    """The ``fcntl`` module, or None where it is unavailable."""
    global _fcntl, _probed
    if not _probed:
        try:
            import fcntl
        except ImportError:
            fcntl = None  # type: ignore[assignment]
        _fcntl, _probed = fcntl, True
    return _fcntl


class ProcessLock:
    """An exclusive lock on ``path`` between processes (not between threads of one process:
    callers put a thread lock in front). ``fd`` is the descriptor the caller keeps open on the
    same file, or None to let the lock open its own."""

    __slots__ = ("_fallback", "_fcntl", "fd", "path")

    def __init__(self, path: Path, fd: int | None = None) -> None:
        self.path = path
        self.fd = fd
        self._fcntl = posix_locks()
        self._fallback: Any = None
        if self._fcntl is None:
            import filelock

            # A separate lock file: on Windows a locked byte range of the data file itself
            # would make its reads fail.
            self._fallback = filelock.FileLock(str(path) + ".lock", is_singleton=False)
        elif fd is None:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        if self._fcntl is not None:
            self._fcntl.flock(self.fd, self._fcntl.LOCK_EX)
        else:
            self._fallback.acquire()

    def try_acquire(self) -> bool:
        if self._fcntl is not None:
            try:
                self._fcntl.flock(self.fd, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True
        import filelock

        try:
            self._fallback.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        if self._fcntl is not None:
            self._fcntl.flock(self.fd, self._fcntl.LOCK_UN)
        else:
            self._fallback.release()


def pread(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where it exists (POSIX), else seek and read (Windows)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def pwrite(fd: int, data: bytes, offset: int) -> None:
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
        return
    os.lseek(fd, offset, os.SEEK_SET)
    os.write(fd, data)
