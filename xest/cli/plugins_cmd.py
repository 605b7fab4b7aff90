"""``xest plugins list``: what is installed, what it provides, and what failed to load."""

from __future__ import annotations

import click

from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table


def plugin_rows() -> list[dict]:
    # From the plugin index: valid while the installation is unchanged, so listing imports no
    # connector (see xest.plugin_index).
    from xest import plugin_index

    index = plugin_index.current()
    assert index is not None
    return [dict(row) for row in index.rows]


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins."""


@plugins_group.command("list")
@global_options
def list_plugins() -> None:
    """List plugins: distribution, version, hooks, exchanges and their capabilities."""
    rows = plugin_rows()
    if options().json:
        print_json(rows, "plugins")
        return
    if not rows:
        click.echo("no plugins installed (pip install xest-kraken, or check XEST_PLUGINS)")
        return
    print_table(
        ["name", "distribution", "version", "status", "hooks", "exchanges"],
        [
            [
                r["name"],
                r["distribution"],
                r["version"],
                r["status"],
                r["hooks"],
                [c["exchange"] for c in r["connectors"]],
            ]
            for r in rows
        ],
    )
    for r in rows:
        for c in r["connectors"]:
            click.echo(f"\n{c['exchange']}: {', '.join(c['capabilities'])}")
        if r["error"]:
            click.echo(f"\n{r['name']} {r['status']}: {r['error']}")


def register(cli: click.Group) -> None:
    cli.add_command(plugins_group)
