"""``xest web``: serve the dashboard on 127.0.0.1 with a random token, until Ctrl-C / SIGTERM."""

from __future__ import annotations

import errno
import secrets
import signal
import socket
import sys
import threading
import time
from typing import Any

import click

DEFAULT_PORT = 8750


@click.command("web")
@click.option(
    "--sim",
    is_flag=True,
    default=False,
    help="Run against the installed exchanges' simulators, with their demo accounts "
    "(no network, no exchange account).",
)
@click.option(
    "--host",
    metavar="ADDRESS",
    default=None,
    help="Listen on ADDRESS instead of 127.0.0.1. Anyone who reaches it with the token can "
    "trade on your accounts.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--exchange",
    "exchanges",
    metavar="NAME",
    multiple=True,
    help="Show only this exchange (repeatable; default: every installed one).",
)
@click.pass_context
def web(ctx: click.Context, sim: bool, host: str | None, port: int, exchanges: tuple[str, ...]):
    """Serve a live dashboard of exchanges, accounts, quotes, orders and markets.

    It prints the URL to open, which carries a random token: the dashboard can place orders,
    so keep that URL to yourself. Ctrl-C stops it (agents stopped, simulators closed).
    """
    from xest_web.hub import Hub

    root = ctx.find_root().obj
    sim = sim or bool(getattr(root, "sim", False))  # `xest --sim web` means the same
    bind = host or "127.0.0.1"
    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}, not only on this machine: anyone who can reach "
            "it and learns the token can see your balances and trade. Prefer an SSH tunnel.",
            err=True,
        )
    sock = _listen(bind, port)
    names = tuple(e.lower() for e in exchanges) or None
    hub = Hub.simulated_exchanges(names) if sim else Hub.configured(names)
    try:
        for problem in hub.problems:
            click.echo(f"warning: {problem}", err=True)
        hub.start(wait=True)
        token = secrets.token_urlsafe(32)
        shown = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
        shown = f"[{shown}]" if ":" in shown else shown
        what = "the simulators" if sim else "your configured exchanges"
        click.echo(f"xest web: dashboard of {what} ({', '.join(hub.exchanges) or 'none'})")
        click.echo(f"open: http://{shown}:{sock.getsockname()[1]}/?token={token}")
        click.echo("Ctrl-C to stop", err=True)
        _serve(hub, sock, token, _names(bind) if host else [])
    finally:
        hub.close()
        sock.close()
    left = _threads_left()
    if left:
        click.echo(f"warning: threads still running: {', '.join(left)}", err=True)
    click.echo("xest web stopped: agents stopped, simulators closed", err=True)


def _names(bind: str) -> list[str]:
    """The host names a browser may use to reach ``bind`` (all of this machine's, when it is a
    wildcard address); any other ``Host`` is refused."""
    if bind not in ("0.0.0.0", "::"):
        return [bind]
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(names)


def _listen(host: str, port: int) -> socket.socket:
    from xest.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is in use: pick another with --port (0: any free one)"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _serve(hub: Any, sock: socket.socket, token: str, hosts: list[str]) -> None:
    import uvicorn

    from xest_web.app import create_app

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            hub.notifier.close()  # end the event streams now, so shutdown does not wait
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        create_app(hub, token=token, hosts=hosts),
        log_level="warning",
        access_log=False,  # request lines carry the token on first load: never logged
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    # uvicorn re-raises the signal that stopped it once it is done; make SIGTERM an ordinary
    # exit then, so the hub is closed on the way out instead of the process being killed.
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit(*_: object) -> None:
    sys.exit(0)


# The transport's one process-wide deadline timer (xest.http.deadline): idle, not ours to stop.
_PROCESS_THREADS = frozenset({"xest-deadlines"})


def _threads_left(grace: float = 3.0) -> list[str]:
    """Threads other than this one (and the transport's process-wide timer) still alive after
    ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while True:
        left = [
            t
            for t in threading.enumerate()
            if t is not threading.current_thread() and t.name not in _PROCESS_THREADS
        ]
        if not left or time.monotonic() > deadline:
            return [t.name for t in left]
        time.sleep(0.05)
