"""``xest new-connector NAME``: write a new connector distribution to start from."""

from __future__ import annotations

from pathlib import Path

import click

from xest.cli.options import global_options


@click.command("new-connector")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write it (default: ./xest-NAME).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist there.")
@global_options
def new_connector(name: str, directory: Path | None, force: bool) -> None:
    """Write a connector distribution for exchange NAME: it installs, is listed, and passes the
    conformance suite against its own simulator as generated; the places to fill with the real
    exchange's facts are marked TODO(xest). See CONTRIBUTING.md for the layout."""
    from xest import scaffold

    dist = scaffold.names(name)["dist"]
    target = directory if directory is not None else Path.cwd() / dist
    written = scaffold.write(name, target, force=force)
    click.echo(f"wrote {dist} ({len(written)} files) in {target}")
    click.echo("next:")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  xest conformance {name}")
    click.echo(f"  grep -rn 'TODO(xest)' {target}")


def register(cli: click.Group) -> None:
    cli.add_command(new_connector)
