"""Trading from the command line: ``xest quote``, ``xest order``, ``xest cancel``,
``xest order-status``.

Anything that spends money asks for confirmation first (``--yes`` skips it); prompts go to
stderr so ``--json`` output stays clean. The account is ``--account NAME``, else the exchange's
default account, else, with ``--sim``, the simulator's demo account.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from xest.cli.clients import open_client
from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table, to_jsonable

_SIDES = click.Choice(["buy", "sell"], case_sensitive=False)
_TIFS = click.Choice(["GTC", "IOC", "FOK", "GTD"], case_sensitive=False)


class _DecimalType(click.ParamType):
    name = "number"

    def convert(self, value: Any, param: Any, ctx: Any) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not number.is_finite() or number <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return number


DECIMAL = _DecimalType()


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


@click.command("quote")
@click.argument("exchange")
@click.argument("symbol")
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
                print_json(_quote_view(quote))
            return
        q = quote.snapshot
        _confirm(
            f"Accept: {q.side} {_plain(q.amount)} {q.symbol} at {_plain(q.price)} "
            f"(cost {_plain(q.cost)}) on {_label(client)}, {max(quote.seconds_left(), 0):.0f} s "
            "left?",
            yes,
        )
        order = account.accept_quote(quote)
        if as_json:
            print_json({"quote": _quote_view(quote), "order": order.snapshot})
            return
        click.echo(f"quote {q.id} executed: order {order.id} {order.status.value}")
        _show_order(order.snapshot)


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


@click.command("order")
@click.argument("exchange")
@click.argument("symbol")
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
                print_json({"valid": True, "order": result})
            else:
                click.echo(f"the exchange accepts {_describe(request)} (nothing was placed)")
            return
        final = _wait(client, result, timeout) if wait else result.snapshot
        if as_json:
            print_json(final)
            return
        _show_order(final)


def _wait(client: Any, order: Any, timeout: float) -> Any:
    def progress(event: Any) -> None:  # partial fills as they come, on stderr
        o = event.new
        click.echo(f"{o.id}: {o.status.value}, {_plain(o.filled)}/{_plain(o.amount)}", err=True)

    cancel = order.subscribe(progress)
    try:
        return order.wait(timeout, poll=0.5)
    except TimeoutError:
        click.echo(
            f"error: order {order.id} is still {order.status.value} after {timeout:g} s; "
            f"follow it with `xest order-status {client.name} {order.id}`",
            err=True,
        )
        raise SystemExit(1) from None
    finally:
        cancel()


@click.command("cancel")
@click.argument("exchange")
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
        print_json(order.snapshot)
        return
    click.echo(f"order {order.id}: {order.status.value} ({_plain(order.filled)} filled)")


@click.command("order-status")
@click.argument("exchange")
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
        print_json(snapshot)
        return
    _show_order(snapshot)


def _need_id(order_id: str | None, client_id: str | None) -> None:
    if (order_id is None) == (client_id is None):
        raise click.UsageError("give an ORDER_ID or --client-id ID (one of them)")


def register(cli: click.Group) -> None:
    for command in (quote_cmd, order_cmd, cancel_cmd, order_status_cmd):
        cli.add_command(command)
