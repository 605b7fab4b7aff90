"""What a connector implements per stream: the exchange's dialect of one subscription."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar


class Resync(Exception):
    """The feed found its local state wrong (bad checksum, gap in update ids): start over."""

    def __init__(self, reason: str, **data: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = data


class StaleFeed(Exception):
    """Nothing arrived for longer than the feed's ``stale_after``: the connection is suspect."""


class Connection:
    """The open websocket as a feed sees it: JSON in and out."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def send(self, message: Any) -> None:
        self.ws.send(json.dumps(message, default=_default, separators=(",", ":")))

    def recv(self, timeout: float | None = None) -> Any:
        """The next message, decoded (numbers as Decimal, never float); TimeoutError if none."""
        return decode(self.ws.recv(timeout=timeout))


def decode(raw: str | bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class Feed:
    """One subscription in an exchange's dialect. Subclasses set ``kind`` and implement
    :meth:`url`, :meth:`open` and :meth:`handle`.

    ``conflate``: only the newest value matters (a book, a ticker), so a slow reader gets the
    latest instead of a backlog; order and balance updates are never conflated.
    ``stale_after``: seconds of silence (heartbeats count) after which the connection is
    treated as dropped.
    """

    kind: ClassVar[str] = ""
    conflate: ClassVar[bool] = True
    stale_after: float = 10.0

    def url(self) -> str:
        raise NotImplementedError

    def open(self, conn: Connection) -> None:
        """Subscribe on a fresh connection (may wait for the exchange's acknowledgement)."""
        raise NotImplementedError

    def opened(self) -> Iterable[Any]:
        """Values to deliver right after :meth:`open`, before any message (a REST snapshot)."""
        return ()

    def handle(self, message: Any) -> Iterable[Any]:
        """The values one message yields (none for acks and heartbeats). Raise :class:`Resync`
        when the local state is found wrong."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget per-connection state (the local book) after a drop or before a resync."""

    def synced(self) -> bool:
        """Whether the values the feed yields are current (a book is known right)."""
        return True

    def describe(self) -> str:
        return self.kind
