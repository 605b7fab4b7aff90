"""xest: a local, trustworthy picture of crypto exchanges.

    >>> import xest
    >>> with xest.open("kraken", sim=True) as kraken:
    ...     kraken.status()

``import xest`` stays light: the HTTP and cache stacks load on first use, and so do the public
submodules reachable from here (``xest.errors``, ``xest.models``, ``xest.connector``, ...)
and ``xest.hookimpl`` (pluggy, which opening an exchange does not need).
The public API is listed in docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xest import connector, errors, http, models, testing
    from xest.facade import Client
    from xest.hookspecs import PLUGIN_API, hookimpl

__version__ = "0.2.0"
__all__ = [
    "PLUGIN_API",
    "Client",
    "__version__",
    "connector",
    "errors",
    "hookimpl",
    "http",
    "models",
    "open",
    "testing",
]

# Public submodules, imported when first touched (``import xest; xest.errors.BadSymbol``).
_SUBMODULES = frozenset({"connector", "errors", "http", "models", "testing"})


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
    if name in ("hookimpl", "PLUGIN_API"):  # pluggy (~7 ms) only for plugins and the CLI
        from xest import hookspecs

        return getattr(hookspecs, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"xest.{name}")
    raise AttributeError(f"module 'xest' has no attribute {name!r}")
