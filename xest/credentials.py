"""API credentials: read, used to sign, and never shown."""

from __future__ import annotations

__all__ = ["Credentials"]

import attrs


@attrs.frozen(repr=False)
class Credentials:
    """An API key and secret. ``repr``/``str`` show the account name only, never key or secret."""

    key: str = attrs.field(eq=False)
    secret: str = attrs.field(eq=False)
    account: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(account={self.account!r}, key=<hidden>, secret=<hidden>)"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, object]:
        # Pickling would write the secret wherever the pickle goes (a cache, a log).
        raise TypeError("Credentials cannot be pickled: secrets never leave memory")
