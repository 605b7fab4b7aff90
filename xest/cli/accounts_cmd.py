"""``xest accounts list`` and ``xest config path``: which accounts exist, never their secrets."""

from __future__ import annotations

import os

import click

from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table


@click.group("accounts")
def accounts_group() -> None:
    """Named accounts: names, exchanges, where the keys come from."""


@accounts_group.command("list")
@click.argument("exchange", required=False)
@global_options
def list_accounts(exchange: str | None) -> None:
    """List accounts: name, exchange, where the secret comes from. Secrets are never shown."""
    from xest import accounts, registry

    if exchange:
        found = accounts.accounts(exchange.lower())
    else:  # config accounts of every exchange; environment ones of the installed exchanges
        found = accounts.accounts(exchanges=tuple(registry.exchange_names()))
    rows = [
        {
            "name": a.name,
            "exchange": a.exchange,
            "default": a.default or a.source == "environment",
            "key": f"env:{a.key_env}" if a.key_env else ("inline" if a.key else "missing"),
            "secret": a.secret_source,
            "ready": _ready(a),
            "source": a.source,
        }
        for a in found
    ]
    if options().json:
        print_json(rows, "accounts")
        return
    if not rows:
        path = accounts.config_path()
        example = exchange or next(iter(sorted(registry.connectors())), "kraken")
        click.echo(
            f"no accounts: add [accounts.NAME] with exchange, key_env and secret_env to {path}, "
            f"or set {accounts.env_name(example, 'KEY')} and "
            f"{accounts.env_name(example, 'SECRET')} (any exchange: XEST_NAME_KEY, _SECRET)"
        )
        return
    print_table(
        ["name", "exchange", "default", "key", "secret", "ready", "source"],
        [
            [
                r["name"],
                r["exchange"],
                "yes" if r["default"] else "",
                r["key"],
                r["secret"],
                r["ready"],
                r["source"],
            ]
            for r in rows
        ],
    )


def _ready(account) -> str:
    """``yes``, or what is missing (an unset variable's name; never a value)."""
    from xest.errors import ConfigError

    try:
        account.credentials()
    except ConfigError:
        missing = [
            f"${name}"
            for name in (account.key_env, account.secret_env)
            if name and not os.environ.get(name)
        ]
        return f"no: {' '.join(missing)} not set" if missing else "no: key or secret missing"
    return "yes"


@click.group("config")
def config_group() -> None:
    """The configuration file."""


@config_group.command("path")
@global_options
def config_path() -> None:
    """Print where the config file is (XEST_CONFIG, else the user config directory)."""
    from xest import accounts

    path = accounts.config_path()
    if options().json:
        print_json({"path": str(path), "exists": path.exists()}, "config_path")
        return
    click.echo(str(path))


def register(cli: click.Group) -> None:
    cli.add_command(accounts_group)
    cli.add_command(config_group)
