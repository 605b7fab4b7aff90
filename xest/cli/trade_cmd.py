"""Trading from the command line: ``xest quote``, ``xest order``, ``xest cancel``,
``xest order-status``.

Anything that spends money asks for confirmation first (``--yes`` skips it); prompts go to
stderr so ``--json`` output stays clean. The account is ``--account NAME``, else the exchange's
default account, else, with ``--sim``, the simulator's demo account.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import click

from xest.cli.clients import open_client
from xest.cli.completion import complete_exchanges, complete_symbols
from xest.cli.options import AMOUNT, DefaultGroup, NumbersCommand, global_options, options
from xest.cli.output import print_json, print_table, to_jsonable

_SIDES = click.Choice(["buy", "sell"], case_sensitive=False)
_TIFS = click.Choice(["GTC", "IOC", "FOK", "GTD"], case_sensitive=False)


DECIMAL = AMOUNT  # parsed as a decimal with a sane magnitude, negative numbers as values


def _label(client: Any) -> str:
    credentials = client.connector.credentials
    return f"{client.name} (account {credentials.account})" if credentials else client.name


def _confirm(message: str, yes: bool) -> None:
    if not yes:
        click.confirm(message, abort=True, err=True)


def _fields(rows: list[tuple[str, Any]]) -> None:
    print_table(["field", "value"], rows)


# -- quotes --------------------------------------------------------------------------------------


def _quote_view(quote: Any) -> dict[str, Any]:
    return {
        **to_jsonable(quote.snapshot),
        "state": quote.state.value,
        "seconds_left": round(max(quote.seconds_left(), 0.0), 1),
    }


def _show_quote(quote: Any) -> None:
    q = quote.snapshot
    base, quote_asset = q.symbol.split("/")
    _fields(
        [
            ("quote id", q.id),
            ("symbol", q.symbol),
            ("side", q.side),
            ("amount", f"{_plain(q.amount)} {base}"),
            ("price", f"{_plain(q.price)} {quote_asset}"),
            ("cost", f"{_plain(q.cost)} {quote_asset}"),
            ("expires", q.expires_at),
            ("seconds left", f"{max(quote.seconds_left(), 0.0):.1f}"),
            ("state", quote.state),
        ]
    )


@click.group("quote", cls=DefaultGroup, default="ask")
def quote_group() -> None:
    """Firm quotes: `xest quote EXCHANGE SYMBOL SIDE AMOUNT [--accept]` asks for one,
    `xest quote accept EXCHANGE QUOTE_ID` executes one asked for earlier (once, machine-wide)."""


@quote_group.command("ask", cls=NumbersCommand)
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", shell_complete=complete_symbols)
@click.argument("side", type=_SIDES)
@click.argument("amount", type=DECIMAL)
@click.option("--valid-for", type=click.IntRange(min=1), metavar="SECONDS", help="Quote life.")
@click.option("--accept", is_flag=True, help="Execute the quote (after confirmation).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@global_options
def quote_cmd(
    exchange: str,
    symbol: str,
    side: str,
    amount: Decimal,
    valid_for: int | None,
    accept: bool,
    yes: bool,
) -> None:
    """Ask for a firm quote to buy or sell AMOUNT of SYMBOL's base asset; --accept executes it."""
    as_json = options().json
    with open_client(exchange) as client:
        account = client.require_account()
        life = timedelta(seconds=valid_for) if valid_for else None
        quote = account.quote(symbol, side.lower(), amount, valid_for=life)
        if not as_json:
            _show_quote(quote)
        if not accept:
            if as_json:
                print_json(_quote_view(quote), "quote")
            return
        q = quote.snapshot
        _confirm(
            f"Accept: {q.side} {_plain(q.amount)} {q.symbol} at {_plain(q.price)} "
            f"(cost {_plain(q.cost)}) on {_label(client)}, {max(quote.seconds_left(), 0):.0f} s "
            "left?",
            yes,
        )
        order = account.accept_quote(quote)
        _accepted(quote, order, as_json)


def _accepted(quote: Any, order: Any, as_json: bool) -> None:
    if as_json:
        print_json({"quote": _quote_view(quote), "order": order.snapshot}, "quote_accept")
        return
    click.echo(f"quote {quote.id} executed: order {order.id} {order.status.value}")
    _show_order(order.snapshot)


@quote_group.command("accept")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("quote_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@global_options
def quote_accept_cmd(exchange: str, quote_id: str, yes: bool) -> None:
    """Execute QUOTE_ID, a quote asked for earlier on this machine (`xest quote`); a quote
    already executed, by this or any other process, is refused before anything is sent."""
    as_json = options().json
    with open_client(exchange) as client:
        account = client.require_account()
        quote = account.find_quote(quote_id)
        if quote is None:
            from xest.errors import InvalidQuote

            raise InvalidQuote(
                f"no quote {quote_id} was asked for on this account from this machine; ask for "
                f"one with `xest quote {client.name} SYMBOL buy|sell AMOUNT`",
                exchange=client.name,
                code="unknown_quote",
            )
        shared = quote.snapshot
        if not quote.check_expiry() and not yes:
            _confirm(
                f"Accept: {shared.side.value} {_plain(shared.amount)} {shared.symbol} at "
                f"{_plain(shared.price)} (cost {_plain(shared.cost)}) on {_label(client)}, "
                f"{max(quote.seconds_left(), 0):.0f} s left?",
                yes,
            )
        order = account.accept_quote(quote)
        _accepted(quote, order, as_json)


# -- orders --------------------------------------------------------------------------------------


def _plain(value: Decimal | None) -> str:
    """A number for people: 20000, 0.01 (not 2.0000E+4 or 0.01000)."""
    return "-" if value is None else ("0" if value == 0 else f"{value.normalize():f}")


def _show_order(o: Any) -> None:
    _fields(
        [
            ("order id", o.id),
            ("client id", o.client_id),
            ("symbol", o.symbol),
            ("side", o.side),
            ("type", o.type),
            ("time in force", o.time_in_force),
            ("price", o.price),
            ("amount", o.amount),
            ("filled", o.filled),
            ("average price", o.average_price),
            ("status", o.status),
            ("created", o.created),
            ("updated", o.updated),
        ]
    )


def _describe(request: Any) -> str:
    what = f"{request.side.value} {_plain(request.amount)} {request.symbol}"
    if request.price is None:
        what += " at market"
    else:
        what += f" limit {_plain(request.price)}"
    if request.time_in_force is not None:
        what += f" {request.time_in_force.value}"
    if request.cost is not None:
        what += f" (value {_plain(request.cost)} {request.symbol.split('/')[1]})"
    return what


@click.command("order", cls=NumbersCommand)
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", shell_complete=complete_symbols)
@click.argument("side", type=_SIDES)
@click.argument("amount", type=DECIMAL)
@click.option("--limit", "price", type=DECIMAL, metavar="PRICE", help="A limit order at PRICE.")
@click.option("--tif", type=_TIFS, help="Time in force: GTC, IOC, FOK or GTD.")
@click.option("--client-id", metavar="ID", help="Your own client order id (else generated).")
@click.option("--validate", is_flag=True, help="Let the exchange check it; place nothing.")
@click.option("--wait", is_flag=True, help="Wait until the order is final.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="With --wait.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@global_options
def order_cmd(
    exchange: str,
    symbol: str,
    side: str,
    amount: Decimal,
    price: Decimal | None,
    tif: str | None,
    client_id: str | None,
    validate: bool,
    wait: bool,
    timeout: float,
    yes: bool,
) -> None:
    """Place an order (market, or limit with --limit), after confirmation."""
    as_json = options().json
    with open_client(exchange) as client:
        account = client.require_account()
        request = account.prepare_order(
            symbol,
            side.lower(),
            "limit" if price is not None else "market",
            amount,
            price,
            time_in_force=tif.upper() if tif else None,
            client_id=client_id,
            validate=validate,
        )
        if request.adjusted:
            click.echo(
                f"note: rounded to {symbol}'s steps: amount {_plain(request.requested_amount)}"
                f" -> {_plain(request.amount)}, price {_plain(request.requested_price)} -> "
                f"{_plain(request.price)}",
                err=True,
            )
        if not validate:
            _confirm(f"Place: {_describe(request)} on {_label(client)}?", yes)
        result = account.submit(request)
        if validate:
            if as_json:
                print_json({"valid": True, "order": result}, "order_validate")
            else:
                click.echo(f"the exchange accepts {_describe(request)} (nothing was placed)")
            return
        # One read-back (never a second placement): the order's real state, as the exchange
        # now has it (an order that filled at once shows filled, its fills and times).
        final = _wait(client, result, timeout) if wait else _read_back(result)
        if as_json:
            print_json(final, "order")
            return
        _show_order(final)


def _read_back(order: Any) -> Any:
    from xest.errors import XestError

    try:
        return order.refresh()
    except XestError as exc:  # placed all the same: show what the placement answered
        click.echo(f"note: could not read the order back ({exc}); shown as placed", err=True)
        return order.snapshot


def _follow_hint(client: Any, order_id: str) -> str:
    """The command that follows an order, with the options that reach the same account."""
    opts = options()
    words = ["xest", "order-status", client.name, order_id, "--wait"]
    if opts.sim:
        words.append("--sim")
    if opts.url:
        words += ["--url", opts.url]
    if opts.testnet:
        words.append("--testnet")
    credentials = client.connector.credentials
    if opts.account or (opts.sim and credentials is not None):
        words += ["--account", opts.account or credentials.account]
    return " ".join(words)


def _wait(client: Any, order: Any, timeout: float) -> Any:
    def progress(event: Any) -> None:  # partial fills as they come, on stderr
        o = event.new
        click.echo(f"{o.id}: {o.status.value}, {_plain(o.filled)}/{_plain(o.amount)}", err=True)

    from xest.cli import exits
    from xest.cli.progress import waiting

    cancel = order.subscribe(progress)
    try:
        with waiting(f"order {order.id} to be final", expected=timeout):
            return order.wait(timeout, poll=0.5)
    except TimeoutError:
        from xest.cli import sim_state

        message = f"order {order.id} is still {order.status.value} after {timeout:g} s"
        if options().sim and sim_state.find(client.name) is None:
            message += (
                "; it lived on this command's simulator, which ends with it (`xest sim start "
                f"{client.name}` keeps one running)"
            )
        else:
            message += f"; follow it with `{_follow_hint(client, order.id)}`"
        if options().json:
            import json

            error = {
                "type": "WaitTimeout",
                "kind": exits.KINDS[exits.WAIT_TIMEOUT],
                "message": message,
                "exchange": client.name,
                "code": "wait_timeout",
                "exit_code": exits.WAIT_TIMEOUT,
            }
            click.echo(json.dumps({"schema": "xest.error/1", "error": error}), err=True)
        else:
            click.echo(f"error: {message}", err=True)
        raise SystemExit(exits.WAIT_TIMEOUT) from None
    finally:
        cancel()


@click.command("cancel")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("order_id", required=False)
@click.option("--client-id", metavar="ID", help="Cancel by client order id instead.")
@click.option("--symbol", help="The order's symbol (some exchanges need it).")
@global_options
def cancel_cmd(
    exchange: str, order_id: str | None, client_id: str | None, symbol: str | None
) -> None:
    """Cancel an order by ORDER_ID (or --client-id)."""
    _need_id(order_id, client_id)
    with open_client(exchange) as client:
        order = client.cancel_order(order_id, client_id=client_id, symbol=symbol)
    if options().json:
        print_json(order.snapshot, "order")
        return
    click.echo(f"order {order.id}: {order.status.value} ({_plain(order.filled)} filled)")


@click.command("order-status")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("order_id", required=False)
@click.option("--client-id", metavar="ID", help="Look the order up by client order id.")
@click.option("--symbol", help="The order's symbol (some exchanges need it).")
@click.option("--wait", is_flag=True, help="Wait until the order is final.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="With --wait.")
@global_options
def order_status_cmd(
    exchange: str,
    order_id: str | None,
    client_id: str | None,
    symbol: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Show one order by ORDER_ID (or --client-id)."""
    _need_id(order_id, client_id)
    with open_client(exchange) as client:
        order = client.order(order_id, client_id=client_id, symbol=symbol)
        snapshot = _wait(client, order, timeout) if wait else order.snapshot
    if options().json:
        print_json(snapshot, "order")
        return
    _show_order(snapshot)


def _need_id(order_id: str | None, client_id: str | None) -> None:
    if (order_id is None) == (client_id is None):
        raise click.UsageError("give an ORDER_ID or --client-id ID (one of them)")


def register(cli: click.Group) -> None:
    for command in (quote_group, order_cmd, cancel_cmd, order_status_cmd):
        cli.add_command(command)
