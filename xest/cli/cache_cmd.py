"""``xest cache info`` and ``xest cache clear``: the machine-wide response cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table


@click.group("cache")
def cache_group() -> None:
    """The response cache shared by every xest process on this machine (or, with
    XEST_STORE=redis://..., by every machine using that Redis)."""


@cache_group.command("info")
@global_options
def info() -> None:
    """Show where the cache is, how many answers it holds and its size on disk, and any
    exchange ban or Retry-After wait in force."""
    from xest.http import store

    shared = store.current()
    stats = shared.responses().info()
    restrictions = shared.restrictions(time.time())
    if options().json:
        print_json(
            {
                "location": str(stats.location),
                "entries": stats.entries,
                "size_bytes": stats.size,
                "restrictions": [
                    {**r, "until": datetime.fromtimestamp(r["until"], UTC)} for r in restrictions
                ],
            },
            "cache_info",
        )
        return
    print_table(
        ["location", "entries", "size"],
        [[stats.location, stats.entries, _human(stats.size)]],
    )
    for r in restrictions:
        until = datetime.fromtimestamp(r["until"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        what = "banned this IP" if r["kind"] == "banned" else "asked every process to wait"
        click.echo(f"{r['exchange']} ({r['host']}) {what} until {until}")


@cache_group.command("clear")
@global_options
def clear() -> None:
    """Remove every cached answer, and lift the bans and Retry-After waits an exchange recorded
    (rate-limit budgets and nonces are kept)."""
    from xest.http import store

    shared = store.current()
    cache = shared.responses()
    removed = cache.clear()
    location = cache.info().location
    lifted = shared.restrictions(time.time())
    shared.clear_restrictions()
    if options().json:
        print_json(
            {
                "location": str(location),
                "removed": removed,
                "lifted": [{**r, "until": datetime.fromtimestamp(r["until"], UTC)} for r in lifted],
            },
            "cache_clear",
        )
        return
    click.echo(f"removed {removed} cached answer{'s' if removed != 1 else ''} from {location}")
    for r in lifted:
        what = "ban" if r["kind"] == "banned" else "Retry-After wait"
        until = datetime.fromtimestamp(r["until"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(
            f"lifted the {what} {r['exchange']} ({r['host']}) set until {until}; "
            "the exchange itself may still refuse calls until then"
        )


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def register(cli: click.Group) -> None:
    cli.add_command(cache_group)
