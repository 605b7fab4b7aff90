"""``xest sim EX``: run an exchange's simulator standalone on 127.0.0.1."""

from __future__ import annotations

import click

from xest.cli.options import global_options


@click.command("sim")
@click.argument("exchange")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@global_options
def sim(exchange: str, port: int) -> None:
    """Run EXCHANGE's simulator on 127.0.0.1 until Ctrl-C."""
    from xest import registry

    server = registry.simulator_factory(exchange)(port=port).start()
    click.echo(f"{exchange} simulator listening on {server.url} (Ctrl-C to stop)")
    click.echo(f"try: xest status {exchange} --url {server.url}")
    server.serve_forever()
    click.echo("simulator stopped")


def register(cli: click.Group) -> None:
    cli.add_command(sim)
