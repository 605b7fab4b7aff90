"""Trading flows against the exchange simulators, with lost answers injected.

For each exchange (default: kraken and binance): a quote executed once while many threads try,
a quote refused locally once the simulator's clock passes its deadline, a limit order followed
through a partial fill to its fill, and N placements whose answers are all lost after the
simulator accepted the order (plus some whose look-ups are lost too). It then counts, through
the exchange's own API, that each placement exists exactly once.

Run: ``.venv/bin/python bench/bench_trading.py [--lost N] [EXCHANGE...]``. Prints one line per
check and exits non-zero if any failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import xest
from xest import errors, registry
from xest.http.limiter import RateLimiter
from xest.models import OrderStatus, QuoteState
from xest.testing.server import Fault

# Per exchange: the path orders are placed on, the quote acceptance path, a symbol, an amount,
# a resting price far from the market, and how to fill a resting order on the simulator.
SETUP: dict[str, dict[str, Any]] = {
    "kraken": {
        "place": "/0/private/AddOrder",
        "accept": "/0/private/AddOrder",
        "symbol": "BTC/USD",
        "amount": Decimal("0.01"),
        "rest": Decimal("1000.0"),
        "fill": lambda sim, order, amount: sim.fill(order.id, amount),
    },
    "binance": {
        "place": "/api/v3/order",
        "accept": "/sapi/v1/convert/acceptQuote",
        "symbol": "BTC/USDT",
        "amount": Decimal("0.01"),
        "rest": Decimal("1000.00"),
        "fill": lambda sim, order, amount: sim.fill_order(order.id, amount),
    },
}


def open_on(exchange: str, **sim_options: Any) -> tuple[Any, Any]:
    """A simulator (started, with options) and a client on its demo account, with the client's
    rate limiter off: the point is the reconciliation, not the exchanges' request budgets."""
    sim = registry.simulator_factory(exchange)(**sim_options).start()
    key, secret = sim.demo_credentials()
    cls = registry.connector_class(exchange)
    host = sim.url.split("://", 1)[1]
    client = xest.open(
        exchange,
        url=sim.url,
        key=key,
        secret=secret,
        cache=False,
        limiter=RateLimiter(exchange, host, {}),
    )
    assert client.connector.exchange == cls.exchange
    client.account.lookup_delay = 0.0
    client.server_time()  # what the exchange agent does first: signed requests need the clock
    return sim, client


def check_quote_once(exchange: str, threads: int = 16) -> str:
    setup = SETUP[exchange]
    sim, client = open_on(exchange)
    try:
        quote = client.quote(
            setup["symbol"], "buy", setup["amount"], valid_for=timedelta(seconds=30)
        )
        before = sim.hits[setup["accept"]]
        barrier = threading.Barrier(threads)
        outcomes: list[Any] = []

        def accept() -> None:
            barrier.wait()
            try:
                outcomes.append(client.accept_quote(quote))
            except errors.XestError as exc:
                outcomes.append(exc)

        workers = [threading.Thread(target=accept) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        sent = sim.hits[setup["accept"]] - before
        orders = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [o for o in outcomes if isinstance(o, errors.QuoteAlreadyExecuted)]
        assert len(orders) == 1 and len(refused) == threads - 1, outcomes
        assert quote.state is QuoteState.EXECUTED
        assert sent == 1, f"{sent} acceptance requests"
        return f"{threads} threads, 1 request, order {orders[0].id} {orders[0].status.value}"
    finally:
        client.close()
        sim.stop()


def check_lost_acceptance(exchange: str) -> str:
    """An acceptance whose answer is lost: executed once; is the order read back?"""
    setup = SETUP[exchange]
    sim, client = open_on(exchange)
    try:
        quote = client.quote(
            setup["symbol"], "buy", setup["amount"], valid_for=timedelta(seconds=30)
        )
        before = sim.hits[setup["accept"]]
        sim.inject(Fault.lost_response(), path=setup["accept"])
        try:
            order = quote.accept()
            outcome = f"order {order.id} {order.status.value} read back"
        except errors.QuoteAlreadyExecuted:
            outcome = "order not read back (the connector has no quote_order)"
        assert quote.state is QuoteState.EXECUTED, quote.state
        with_retry = sim.hits[setup["accept"]] - before
        return f"executed once, {with_retry} acceptance request(s), {outcome}"
    finally:
        client.close()
        sim.stop()


def check_quote_expiry(exchange: str) -> str:
    setup = SETUP[exchange]
    sim, client = open_on(exchange, clock_offset=30.0)
    try:
        quote = client.quote(
            setup["symbol"], "sell", setup["amount"], valid_for=timedelta(seconds=10)
        )
        left = quote.seconds_left()
        assert 0 < left <= 10.5, left  # by the server's clock (ours would say about 40 s)
        sim.clock_offset += 15
        client.clock.forget_before(time.monotonic())
        before = sim.hits[setup["accept"]]
        try:
            quote.accept()
        except errors.QuoteExpired:
            pass
        else:
            raise AssertionError("an expired quote was executed")
        assert sim.hits[setup["accept"]] == before, "a request was sent for an expired quote"
        return f"refused locally, {left:.1f} s left by the server clock before it moved"
    finally:
        client.close()
        sim.stop()


def check_partial_fill(exchange: str) -> str:
    setup = SETUP[exchange]
    sim, client = open_on(exchange)
    try:
        order = client.place_order(setup["symbol"], "buy", "limit", setup["amount"], setup["rest"])
        seen: list[str] = []
        client.account.subscribe(lambda e: seen.append(e.kind))
        client.account.set_interval("orders", 0.05)
        client.account.start()
        setup["fill"](sim, order, setup["amount"] / 2)
        deadline = time.monotonic() + 10
        while order.status is not OrderStatus.PARTIALLY_FILLED and time.monotonic() < deadline:
            time.sleep(0.02)
        assert order.status is OrderStatus.PARTIALLY_FILLED, order
        setup["fill"](sim, order, setup["amount"] / 2)
        final = order.wait(timeout=10)
        assert final.status is OrderStatus.FILLED, final
        assert "order_partial_fill" in seen and "order_filled" in seen, seen
        return f"order {order.id}: partial fill then fill, events {sorted(set(seen))}"
    finally:
        client.close()
        sim.stop()


def check_all_final(exchange: str, count: int = 30, seed: int = 5) -> str:
    """Orders filled in parts or cancelled while the agent runs: each reaches its final state."""
    setup = SETUP[exchange]
    sim, client = open_on(exchange)
    rng = random.Random(seed)
    try:
        client.account.set_interval("orders", 0.05)
        client.account.start()
        amount = setup["amount"]
        orders = [
            client.place_order(setup["symbol"], "buy", "limit", amount, setup["rest"] + i)
            for i in range(count)
        ]
        for order in orders:
            setup["fill"](sim, order, amount * Decimal("0.3"))
            if rng.random() < 0.5:
                setup["fill"](sim, order, amount * Decimal("0.7"))
            else:
                client.cancel_order(order.id)
        finals = Counter(order.wait(timeout=30).status.value for order in orders)
        assert sum(finals.values()) == count and not client.account.tracked
        return f"{count} orders final: {dict(sorted(finals.items()))}"
    finally:
        client.close()
        sim.stop()


def check_lost_answers(exchange: str, count: int, seed: int = 8) -> str:
    setup = SETUP[exchange]
    sim, client = open_on(exchange)
    rng = random.Random(seed)
    placed = []
    lookups = Counter()
    real_order = client.connector.order

    def counting_order(*args: Any, **kwargs: Any) -> Any:
        lookups["by client id" if kwargs.get("client_id") else "by id"] += 1
        return real_order(*args, **kwargs)

    client.connector.order = counting_order  # proves each lost answer was looked up
    started = time.monotonic()
    try:
        for i in range(count):
            sim.inject(Fault.lost_response(), path=setup["place"])
            price = setup["rest"] + i % 50
            placed.append(
                client.place_order(setup["symbol"], "buy", "limit", setup["amount"], price)
            )
            if rng.random() < 0.1:  # now and then the order is cancelled, to vary the states
                client.cancel_order(placed[-1].id)
        elapsed = time.monotonic() - started
        ours = {o.client_id for o in placed}
        assert len(ours) == count and all(ours)
        listed = client.connector.open_orders(setup["symbol"])
        listed += client.connector.closed_orders(setup["symbol"])
        counts = Counter(o.client_id for o in listed if o.client_id in ours)
        duplicates = {cid: n for cid, n in counts.items() if n > 1}
        lost = ours - set(counts)
        assert not duplicates, f"duplicates: {duplicates}"
        assert not lost, f"{len(lost)} orders lost"
        assert lookups["by client id"] >= count, f"only {lookups} look-ups: were answers lost?"
        return (
            f"{count} lost answers: 0 duplicates, 0 lost ({elapsed / count * 1000:.1f} ms per "
            "placement with its look-up)"
        )
    finally:
        client.close()
        sim.stop()


README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- trading:begin -->", "<!-- trading:end -->"


def write_readme(rows: list[tuple[str, str, str, str]], lost: int) -> None:
    table = "\n".join(
        f"| {ex} | {name} | {status} | {detail} |" for ex, name, status, detail in rows
    )
    section = f"""{BEGIN}
## Trading flows

Against the Kraken and Binance simulators in-process (loopback), on the development machine,
with the client's rate limiter off: the run measures reconciliation, not the exchanges' budgets.
Each of the {lost} placements loses its answer after the simulator accepted the order;
duplicates and losses are counted through the exchange's own API (open and closed orders by
client order id).

| exchange | check | result | detail |
| --- | --- | --- | --- |
{table}

Reproduce: `.venv/bin/python bench/bench_trading.py --readme`.
{END}"""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exchanges", nargs="*", default=list(SETUP))
    parser.add_argument("--lost", type=int, default=1000, help="lost answers to inject")
    parser.add_argument("--readme", action="store_true", help="write the results to README.md")
    args = parser.parse_args(argv)
    failed = 0
    rows: list[tuple[str, str, str, str]] = []
    for exchange in args.exchanges:
        checks = [
            ("quote executes once", check_quote_once, ()),
            ("lost acceptance", check_lost_acceptance, ()),
            ("expired quote refused", check_quote_expiry, ()),
            ("partial fill tracked", check_partial_fill, ()),
            ("tracked orders final", check_all_final, ()),
            ("lost answers", check_lost_answers, (args.lost,)),
        ]
        for name, check, extra in checks:
            try:
                detail, status = check(exchange, *extra), "ok"
            except Exception as exc:
                failed += 1
                detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
                traceback.print_exc(limit=-3, file=sys.stderr)
            print(f"{exchange:8} {name:24} {status:5} {detail}", flush=True)
            rows.append((exchange, name, status, detail))
    if args.readme:
        write_readme(rows, args.lost)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
