"""xest: a local, trustworthy picture of crypto exchanges.

    >>> import xest
    >>> with xest.open("kraken", sim=True) as kraken:
    ...     kraken.status()

``import xest`` stays light: the HTTP and cache stacks load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xest.hookspecs import hookimpl

if TYPE_CHECKING:
    from xest.facade import Client

__version__ = "0.1.0"
__all__ = ["Client", "__version__", "hookimpl", "open"]


def open(exchange: str, account: str | None = None, **options: Any) -> Client:
    """Open an exchange: one object with every operation its connector supports.

    See :func:`xest.facade.open` for the options.
    """
    from xest.facade import open as _open

    return _open(exchange, account, **options)


def __getattr__(name: str) -> Any:
    if name == "Client":
        from xest.facade import Client

        return Client
    raise AttributeError(f"module 'xest' has no attribute {name!r}")
