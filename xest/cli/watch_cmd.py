"""``xest watch EX``: a live view of an exchange and an account, refreshed every second.

The agents poll in the background (status, clock, balances, open orders); the view only reads
their state, so the server clock ticks between polls from the remote-clock estimate, and a
silent exchange turns ``unknown`` instead of staying ``online``. Ctrl-C exits cleanly.
With ``--json`` it prints one JSON object per refresh (JSON lines).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

from xest.cli.clients import open_client
from xest.cli.completion import complete_exchanges
from xest.cli.options import global_options, options
from xest.cli.output import _cell, document, format_table, milliseconds

_POLL_DEFAULT = 2.0  # seconds between market polls when polling (forced or as a fallback)
_HOME, _CLEAR_LINE, _CLEAR_BELOW, _CLEAR_SCREEN = "\x1b[H", "\x1b[K", "\x1b[J", "\x1b[2J"
_sleep = time.sleep  # tests replace it


def _isatty() -> bool:
    return sys.stdout.isatty()


@click.command("watch")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Seconds between refreshes of the view.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    is_flag=False,
    flag_value=_POLL_DEFAULT,
    help="Poll instead of streaming, every SECONDS (given alone: 2; also the pace of the "
    "status, clock and account polls, default 5 and the account agent's own).",
)
@click.option(
    "--symbol",
    "symbols",
    multiple=True,
    help="Also show this market's ticker and book, streamed when the exchange offers streams "
    "(repeatable).",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1, max=50),
    default=5,
    show_default=True,
    help="Book levels shown per side with --symbol.",
)
@click.option("--iterations", type=click.IntRange(min=1), default=None, hidden=True)
@global_options
def watch(
    exchange: str,
    refresh: float,
    poll: float | None,
    symbols: tuple[str, ...],
    depth: int,
    iterations: int | None,
) -> None:
    """Watch EXCHANGE live: status, server clock, balances and open orders (Ctrl-C to quit).

    Give --account NAME to watch one account (see `xest accounts list`); with --sim the
    simulator's demo account is used. --symbol SYMBOL adds a market's ticker and book.
    """
    opts = options()
    tty = _isatty() and not opts.json
    interrupted = False
    with _open(exchange) as client:
        # The clock every 5 s too: on a coarse clock (Kraken) each reading halves the error.
        agent = client.exchange.configure(status_interval=poll or 5.0, time_interval=poll or 5.0)
        account = _account_agent(client, poll)
        markets = [
            client.market_agent(
                s, depth=depth, interval=poll or _POLL_DEFAULT, poll=poll is not None
            )
            for s in symbols
        ]
        try:
            agent.start(wait=False)
            if account is not None:
                account.start(wait=False)
            for market in markets:
                market.start(wait=False)
            from xest.cli.progress import waiting

            with waiting(f"the first readings from {client.name}", expected=10):
                _first_round(agent, account, *markets)
            count = 0
            while True:
                frame = _frame(client, agent, account)
                if markets:
                    frame["markets"] = [_market_frame(m) for m in markets]
                    frame["events"] = _merge_events(frame["events"], markets)
                _show(frame, opts.json, tty, first=count == 0)
                count += 1
                if iterations is not None and count >= iterations:
                    break
                _sleep(refresh)
        except KeyboardInterrupt:
            interrupted = True
            # Quit now, even with a poll out to a hanging exchange: the threads are daemons,
            # so they need not be waited for long.
            for running in (*markets, account, agent):
                if running is not None:
                    running.stop(timeout=0.5)
    if interrupted and not opts.json:
        click.echo("\nstopped", err=True)


def _open(exchange: str) -> Any:
    """The account's client when one is named or configured; otherwise (or when the default
    account cannot be used: an unset key variable, a broken config) the public view, with a
    note. An explicitly named account must work."""
    from xest.errors import ConfigError

    if options().account is not None:
        return open_client(exchange)
    try:
        return open_client(exchange)
    except ConfigError as exc:
        if not options().json:
            click.echo(f"note: watching public state only; the account: {exc}", err=True)
        return open_client(exchange, public=True)


def _show(frame: dict[str, Any], as_json: bool, tty: bool, *, first: bool) -> None:
    if as_json:
        click.echo(json.dumps(document("watch", frame)))
    elif tty:
        # Redraw in place (home, each line cleared to its end, then the rest of the screen)
        # rather than clear-then-draw, which flickers.
        lines = [line + _CLEAR_LINE for line in _render(frame)]
        text = (_CLEAR_SCREEN if first else "") + _HOME + "\n".join(lines) + "\n" + _CLEAR_BELOW
        click.echo(text, nl=False, color=True)  # keep the escapes: we know it is a terminal
    else:
        click.echo("\n".join(_render(frame)) + "\n")


def _account_agent(client: Any, poll: float | None) -> Any:
    """The account agent when the client has credentials and the connector reads balances."""
    if client.connector.credentials is None or "balances" not in client.capabilities:
        return None
    agent = client.account
    if poll is not None:
        for task in agent.tasks:
            agent.set_interval(task, poll)
    return agent


def _first_round(*agents: Any, timeout: float = 10.0) -> None:
    """Wait (bounded) until each agent polled once, so the first frame is not all unknown."""
    deadline = time.monotonic() + timeout
    for agent in agents:
        if agent is None:
            continue
        for task in agent.tasks:
            while agent.last(task, ok=False) is None and time.monotonic() < deadline:
                time.sleep(0.02)


def _frame(client: Any, agent: Any, account: Any) -> dict[str, Any]:
    state = agent.state()
    frame: dict[str, Any] = {
        "exchange": client.name,
        "url": client.url,
        "at": datetime.now(UTC),
        "status": state.status,
        "since": state.since,
        "stale": state.stale,
        "last_error": state.last_error,
        "server_time": state.server_time,
        "error_ms": milliseconds(state.error),
        "offset_ms": milliseconds(state.offset),
        "checked": state.checked,
    }
    if account is not None:
        balances = account.balances
        frame["account"] = client.connector.credentials.account
        frame["balances"] = (
            None if balances is None else [b for _, b in sorted(balances.items()) if b.total != 0]
        )
        frame["balances_at"] = account.balances_at
        frame["open_orders"] = [getattr(o, "snapshot", o) for o in account.open_orders]
        frame["account_stale"] = any(account.is_stale(t) for t in account.tasks)
        failed = [account.last(t, ok=False) for t in account.tasks]
        errors = [str(o.error) for o in failed if o is not None and not o.ok]
        frame["account_error"] = errors[0] if errors else None
    # The agents' memory: the latest changes they noticed, oldest first.
    events = [*agent.events(), *(account.events() if account is not None else ())]
    frame["events"] = [
        {"at": e.at, "source": e.source, "kind": e.kind, "text": describe(e)}
        for e in sorted(events, key=lambda e: e.at)[-_EVENTS:]
    ]
    return frame


_EVENTS = 6  # events shown


def describe(event: Any) -> str:
    """One short line for an event, whatever its kind (never a secret: events hold none)."""
    old, new, data = event.old, event.new, event.data
    if event.kind == "poll_failed":
        return f"{data.get('task')} poll failed: {new}"[:120]
    if event.kind == "poll_recovered":
        return f"{data.get('task')} answers again after {old} failed poll(s)"
    if event.kind == "clock_jump":
        return f"clock offset {old * 1000:+.1f} → {new * 1000:+.1f} ms"
    if event.kind == "source":
        return f"{data.get('task')} now {new}" + (f" (was {old})" if old else "")
    if event.kind.startswith("stream_"):
        reason = data.get("reason")
        return f"{data.get('task')} stream {event.kind[7:]}" + (f": {reason}" if reason else "")
    if event.kind == "markets":
        return (
            f"{len(data.get('added', []))} listed, {len(data.get('removed', []))} delisted, "
            f"{len(data.get('changed', []))} changed"
        )
    if event.kind == "balance" and (new or old) is not None:
        asset = (new or old).asset
        return f"{asset} {_cell(old.total if old else 0)} → {_cell(new.total if new else 0)}"
    if event.kind.startswith("order_") and hasattr(new, "status"):
        return f"order {new.id} {_cell(new.status)} {_cell(new.filled)}/{_cell(new.amount)}"
    return f"{_cell(old)} → {_cell(new)}"[:120]


def _market_frame(market: Any) -> dict[str, Any]:
    ticker, book = market.sourced("ticker"), market.sourced("book")
    stream = market.stream("book")
    return {
        "symbol": market.symbol,
        "ticker": None if ticker is None else ticker.value,
        "ticker_source": None if ticker is None else ticker.source,
        "book": None if book is None else book.value,
        "book_source": None if book is None else book.source,
        "book_at": None if book is None else book.at,
        "stream": None if stream is None else stream.state,
        "requests": market.requests,
    }


def _merge_events(events: list[dict[str, Any]], markets: list[Any]) -> list[dict[str, Any]]:
    more = [
        {"at": e.at, "source": e.source, "kind": e.kind, "text": describe(e)}
        for m in markets
        for e in m.events("source", "stream_disconnected", "stream_resync", "stream_stale")
    ]
    return sorted([*events, *more], key=lambda e: e["at"])[-_EVENTS:]


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = max((now - then).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s ago"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s ago" if hours else f"{minutes}m {secs:02d}s ago"


def _render(frame: dict[str, Any]) -> list[str]:
    now = frame["at"]
    title = f"xest watch {frame['exchange']} ({frame['url']})"
    if frame.get("account"):
        title += f"  account {frame['account']}"
    lines = [title, ""]
    status = str(frame["status"].value).upper()
    lines.append(
        f"status       {status}  since {_cell(frame['since'])} ({_ago(frame['since'], now)})"
    )
    if frame["error_ms"] is None:
        lines.append("server time  unknown (no clock reading yet)")
    else:
        lines.append(
            f"server time  {_cell(frame['server_time'])}  ± {frame['error_ms']:.1f} ms  "
            f"(offset {(frame['offset_ms'] or 0):+.1f} ms)"
        )
    lines.append(f"checked      {_ago(frame['checked'], now)}")
    if frame["last_error"]:
        lines.append(f"last poll    failed: {frame['last_error']}")
    if "balances" in frame:
        lines += [
            "",
            f"BALANCES  (as of {_ago(frame['balances_at'], now)})"
            + ("  STALE" if frame["account_stale"] else ""),
        ]
        if frame["balances"] is None:
            lines.append("  not read yet")
        elif not frame["balances"]:
            lines.append("  none")
        else:
            lines += format_table(
                ["asset", "free", "locked", "total"],
                [[b.asset, b.free, b.locked, b.total] for b in frame["balances"]],
            )
        lines += ["", "OPEN ORDERS"]
        if frame["open_orders"]:
            lines += format_table(
                ["id", "symbol", "side", "type", "price", "amount", "filled", "status"],
                [
                    [o.id, o.symbol, o.side, o.type, o.price, o.amount, o.filled, o.status]
                    for o in frame["open_orders"]
                ],
            )
        else:
            lines.append("  none")
        if frame["account_error"]:
            lines.append(f"last account poll failed: {frame['account_error']}")
    for market in frame.get("markets", ()):
        lines += ["", *_render_market(market, now)]
    if frame["events"]:
        lines += ["", "RECENT EVENTS"]
        lines += [f"  {_cell(e['at'])[11:]}  {e['kind']:<14} {e['text']}" for e in frame["events"]]
    lines += ["", "Ctrl-C to quit"]
    return lines


def _render_market(market: dict[str, Any], now: datetime) -> list[str]:
    ticker, book = market["ticker"], market["book"]
    source = market["book_source"] or market["ticker_source"] or "none"
    stream = f", stream {market['stream']}" if market["stream"] else ""
    lines = [f"{market['symbol']}  ({source}{stream}, {market['requests']} requests)"]
    if ticker is not None:
        lines.append(
            f"  ticker  bid {_cell(ticker.bid)}  ask {_cell(ticker.ask)}"
            + (f"  last {_cell(ticker.last)}" if ticker.last is not None else "")
        )
    if book is None:
        lines.append("  book    not known right now (resyncing or not read yet)")
        return lines
    lines.append(f"  book    as of {_ago(market['book_at'], now)}")
    rows = [
        [b.price if b else "", b.amount if b else "", a.price if a else "", a.amount if a else ""]
        for b, a in itertools.zip_longest(book.bids, book.asks)
    ]
    lines += ["  " + line for line in format_table(["bid", "size", "ask", "size"], rows)]
    return lines


def register(cli: click.Group) -> None:
    cli.add_command(watch)
