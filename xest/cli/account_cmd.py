"""An account's own data: ``xest balance``, ``xest orders``, ``xest my-trades``.

The account is ``--account NAME`` (see ``xest accounts list``), else the exchange's default
account, else, with ``--sim``, the simulator's demo account.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from xest.cli.clients import open_client
from xest.cli.completion import complete_exchanges, complete_symbols
from xest.cli.market_cmd import unified
from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table

_DATES = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


def account_label(client) -> str:
    credentials = client.connector.credentials
    return f"{client.name}:{credentials.account}" if credentials else client.name


@click.command("balance")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.option("--all", "show_all", is_flag=True, help="Include assets with a zero balance.")
@global_options
def balance(exchange: str, show_all: bool) -> None:
    """Show the account's balances: free, locked in orders, and total."""
    with open_client(exchange) as client:
        balances = client.balances()
        label = account_label(client)
    rows = sorted(balances.values(), key=lambda b: b.asset)
    if not show_all:
        rows = [b for b in rows if b.total != 0]
    if options().json:
        print_json({b.asset: b for b in rows}, "balance")
        return
    if not rows:
        click.echo(f"{label}: no balances (use --all to list empty assets)")
        return
    print_table(
        ["asset", "free", "locked", "total", "note"],
        [[b.asset, b.free, b.locked, b.total, b.note or None] for b in rows],
    )


@click.command("orders")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", required=False, callback=unified, shell_complete=complete_symbols)
@click.option("--closed", is_flag=True, help="Show closed (final) orders instead of open ones.")
@click.option("--since", type=_DATES, help="With --closed: orders since this UTC time.")
@global_options
def orders(exchange: str, symbol: str | None, closed: bool, since: datetime | None) -> None:
    """Show the account's open orders (of SYMBOL only, if given)."""
    with open_client(exchange) as client:
        if closed:
            found = client.closed_orders(symbol, since.replace(tzinfo=UTC) if since else None)
        else:
            found = client.open_orders(symbol)
        label = account_label(client)
    if options().json:
        print_json(found, "orders")
        return
    if not found:
        click.echo(f"{label}: no {'closed' if closed else 'open'} orders")
        return
    print_table(
        [
            "id",
            "client id",
            "symbol",
            "side",
            "type",
            "price",
            "amount",
            "filled",
            "status",
            "created",
        ],
        [
            [
                o.id,
                o.client_id,
                o.symbol,
                o.side,
                o.type,
                o.price,
                o.amount,
                o.filled,
                o.status,
                o.created,
            ]
            for o in found
        ],
    )


@click.command("my-trades")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", required=False, callback=unified, shell_complete=complete_symbols)
@click.option("--since", type=_DATES, help="Fills since this UTC time.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N fills (the latest).")
@global_options
def my_trades(exchange: str, symbol: str | None, since: datetime | None, limit: int | None) -> None:
    """Show the account's fills (of SYMBOL only, if given), oldest first."""
    with open_client(exchange) as client:
        found = client.my_trades(symbol, since.replace(tzinfo=UTC) if since else None, limit)
        label = account_label(client)
    found = sorted(found, key=lambda t: t.timestamp)
    if limit is not None:  # from --since: the first N; else the latest N
        found = found[:limit] if since else found[-limit:]
    if options().json:
        print_json(found, "my_trades")
        return
    if not found:
        click.echo(f"{label}: no trades")
        return
    print_table(
        ["time", "id", "order", "symbol", "side", "price", "amount", "fee"],
        [
            [
                t.timestamp,
                t.id,
                t.order_id,
                t.symbol,
                t.side,
                t.price,
                t.amount,
                f"{t.fee} {t.fee_asset or ''}".strip() if t.fee is not None else None,
            ]
            for t in found
        ],
    )


def register(cli: click.Group) -> None:
    for command in (balance, orders, my_trades):
        cli.add_command(command)
