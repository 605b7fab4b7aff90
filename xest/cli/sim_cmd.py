"""``xest sim``: the exchanges' simulators, alive for longer than one command.

``xest sim kraken`` runs one in the foreground (Ctrl-C stops it); ``xest sim start`` runs them
in the background; ``xest sim status`` and ``xest sim stop`` find them through their state files
under the xest home. While one runs, ``--sim`` uses it: orders placed by one command are there
for the next. ``xest sim price|fill|maintenance|skew`` drive a running simulator.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

import click

from xest.cli.options import AMOUNT, SIGNED, DefaultGroup, NumbersCommand, global_options, options
from xest.cli.output import document, print_json, print_table

_START_TIMEOUT = 20.0  # seconds for a background simulator to announce itself


@click.group("sim", cls=DefaultGroup, default="run")
@global_options
def sim_group() -> None:
    """Local simulators of the exchanges (no network, funded demo accounts alice and bob).

    \b
    xest sim kraken            run in the foreground until Ctrl-C
    xest sim start [EXCHANGE]  run in the background (every simulator when none is named)
    xest sim status            what runs, where, with which demo accounts
    xest sim stop [EXCHANGE]   stop them
    xest sim price kraken BTC/USD 30000     move a price (crossed orders fill)
    xest sim fill kraken ORDER_ID [AMOUNT]  fill (or partly fill) a resting order
    xest sim maintenance kraken on|off      the exchange's status
    xest sim skew kraken -2.5               the exchange's clock, seconds ahead of ours
    """


def _exchanges(names: tuple[str, ...]) -> list[str]:
    from xest import registry

    available = sorted(registry.simulators())
    if not names:
        return available
    for name in names:
        registry.simulator_factory(name)  # a clear error for an unknown one
    return [n.lower() for n in names]


@sim_group.command("run")
@click.argument("exchanges", nargs=-1, required=True, metavar="EXCHANGE...")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on (0 picks a free one; one exchange only).",
)
@global_options
def run(exchanges: tuple[str, ...], port: int) -> None:
    """Run EXCHANGE's simulator on 127.0.0.1 until Ctrl-C (or `xest sim stop`)."""
    from xest import facade, registry
    from xest.cli import sim_state
    from xest.cli.sim_control import ControlServer
    from xest.errors import UsageError

    names = _exchanges(exchanges)
    if port and len(names) > 1:
        raise UsageError("--port applies to one exchange: name just one")
    for name in names:
        found = sim_state.find(name)
        if found is not None:
            raise UsageError(
                f"a {name} simulator already runs at {found.url} (pid {found.pid}); "
                f"stop it with `xest sim stop {name}`"
            )
    servers = {name: registry.simulator_factory(name)(port=port).start() for name in names}
    token = secrets.token_urlsafe(24)
    control = ControlServer(servers, token).start()
    for name, server in servers.items():
        streams = server.stream_urls() if hasattr(server, "stream_urls") else None
        sim_state.write(name, server.url, control.url, token, facade.demo_accounts(server), streams)
    # A TERM (`xest sim stop`, a service manager) stops it as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for name, server in servers.items():
            accounts = ", ".join(facade.demo_accounts(server)) or "none"
            if options().json:
                # One line per simulator (JSON lines): a script reads it as it starts.
                click.echo(json.dumps(document("sim_started", _row(sim_state.find(name)))))
            else:
                click.echo(f"{name} simulator listening on {server.url}, demo accounts: {accounts}")
        if not options().json:
            first = names[0]
            click.echo(
                f"try: xest --sim balance {first} --account bob (in another terminal); "
                "Ctrl-C to stop"
            )
        sys.stdout.flush()
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for name, server in servers.items():
            sim_state.remove(name, os.getpid())
            server.stop()
        control.stop()
    if not options().json:
        click.echo("simulator stopped", err=True)


def _row(found: Any) -> dict[str, Any]:
    return {
        "exchange": found.exchange,
        "url": found.url,
        "pid": found.pid,
        "accounts": list(found.accounts),
        "started": found.started,
    }


@sim_group.command("start")
@click.argument("exchanges", nargs=-1, metavar="[EXCHANGE]...")
@global_options
def start(exchanges: tuple[str, ...]) -> None:
    """Start simulators in the background (every installed one when none is named)."""
    from xest.cli import sim_state

    rows = []
    for name in _exchanges(exchanges):
        found = sim_state.find(name) or _spawn(name)
        rows.append(_row(found))
    if options().json:
        print_json(rows, "sim_status")
        return
    _table(rows)
    click.echo(
        "--sim now uses these (e.g. xest --sim balance kraken --account bob); "
        "`xest sim stop` stops them",
        err=True,
    )


def _spawn(name: str) -> Any:
    from xest.cli import sim_state
    from xest.errors import ExchangeUnavailable

    log = sim_state.sim_dir() / f"{name}.log"
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "xest", "sim", "run", name],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # outlives this command and its terminal's Ctrl-C
            close_fds=True,
        )
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        found = sim_state.find(name)
        if found is not None and found.pid == child.pid:
            return found
        if child.poll() is not None:
            break
        time.sleep(0.05)
    if child.poll() is None:
        child.terminate()
    raise ExchangeUnavailable(
        f"the {name} simulator did not start; see {log}", exchange=name, code="sim_start"
    )


@sim_group.command("status")
@global_options
def status() -> None:
    """Show the running simulators: exchange, URL, process, demo accounts."""
    from xest.cli import sim_state

    rows = [_row(found) for found in sim_state.running()]
    if options().json:
        print_json(rows, "sim_status")
        return
    if not rows:
        click.echo("no simulator is running; start them with `xest sim start`")
        return
    _table(rows)


def _table(rows: list[dict[str, Any]]) -> None:
    print_table(
        ["exchange", "url", "pid", "demo accounts"],
        [[r["exchange"], r["url"], r["pid"], ", ".join(r["accounts"])] for r in rows],
    )


@sim_group.command("stop")
@click.argument("exchanges", nargs=-1, metavar="[EXCHANGE]...")
@global_options
def stop(exchanges: tuple[str, ...]) -> None:
    """Stop running simulators (every one when none is named)."""
    from xest.cli import sim_state

    targets = (
        [f for n in exchanges if (f := sim_state.find(n.lower())) is not None]
        if exchanges
        else sim_state.running()
    )
    stopped = []
    for found in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(found.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while sim_state.alive(found.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        sim_state.remove(found.exchange, found.pid)
        stopped.append(found.exchange)
    if options().json:
        print_json({"stopped": stopped}, "sim_stop")
        return
    if not stopped:
        click.echo("no simulator was running")
        return
    click.echo(f"stopped: {', '.join(stopped)}")


# -- controls ------------------------------------------------------------------------------------


def _running(exchange: str) -> Any:
    from xest.cli import sim_state
    from xest.errors import ConfigError

    found = sim_state.find(exchange.lower())
    if found is None:
        raise ConfigError(
            f"no {exchange} simulator is running: start one with `xest sim start {exchange}`",
            exchange=exchange.lower(),
            code="sim_not_running",
        )
    return found


def _market_id(found: Any, symbol: str) -> str:
    """The simulator's own id of ``symbol`` (BTC/USD → XXBTZUSD on Kraken)."""
    import xest

    with xest.open(found.exchange, url=found.url, public=True) as client:
        return client.market(symbol.upper() if "/" in symbol else symbol).id


def _done(found: Any, action: str, result: dict[str, Any], text: str) -> None:
    if options().json:
        print_json({"exchange": found.exchange, "action": action, **result}, "sim_control")
    else:
        click.echo(f"{found.exchange} simulator: {text}")


@sim_group.command("price", cls=NumbersCommand)
@click.argument("exchange")
@click.argument("symbol")
@click.argument("price", type=AMOUNT)
@global_options
def price(exchange: str, symbol: str, price: Decimal) -> None:
    """Move SYMBOL's price to PRICE; resting orders the new book crosses fill."""
    from xest.cli.sim_control import send

    found = _running(exchange)
    result = send(found, "price", {"market": _market_id(found, symbol), "price": str(price)})
    _done(found, "price", result, f"{symbol.upper()} now trades around {price:f}")


@sim_group.command("fill", cls=NumbersCommand)
@click.argument("exchange")
@click.argument("order_id")
@click.argument("amount", type=AMOUNT, required=False)
@global_options
def fill(exchange: str, order_id: str, amount: Decimal | None) -> None:
    """Fill a resting limit order at its price: all of it, or AMOUNT of it."""
    from xest.cli.sim_control import send

    found = _running(exchange)
    body = {"order": order_id, "amount": None if amount is None else str(amount)}
    result = send(found, "fill", body)
    what = "filled" if amount is None else f"{amount:f} filled"
    _done(found, "fill", result, f"order {order_id} {what}")


@sim_group.command("maintenance")
@click.argument("exchange")
@click.argument("state", type=click.Choice(["on", "off"]))
@global_options
def maintenance(exchange: str, state: str) -> None:
    """Put the exchange in maintenance (on) or back online (off)."""
    from xest.cli.sim_control import send

    found = _running(exchange)
    status_ = "maintenance" if state == "on" else "online"
    result = send(found, "status", {"status": status_})
    _done(found, "status", result, f"status {status_}")


@sim_group.command("skew", cls=NumbersCommand)
@click.argument("exchange")
@click.argument("seconds", type=SIGNED)
@global_options
def skew(exchange: str, seconds: Decimal) -> None:
    """Set the exchange's clock SECONDS ahead of ours (negative: behind)."""
    from xest.cli.sim_control import send

    found = _running(exchange)
    result = send(found, "skew", {"seconds": float(seconds)})
    _done(found, "skew", result, f"clock {float(seconds):+g} s from ours")


def register(cli: click.Group) -> None:
    cli.add_command(sim_group)
