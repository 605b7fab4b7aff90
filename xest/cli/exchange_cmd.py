"""Reads of an exchange's own state: ``xest status`` and ``xest time``.

Both take several exchanges and read public data only (no account, no config file). One that
cannot be reached gets its row (status ``unknown``, and in JSON an ``error`` object) instead of
hiding the others; under ``--json`` this holds for one exchange too (the same document
shape). The command then exits with the code of the first failure's kind (see
:mod:`xest.cli.exits`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from xest.cli.clients import exchanges_argument, open_client
from xest.cli.options import global_options, options
from xest.cli.output import milliseconds, print_json, print_table, to_jsonable
from xest.cli.progress import waiting


@click.command("status")
@exchanges_argument
@global_options
def status(exchanges: tuple[str, ...]) -> None:
    """Show whether each exchange is online."""
    from xest.errors import XestError

    rows, failures = [], []
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1, public=True) as client:
            try:
                st = client.status()
            except XestError as exc:
                if len(exchanges) == 1 and not options().json:
                    raise  # one exchange, for people: the usual one-line error
                failures.append(exc)
                rows.append(
                    {
                        "exchange": client.name,
                        "status": "unknown",
                        "message": "",
                        "updated": None,
                        "error": _error(exc),
                    }
                )
                continue
            rows.append({"exchange": client.name, **to_jsonable(st), "error": None})
    if options().json:
        print_json(rows, "status")
    else:
        print_table(
            ["exchange", "status", "message", "updated"],
            [
                [
                    r["exchange"],
                    r["status"],
                    r["error"]["message"] if r["error"] else r["message"] or None,
                    _parse_time(r["updated"]),
                ]
                for r in rows
            ],
        )
    _exit_for(failures)


def _error(exc: BaseException) -> dict[str, Any]:
    from xest.cli.exits import error_object

    return error_object(exc)


def _exit_for(failures: Sequence[BaseException]) -> None:
    """Exit with the first failure's code; the rows already say what failed."""
    if failures:
        from xest.cli.exits import code_for

        if options().debug:
            import traceback

            traceback.print_exception(failures[0])
        sys.exit(code_for(failures[0]))


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

    rows, failures = [], []
    for name in exchanges:
        with open_client(name, several=len(exchanges) > 1, public=True) as client:
            try:
                with waiting(f"reading {client.name}'s clock", expected=samples * 0.5):
                    estimate = client.exchange.sync_clock(max_error=0.010, readings=samples)
                reading = client.exchange.last("time").value
            except XestError as exc:
                if len(exchanges) == 1 and not options().json:
                    raise  # one exchange, for people: the usual one-line error
                failures.append(exc)
                rows.append(
                    {
                        "exchange": client.name,
                        "server_time": None,
                        "estimated_now": None,
                        "offset_ms": None,
                        "error_ms": None,
                        "error": _error(exc),
                    }
                )
                continue
            rows.append(
                {
                    "exchange": client.name,
                    "server_time": reading.time,
                    "estimated_now": estimate.time,
                    "offset_ms": milliseconds(estimate.offset),
                    "error_ms": milliseconds(estimate.error),
                    "error": None,
                }
            )
    if options().json:
        print_json(rows, "time")
    else:
        print_table(
            ["exchange", "server time", "estimated now", "offset ms", "error ms"],
            [
                [
                    r["exchange"],
                    r["server_time"],
                    r["estimated_now"],
                    None if r["offset_ms"] is None else f"{r['offset_ms']:.1f}",
                    None if r["error_ms"] is None else f"±{r['error_ms']:.1f}",
                ]
                for r in rows
            ],
        )
        for r in rows:
            if r["error"]:
                click.echo(f"error: {r['exchange']}: {r['error']['message']}", err=True)
    _exit_for(failures)


def _parse_time(value: str | None):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None


def register(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(time_)
