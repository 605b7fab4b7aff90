"""The placement journal: every order xest is about to send, written down first.

An entry (client id, the request, when, and the end of the request's validity window once it
is known) is written and flushed to disk *before* the request leaves, and removed when the
outcome is known (placed, refused, or provably never placed). A process killed in between
leaves its entry behind; the account agent reconciles every such entry with the exchange when
it starts (:meth:`xest.agents.account.AccountAgent.reconcile_journal`), so no order a killed
process placed stays unknown.

One directory per exchange and API key (named by a hash of the key, never the key), one JSON
file per entry. While a placement is in flight its process holds a lock on the entry's file,
so a reconciler elsewhere leaves it alone; the lock dies with the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from xest.http.storage import private_dir

__all__ = ["Entry", "Journal"]

log = logging.getLogger("xest.journal")


@attrs.frozen
class Entry:
    """An intended placement whose outcome is not known yet."""

    client_id: str
    symbol: str
    side: str
    type: str
    amount: str
    price: str | None
    written_at: datetime
    valid_until: datetime | None = None
    pid: int = 0

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["written_at"] = self.written_at.isoformat()
        data["valid_until"] = self.valid_until.isoformat() if self.valid_until else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        until = data.get("valid_until")
        return cls(
            client_id=str(data["client_id"]),
            symbol=str(data["symbol"]),
            side=str(data["side"]),
            type=str(data["type"]),
            amount=str(data["amount"]),
            price=None if data.get("price") is None else str(data["price"]),
            written_at=datetime.fromisoformat(data["written_at"]),
            valid_until=datetime.fromisoformat(until) if until else None,
            pid=int(data.get("pid") or 0),
        )


def _digest(exchange: str, base_url: str, key: str) -> str:
    raw = f"xest-journal\0{exchange}\0{base_url}\0{key}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _safe(client_id: str) -> str:
    # Client ids are printable ASCII; '/' and friends must not become paths.
    return hashlib.sha256(client_id.encode()).hexdigest()[:40]


class Journal:
    """The journal of one account (exchange, base URL, API key)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held: dict[str, int] = {}  # client id -> descriptor holding the entry's lock
        self._lock = threading.Lock()

    @classmethod
    def for_account(cls, exchange: str, base_url: str, key: str) -> Journal:
        return cls(private_dir("journal", _digest(exchange, base_url, key)))

    def __repr__(self) -> str:
        return f"<Journal {self.directory.name[:8]}…>"

    def _path(self, client_id: str) -> Path:
        return self.directory / f"{_safe(client_id)}.json"

    # -- the placing process -------------------------------------------------------------------

    def open(self, request: Any) -> Entry:
        """Write the intent to place ``request`` (an OrderRequest), durably, and hold its lock."""
        entry = Entry(
            client_id=request.client_id,
            symbol=request.symbol,
            side=str(request.side),
            type=str(request.type),
            amount=str(request.amount),
            price=None if request.price is None else str(request.price),
            written_at=datetime.now(UTC),
            pid=os.getpid(),
        )
        fd = os.open(self._path(entry.client_id), os.O_RDWR | os.O_CREAT, 0o600)
        _try_lock(fd, blocking=True)
        with self._lock:
            old = self._held.pop(entry.client_id, None)
            self._held[entry.client_id] = fd
        if old is not None:
            os.close(old)
        self._write(entry)
        return entry

    def window(self, entry: Entry, valid_until: datetime) -> Entry:
        """Record the end of the request's validity window (before the request leaves)."""
        entry = attrs.evolve(entry, valid_until=valid_until)
        self._write(entry)
        return entry

    def close(self, client_id: str) -> None:
        """The outcome is known: forget the entry."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(client_id))
        with self._lock:
            fd = self._held.pop(client_id, None)
        if fd is not None:
            os.close(fd)

    def release(self, client_id: str) -> None:
        """The outcome is unknown: keep the entry for a later reconciliation, drop the lock."""
        with self._lock:
            fd = self._held.pop(client_id, None)
        if fd is not None:
            os.close(fd)

    # -- reconcilers ---------------------------------------------------------------------------

    def orphans(self) -> list[Entry]:
        """Entries whose placing process is gone (or let go of them), oldest first."""
        out = []
        with self._lock:
            mine = {_safe(c) for c in self._held}
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return []
        for name in names:
            if not name.endswith(".json") or name[:-5] in mine:
                continue
            path = self.directory / name
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                if not _try_lock(fd, blocking=False):
                    continue  # in flight in another process
                raw = os.read(fd, 1 << 16)
            finally:
                os.close(fd)
            try:
                out.append(Entry.from_json(json.loads(raw)))
            except (ValueError, KeyError, TypeError):
                if raw:
                    log.warning("placement journal: unreadable entry %s removed", name)
                    with contextlib.suppress(OSError):
                        path.unlink()
        return sorted(out, key=lambda e: e.written_at)

    def _write(self, entry: Entry) -> None:
        # In place, under the lock this process holds: a reconciler reads only with the lock,
        # so it never sees half an entry. A crash mid-write happens before the request leaves.
        with self._lock:
            fd = self._held.get(entry.client_id)
        if fd is None:
            return  # closed meanwhile
        data = json.dumps(entry.to_json()).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)


def _try_lock(fd: int, *, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # no flock here: in-flight entries are told apart by age alone
        return True
    flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, flags)
    except BlockingIOError:
        return False
    return True
