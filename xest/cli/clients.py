"""Open facade clients the way the global options say."""

from __future__ import annotations

from typing import Any

import click

from xest.cli.options import options


def open_client(exchange: str, *, several: bool = False) -> Any:
    """A :class:`xest.Client` for ``exchange`` honouring --url, --sim, --no-cache, --account."""
    import xest
    from xest.errors import ConfigError

    opts = options()
    if opts.url and several:
        raise ConfigError("--url applies to one exchange: name just one, or use XEST_<NAME>_URL")
    return xest.open(
        exchange,
        opts.account,
        url=opts.url,
        sim=opts.sim,
        cache=not opts.no_cache,
    )


def exchanges_argument(func: Any) -> Any:
    return click.argument("exchanges", nargs=-1, required=True, metavar="EXCHANGE...")(func)
