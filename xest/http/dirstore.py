"""The directory store (the default): shared state in files under ``XEST_CACHE_DIR``, for every
process of one machine. See :mod:`xest.http.store` for the seam it implements."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xest import errors
from xest.http import storage
from xest.http import store as seam
from xest.http.limits import LimitState
from xest.http.store import ExecutedQuotes, SendOrder, Store, key_tag

EXECUTED_DAYS = 7  # an executed-quote mark outlives any quote's validity by far


class DirectoryStore(Store):
    kind = "directory"

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    def root(self) -> Path:
        return self._root if self._root is not None else storage.cache_dir()

    def describe(self) -> str:
        return f"directory {self.root()}"

    def _dir(self, *parts: str) -> Path:
        """``root/parts``, created private; an unusable one is returned as is (its users
        degrade to unshared state with one warning)."""
        if self._root is None:
            try:
                return storage.private_dir(*parts)
            except errors.ConfigError:
                return storage.cache_dir().joinpath(*parts)
        path = self._root.joinpath(*parts)
        with contextlib.suppress(OSError):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def responses(self) -> Any:
        from xest.http.cache import ResponseCache

        return ResponseCache(None if self._root is None else self._root / "responses")

    def limits(self, exchange: str, host: str) -> LimitState:
        from xest.http.limiter import state_file_name
        from xest.http.shared_state import DirectoryLimits

        path = self._dir("limits") / state_file_name(exchange, host)
        return DirectoryLimits(path, f"{exchange} {host}")

    def nonces(self, api_key: str, exchange: str | None = None) -> Callable[[], int]:
        from xest.http.nonce import directory_source

        return directory_source(api_key, self._dir("nonces"))

    def send_order(self, api_key: str, exchange: str | None = None) -> SendOrder:
        from xest.http.nonce import key_digest

        return DirectoryOrder(self._dir("nonces") / f"{key_digest(api_key)}.order")

    def executed_quotes(self, exchange: str, api_key: str) -> ExecutedQuotes:
        tag = key_tag(f"{exchange}\0{api_key}", "quotes")
        return DirectoryExecuted(self._dir("executed", tag[:24]))

    def restrictions(self, now: float) -> list[dict[str, Any]]:
        from xest.http.limiter import SUFFIX
        from xest.http.shared_state import read_header

        directory = self.root() / "limits"
        found: list[dict[str, Any]] = []
        if not directory.is_dir():
            return found
        for path in sorted(directory.glob(f"*{SUFFIX}")):
            header = read_header(path)
            if header is None:
                continue
            meta, ban_until, _, blocked_until = header
            exchange, _, host = meta.partition(" ")
            for kind, until in (("banned", ban_until), ("waiting", blocked_until)):
                if until > now:
                    found.append(
                        {
                            "exchange": exchange or path.stem,
                            "host": host or "?",
                            "kind": kind,
                            "until": until,
                        }
                    )
        return found

    def clear_restrictions(self) -> int:
        from xest.http.limiter import SUFFIX
        from xest.http.shared_state import clear_restrictions

        directory = self.root() / "limits"
        if not directory.is_dir():
            return 0
        cleared = 0
        for path in sorted(directory.glob(f"*{SUFFIX}")):
            try:
                cleared += clear_restrictions(path)
            except OSError as exc:
                storage.unusable("rate-limit state", path, exc)
        return cleared


class DirectoryOrder(SendOrder):
    """The send order of one key on this machine: a file lock (threads and processes)."""

    def __init__(self, path: Path) -> None:
        self._file = storage.LockedFile(path)
        self._usable = True

    def acquire(self) -> None:
        if not self._usable:
            return
        try:
            self._file.__enter__()
        except OSError as exc:  # an unusable directory: no ordering between processes
            storage.unusable("nonce order", self._file.path, exc)
            self._usable = False

    def release(self) -> None:
        if self._usable:
            with contextlib.suppress(OSError):
                self._file.__exit__(None, None, None)


class DirectoryExecuted(ExecutedQuotes):
    """One empty file per claimed quote, created with O_EXCL: the file system decides who was
    first, no lock needed. Marks older than a week are swept now and then."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, quote_id: str) -> Path:
        return self.directory / hashlib_name(quote_id)

    def claim(self, quote_id: str) -> bool:
        token = seam.owner().encode()
        path = self._path(quote_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:
                return path.read_bytes() == token
            except OSError:
                return False
        except OSError as exc:
            raise errors.ConfigError(
                f"cannot record quote {quote_id} as executed in {self.directory} "
                f"({exc.strerror}); set XEST_CACHE_DIR to a writable directory"
            ) from None
        try:
            os.write(fd, token)
        finally:
            os.close(fd)
        self._sweep()
        return True

    def release(self, quote_id: str) -> None:
        path = self._path(quote_id)
        with contextlib.suppress(OSError):
            if path.read_bytes() == seam.owner().encode():  # only our own claim
                os.unlink(path)

    def claimed(self, quote_id: str) -> bool:
        return self._path(quote_id).exists()

    def _sweep(self) -> None:
        if os.urandom(1)[0] >= 4:  # about one claim in 64 pays for the sweep
            return
        limit = time.time() - EXECUTED_DAYS * 86400
        with contextlib.suppress(OSError), os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.stat().st_mtime < limit:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def hashlib_name(quote_id: str) -> str:
    return key_tag(quote_id, "quote")
