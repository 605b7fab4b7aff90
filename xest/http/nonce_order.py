"""Nonces that reach the exchange in the order they were issued.

Issuing nonces in order is not enough: two threads (or processes) that draw nonces 1 and 2 may
still deliver 2 first, and Kraken then refuses 1 ("EAPI:Invalid nonce"). So a signed request
that draws a nonce takes its API key's *turn*: from the moment its nonce is issued until the
exchange has answered (the status line is in; the body may still be coming), no other request
with that key, in any thread or process of the machine, gets a nonce. Requests that carry no
nonce (Binance's timestamps) never take a turn.

The turn is a lock file next to the nonce file (named by a hash of the key) behind a thread
lock; every wait on it is bounded by the holder's whole-call deadline.
"""

from __future__ import annotations

import threading
from pathlib import Path

from xest.http.nonce import key_digest, nonce_source
from xest.http.storage import LockedFile, private_dir

__all__ = ["NonceTurn"]

_turns: dict[tuple[Path, str], LockedFile] = {}
_turns_lock = threading.Lock()


def _turn_file(api_key: str) -> LockedFile:
    directory = private_dir("nonces")
    slot = (directory, key_digest(api_key))
    with _turns_lock:
        turn = _turns.get(slot)
        if turn is None:
            while len(_turns) >= 64:
                _turns.pop(next(iter(_turns)))
            turn = _turns[slot] = LockedFile(directory / f"{slot[1]}.turn")
        return turn


class NonceTurn:
    """One signed request's use of its key's nonces (see the module docstring)."""

    def __init__(self, api_key: str) -> None:
        self._key = api_key
        self._held: LockedFile | None = None
        self.used = False

    def __repr__(self) -> str:
        return f"<NonceTurn used={self.used} held={self._held is not None}>"

    def nonce(self) -> int:
        """The next nonce for the key; the first call takes the key's turn."""
        if self._held is None:
            held = _turn_file(self._key)
            held.__enter__()
            self._held = held
        self.used = True
        return nonce_source(self._key)()

    def release(self) -> None:
        """The request reached the exchange (or never will): the next request's turn."""
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(None, None, None)
