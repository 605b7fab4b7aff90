"""Nonces that strictly increase per API key, across threads, processes and restarts.

Kraken refuses a nonce not above the last one it saw for the key ("EAPI:Invalid nonce"), so two
scripts sharing a key must draw from one sequence. The last nonce lives in a file named by a
hash of the key (never the key itself) and is advanced under ``flock``. Each new nonce is at
least the wall clock in microseconds, so the sequence also survives a lost file or a restart.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from xest.http.storage import LockedFile, private_dir

_WIDTH = 20  # digits: fixed width, so a rewrite always replaces the whole number


def key_digest(api_key: str) -> str:
    """A stable, non-reversible name for an API key's nonce file."""
    return hashlib.sha256(b"xest-nonce\0" + api_key.encode()).hexdigest()[:32]


class NonceSource:
    """Callable: each call returns a nonce above every earlier one for the same key."""

    def __init__(self, api_key: str, directory: Path | None = None) -> None:
        directory = directory or private_dir("nonces")
        self._file = LockedFile(directory / key_digest(api_key))

    def __repr__(self) -> str:
        return f"<NonceSource {self._file.path.name[:8]}…>"

    def __call__(self) -> int:
        with self._file.locked():
            raw = self._file.read().strip()
            last = int(raw) if raw.isdigit() else 0
            nonce = max(last + 1, time.time_ns() // 1000)
            self._file.write(str(nonce).zfill(_WIDTH).encode())
            return nonce


_sources: dict[tuple[Path, str], NonceSource] = {}
_sources_lock = threading.Lock()


def nonce_source(api_key: str) -> NonceSource:
    """The process's source for ``api_key`` under the current cache directory."""
    directory = private_dir("nonces")
    slot = (directory, key_digest(api_key))
    with _sources_lock:
        source = _sources.get(slot)
        if source is None:
            while len(_sources) >= 64:  # a process uses a few keys; tests, many directories
                _sources.pop(next(iter(_sources)))
            source = _sources[slot] = NonceSource(api_key, directory)
        return source
