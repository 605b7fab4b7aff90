"""API credentials: read, used to sign, and never shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["Credentials"]


@attrs.frozen(repr=False)
class Credentials:
    """An API key and secret. ``repr``/``str`` show the account name only, never key or secret."""

    key: str = attrs.field(eq=False)
    secret: str = attrs.field(eq=False)
    account: str | None = None
    # What signers derive from the secret (a decoded HMAC key), made once: memory only, as the
    # secret itself.
    _derived: dict[str, Any] = attrs.field(
        factory=dict, init=False, repr=False, eq=False, hash=False
    )

    def derived(self, name: str, make: Callable[[str], Any]) -> Any:
        """``make(secret)``, computed on the first call for ``name`` and kept."""
        try:
            return self._derived[name]
        except KeyError:
            value = self._derived[name] = make(self.secret)
            return value

    def __repr__(self) -> str:
        return f"Credentials(account={self.account!r}, key=<hidden>, secret=<hidden>)"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, object]:
        # Pickling would write the secret wherever the pickle goes (a cache, a log).
        raise TypeError("Credentials cannot be pickled: secrets never leave memory")
