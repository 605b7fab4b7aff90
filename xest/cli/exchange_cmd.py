"""Reads of an exchange's own state: ``xest status`` and ``xest time``."""

from __future__ import annotations

import click

from xest.cli.clients import exchanges_argument, open_client
from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table


@click.command("status")
@exchanges_argument
@global_options
def status(exchanges: tuple[str, ...]) -> None:
    """Show whether each exchange is online."""
    results = []
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1) as client:
            results.append((client.name, client.status()))
    if options().json:
        print_json([{"exchange": ex, **_dump(st)} for ex, st in results])
        return
    print_table(
        ["exchange", "status", "message", "updated"],
        [[ex, st.status, st.message or None, st.updated] for ex, st in results],
    )


@click.command("time")
@exchanges_argument
@global_options
def time_(exchanges: tuple[str, ...]) -> None:
    """Show each exchange's clock: its reading, our estimate, offset and error."""
    rows = []
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1) as client:
            reading = client.server_time()
            estimate = client.clock.now()
            rows.append(
                {
                    "exchange": client.name,
                    "server_time": reading.time,
                    "estimated_now": estimate.time,
                    "offset_ms": round(estimate.offset * 1000, 1),
                    "error_ms": round(estimate.error * 1000, 1),
                }
            )
    if options().json:
        print_json(rows)
        return
    print_table(
        ["exchange", "server time", "estimated now", "offset ms", "error ms"],
        [list(r.values()) for r in rows],
    )


def _dump(value: object) -> dict:
    from xest.cli.output import to_jsonable

    return to_jsonable(value)


def register(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(time_)
