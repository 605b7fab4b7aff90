"""``xest sim EX``: run an exchange's simulator standalone on 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
from pathlib import Path

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
    env_file = _demo_env_file(exchange, server)
    if env_file is not None:
        click.echo(
            f"demo account: `source {env_file}` (simulator-only keys, a 0600 file removed on "
            f"exit), then e.g. xest balance {exchange} --url {server.url}"
        )
    # A TERM (kill, a service manager) stops it as cleanly as Ctrl-C, removing the file.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        if env_file is not None:
            env_file.unlink(missing_ok=True)
    click.echo("simulator stopped")


def _demo_env_file(exchange: str, server: object) -> Path | None:
    """Write the simulator's demo credentials where only this user can read them.

    They open nothing but this simulator; still, keys are never printed, on principle.
    """
    demo = getattr(server, "demo_credentials", None)
    if demo is None:
        return None
    key, secret = demo()
    prefix = f"XEST_{exchange.upper().replace('-', '_')}"
    fd, name = tempfile.mkstemp(prefix=f"xest-sim-{exchange}-", suffix=".env")  # mode 0600
    with os.fdopen(fd, "w") as f:
        f.write(f"export {prefix}_KEY={shlex.quote(key)}\n")
        f.write(f"export {prefix}_SECRET={shlex.quote(secret)}\n")
    return Path(name)


def register(cli: click.Group) -> None:
    cli.add_command(sim)
