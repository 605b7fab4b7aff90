"""Open facade clients the way the global options say."""

from __future__ import annotations

from typing import Any

import click

from xest.cli.options import options


def open_client(exchange: str, *, several: bool = False, public: bool = False) -> Any:
    """A :class:`xest.Client` for ``exchange`` honouring --url, --sim, --testnet, --no-cache and
    --account.

    ``public=True`` is for commands that read public data only: no account and no config file
    is read, so a broken config or an unset key variable cannot stop them. ``--sim`` uses the
    running simulator (``xest sim start``) when there is one, else starts one for this command.
    """
    import xest
    from xest.errors import UsageError

    opts = options()
    if opts.sim and opts.url:
        raise UsageError(
            "--sim and --url cannot be used together: --sim picks the local simulator, --url "
            "another server; give one of them"
        )
    if opts.sim and opts.testnet:
        raise UsageError("--sim and --testnet cannot be used together: give one of them")
    if opts.url and several:
        raise UsageError(
            "--url applies to one exchange: name just one, or set XEST_<NAME>_URL per exchange "
            "(e.g. XEST_KRAKEN_URL)"
        )
    if opts.sim:
        return _open_sim(exchange, public=public)
    return xest.open(
        exchange,
        opts.account,
        url=opts.url,
        testnet=opts.testnet,
        public=public,
        cache=not opts.no_cache,
    )


def _open_sim(exchange: str, *, public: bool) -> Any:
    """The running simulator of ``exchange`` if any, else one for this command only."""
    import xest
    from xest import registry
    from xest.cli import sim_state

    name = registry.connector_class(exchange).exchange
    opts = options()
    found = sim_state.find(name)
    if found is not None:
        streams = found.stream_urls or None  # its websockets too, when it serves them
        if public:
            return xest.open(
                name, url=found.url, public=True, cache=not opts.no_cache, stream_urls=streams
            )
        account, key, secret = found.credentials(opts.account)
        return xest.open(
            name, account, url=found.url, key=key, secret=secret, cache=False, stream_urls=streams
        )
    if not public:  # an account's orders and balances are what a later command would miss
        _say_ephemeral(name)
    return xest.open(name, opts.account, sim=True, public=public, cache=not opts.no_cache)


def _say_ephemeral(exchange: str) -> None:
    """Once per command: without a running simulator, --sim state ends with the command."""
    opts = options()
    if opts.said_ephemeral or (opts.json and not opts.progress):
        return
    opts.said_ephemeral = True
    click.echo(
        f"note: no {exchange} simulator is running, so this one lives for this command only "
        f"(orders and balances end with it); `xest sim start {exchange}` keeps one running",
        err=True,
    )


def exchanges_argument(func: Any) -> Any:
    from xest.cli.completion import complete_exchanges

    return click.argument(
        "exchanges",
        nargs=-1,
        required=True,
        metavar="EXCHANGE...",
        shell_complete=complete_exchanges,
    )(func)
