"""Public market data: ``xest markets``, ``ticker``, ``book``, ``candles``, ``trades``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from xest.cli.clients import open_client
from xest.cli.completion import complete_exchanges, complete_symbols, remember_symbols
from xest.cli.options import global_options, options
from xest.cli.output import print_json, print_table


def unified(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Unified symbols are upper case (``btc/usd`` means BTC/USD); exchange ids pass as given."""
    if isinstance(value, tuple):
        return tuple(unified(ctx, param, v) for v in value)
    return value.upper() if isinstance(value, str) and "/" in value else value


@click.command("markets")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.option("--quote", "quote_asset", metavar="ASSET", help="Only markets quoted in ASSET.")
@click.option("--base", "base_asset", metavar="ASSET", help="Only markets of base ASSET.")
@global_options
def markets(exchange: str, quote_asset: str | None, base_asset: str | None) -> None:
    """List EXCHANGE's markets with their precision and minimums."""
    with open_client(exchange, public=True) as client:
        found = client.markets()
    remember_symbols(client.name, [m.symbol for m in found])
    if quote_asset:
        found = [m for m in found if m.quote.upper() == quote_asset.upper()]
    if base_asset:
        found = [m for m in found if m.base.upper() == base_asset.upper()]
    found.sort(key=lambda m: m.symbol)
    if options().json:
        print_json(found, "markets")
        return
    print_table(
        ["symbol", "id", "price step", "amount step", "min amount", "min cost", "active"],
        [
            [
                m.symbol,
                m.id,
                m.price_step,
                m.amount_step,
                m.min_amount,
                m.min_cost,
                "yes" if m.active else "no",
            ]
            for m in found
        ],
    )
    click.echo(f"{len(found)} market(s)", err=True)


@click.command("ticker")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument(
    "symbols",
    nargs=-1,
    required=True,
    metavar="SYMBOL...",
    callback=unified,
    shell_complete=complete_symbols,
)
@global_options
def ticker(exchange: str, symbols: tuple[str, ...]) -> None:
    """Show the best bid and ask, last price and 24 h figures of each SYMBOL (BTC/USD)."""
    with open_client(exchange, public=True) as client:
        if len(symbols) > 1 and "tickers" in client.capabilities:
            by_symbol = client.tickers(list(symbols))
            tickers = [by_symbol.get(s) or _find(client.name, by_symbol, s) for s in symbols]
        else:
            tickers = [client.ticker(s) for s in symbols]
    if options().json:
        print_json(tickers, "ticker")
        return
    print_table(
        ["symbol", "bid", "ask", "last", "high", "low", "volume", "time"],
        [[t.symbol, t.bid, t.ask, t.last, t.high, t.low, t.volume, t.timestamp] for t in tickers],
    )


def _find(exchange: str, by_symbol: dict, symbol: str) -> Any:
    """The ticker for ``symbol`` given as the exchange's id (tickers() keys unified symbols)."""
    for t in by_symbol.values():
        if symbol in (t.symbol, t.id):
            return t
    from xest.errors import BadSymbol

    raise BadSymbol(
        f"no ticker for {symbol!r} in the answer; see `xest markets {exchange}` for the symbols",
        exchange=exchange,
    )


@click.command("book")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", callback=unified, shell_complete=complete_symbols)
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Price levels per side.",
)
@global_options
def book(exchange: str, symbol: str, depth: int) -> None:
    """Show SYMBOL's order book: bids and asks side by side, best first."""
    with open_client(exchange, public=True) as client:
        order_book = client.order_book(symbol, depth)
    bids, asks = order_book.bids[:depth], order_book.asks[:depth]
    if options().json:
        print_json(order_book, "book")
        return
    rows = []
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        rows.append(
            [
                bid.amount if bid else None,
                bid.price if bid else None,
                ask.price if ask else None,
                ask.amount if ask else None,
            ]
        )
    print_table(["bid amount", "bid", "ask", "ask amount"], rows)
    if bids and asks:
        spread = asks[0].price - bids[0].price
        click.echo(f"spread {spread} ({order_book.symbol})", err=True)


_DATES = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@click.command("candles")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", callback=unified, shell_complete=complete_symbols)
@click.argument("interval")
@click.option("--limit", type=click.IntRange(min=1), help="At most N candles (the latest).")
@click.option(
    "--since",
    type=_DATES,
    help="Start at this UTC time.",
)
@global_options
def candles(
    exchange: str, symbol: str, interval: str, limit: int | None, since: datetime | None
) -> None:
    """Show SYMBOL's OHLCV candles of INTERVAL (1m, 1h, 1d...), oldest first."""
    from datetime import UTC

    with open_client(exchange, public=True) as client:
        found = client.candles(
            symbol, interval, since.replace(tzinfo=UTC) if since else None, limit
        )
    if limit is not None:
        _shortfall(client.name, "candles", len(found), limit)
    if options().json:
        print_json(found, "candles")
        return
    print_table(
        ["open time", "open", "high", "low", "close", "volume"],
        [[c.open_time, c.open, c.high, c.low, c.close, c.volume] for c in found],
    )


@click.command("trades")
@click.argument("exchange", shell_complete=complete_exchanges)
@click.argument("symbol", callback=unified, shell_complete=complete_symbols)
@click.option("--limit", type=click.IntRange(min=1), help="At most N trades (the latest).")
@click.option("--since", type=_DATES, help="Trades from this UTC time on (the first N).")
@global_options
def trades(exchange: str, symbol: str, limit: int | None, since: datetime | None) -> None:
    """Show SYMBOL's recent public trades, oldest first."""
    from datetime import UTC

    with open_client(exchange, public=True) as client:
        found = client.trades(symbol, since.replace(tzinfo=UTC) if since else None, limit)
    if limit is not None:
        found = found[:limit] if since else found[-limit:]
        _shortfall(client.name, "trades", len(found), limit)
    if options().json:
        print_json(found, "trades")
        return
    print_table(
        ["time", "side", "price", "amount", "id"],
        [[t.timestamp, t.side, t.price, t.amount, t.id or None] for t in found],
    )


def _shortfall(exchange: str, what: str, got: int, limit: int) -> None:
    """Fewer rows than asked for is said, never silent (Kraken keeps the latest 720 candles
    of an interval; public trades page forward only, from --since)."""
    if got < limit:
        click.echo(
            f"note: {got} {what} of the {limit} asked for: {exchange} has no more for this "
            "request (exchanges keep a limited history; --since reads forward from a time)",
            err=True,
        )


def register(cli: click.Group) -> None:
    for command in (markets, ticker, book, candles, trades):
        cli.add_command(command)
