"""The startup floor: the least a click + pluggy command line does, to compare xest against.

``--version`` and ``--help`` of a group with a few commands; ``plugins list`` reads the ``xest``
entry points (importlib.metadata), loads each into a pluggy manager and prints its
distribution, version and hooks, as any pluggy-based tool does to list its plugins.
"""

from __future__ import annotations

import click
import pluggy


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="floor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def cli(as_json: bool) -> None:
    """floor: a click + pluggy command line."""


@cli.command()
def status() -> None:
    """Show whether each exchange is online."""


@cli.command()
def ticker() -> None:
    """Show the best bid and ask."""


@cli.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
def list_plugins() -> None:
    """List plugins: distribution, version, hooks."""
    from importlib.metadata import entry_points

    manager = pluggy.PluginManager("xest")
    for ep in entry_points(group="xest"):
        module = ep.load()
        manager.register(module, name=ep.name)
        hooks = sorted(h.name for h in manager.get_hookcallers(module) or ())
        name, version = (ep.dist.name, ep.dist.version) if ep.dist else ("?", "?")
        click.echo(f"{ep.name} {name} {version} {hooks}")


if __name__ == "__main__":
    cli()
