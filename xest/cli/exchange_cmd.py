"""Reads of an exchange's own state: ``xest status`` and ``xest time``.

Both take several exchanges; when several are named, one that cannot be reached gets its row
(status ``unknown`` and the reason) instead of hiding the others, and the command then exits
non-zero. With one exchange, a failure is the usual one-line error.
"""

from __future__ import annotations

import sys

import click

from xest.cli.clients import exchanges_argument, open_client
from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table, to_jsonable


@click.command("status")
@exchanges_argument
@global_options
def status(exchanges: tuple[str, ...]) -> None:
    """Show whether each exchange is online."""
    from xest.errors import XestError

    rows, failed = [], False
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1) as client:
            try:
                st = client.status()
            except XestError as exc:
                if len(exchanges) == 1:
                    raise  # one exchange: the usual one-line error (traceback with --debug)
                failed = True
                rows.append(
                    {
                        "exchange": client.name,
                        "status": "unknown",
                        "message": "",
                        "updated": None,
                        "error": str(exc),
                    }
                )
                continue
            rows.append({"exchange": client.name, **to_jsonable(st), "error": None})
    if options().json:
        print_json(rows)
    else:
        print_table(
            ["exchange", "status", "message", "updated"],
            [
                [
                    r["exchange"],
                    r["status"],
                    r["error"] or r["message"] or None,
                    _parse_time(r["updated"]),
                ]
                for r in rows
            ],
        )
    if failed:
        sys.exit(1)  # the table shows what failed; click.Exit would not set the code


@click.command("time")
@exchanges_argument
@click.option(
    "--samples",
    type=click.IntRange(1, 20),
    default=4,
    show_default=True,
    help="At most this many clock readings per exchange (fewer once within 10 ms).",
)
@global_options
def time_(exchanges: tuple[str, ...], samples: int) -> None:
    """Show each exchange's clock: its last reading, the estimated time now, offset and error.

    The offset is the exchange's clock minus this machine's; the error bounds the estimate.
    A coarse clock (Kraken counts whole seconds) is read around its ticks, each reading
    halving the error, so this can take a second or two.
    """
    from xest.errors import XestError

    rows, failed = [], False
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1) as client:
            try:
                estimate = client.exchange.sync_clock(max_error=0.010, readings=samples)
                reading = client.exchange.last("time").value
            except XestError as exc:
                if len(exchanges) == 1:
                    raise  # one exchange: the usual one-line error (traceback with --debug)
                failed = True
                rows.append(
                    {
                        "exchange": client.name,
                        "server_time": None,
                        "estimated_now": None,
                        "offset_ms": None,
                        "error_ms": None,
                        "error": str(exc),
                    }
                )
                continue
            rows.append(
                {
                    "exchange": client.name,
                    "server_time": reading.time,
                    "estimated_now": estimate.time,
                    "offset_ms": round(estimate.offset * 1000, 1),
                    "error_ms": round(estimate.error * 1000, 1),
                    "error": None,
                }
            )
    if options().json:
        print_json(rows)
    else:
        print_table(
            ["exchange", "server time", "estimated now", "offset ms", "error ms"],
            [
                [
                    r["exchange"],
                    r["server_time"],
                    r["estimated_now"],
                    r["offset_ms"],
                    None if r["error_ms"] is None else f"±{r['error_ms']}",
                ]
                for r in rows
            ],
        )
        for r in rows:
            if r["error"]:
                click.echo(f"error: {r['error']}", err=True)
    if failed:
        sys.exit(1)  # the table shows what failed; click.Exit would not set the code


def _parse_time(value: str | None):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None


def register(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(time_)
