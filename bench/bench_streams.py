"""Streams against polling, on the simulators (loopback), interleaved in the same run.

For each exchange (default: kraken and binance):
- latency: from a simulator price change (``set_price``) to the market agent's ``ticker``
  event, for a streamed agent and a polled one (``poll=True``, 1 s interval) watching the same
  symbol at the same time, over ROUNDS price changes at random moments;
- requests per minute for an agent watching one book (ticker off), streamed and polled at the
  same time for WATCH seconds while the book changes every 50 ms;
- book correctness: 10 000 random book changes with a gap or a bad checksum injected every
  500 changes (gaps only where the exchange has update ids), a drop every 2 500: every book the
  stream served must be a state the simulator's book really had (top 10 levels), and the last
  one must be the simulator's final book. "wrong books served" must be 0.

The client's rate limiter is off (as in the other benches): the figures are about the
mechanics, not the exchanges' budgets; the polled agent would be slower with it on.

Run: ``.venv/bin/python bench/bench_streams.py [--readme] [--quick] [EXCHANGE...]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import xest
from xest import registry
from xest.streams.check import levels, wait_for

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- streams:begin -->", "<!-- streams:end -->"
SYMBOLS = {"kraken": ("BTC/USD", "XXBTZUSD"), "binance": ("BTC/USDT", "BTCUSDT")}
DEPTH = 10


def _open(exchange: str) -> tuple[Any, Any]:
    from xest.http.limiter import RateLimiter

    sim = registry.simulator_factory(exchange)().start()
    host = sim.url.split("://", 1)[1]
    client = xest.open(exchange, url=sim.url, cache=False, limiter=RateLimiter(exchange, host, {}))
    client.connector.use_stream_urls(sim.stream_urls())
    return sim, client


def latency(exchange: str, rounds: int) -> dict[str, list[float]]:
    sim, client = _open(exchange)
    symbol, market_id = SYMBOLS[exchange]
    rng = random.Random(7)
    try:
        agents = {
            "streamed": client.market_agent(symbol, interval=1.0, book=False).start(),
            "polled": client.market_agent(symbol, interval=1.0, book=False, poll=True).start(),
        }
        wait_for(lambda: all(a.ticker is not None for a in agents.values()), 10)
        wait_for(lambda: agents["streamed"].source("ticker") == "stream", 10)
        results: dict[str, list[float]] = {name: [] for name in agents}
        base = Decimal(sim.own_book(market_id)[0][0][0])
        for i in range(rounds):
            time.sleep(rng.uniform(0.0, 1.0))  # changes land anywhere in the poll period
            mid = base * (Decimal(1) + Decimal(i + 1) / Decimal(1000) * (1 if i % 2 else -1))
            listeners = {name: a.listen("ticker") for name, a in agents.items()}
            start = time.monotonic()
            sim.set_price(market_id, mid.quantize(Decimal("0.1")))
            expected = sim.own_book(market_id)[0][0][0]
            arrived: dict[str, float] = {}
            threads = [
                threading.Thread(target=_arrival, args=(name, listener, expected, start, arrived))
                for name, listener in listeners.items()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for name, listener in listeners.items():
                listener.cancel()
                if name in arrived:
                    results[name].append(arrived[name])
        return results
    finally:
        client.close()
        sim.stop()


def _arrival(name: str, listener: Any, expected: Any, start: float, out: dict) -> None:
    """When the agent's ``ticker`` event with the new best bid arrived (seconds after start)."""
    try:
        listener.wait_for(lambda e: e.new[0] == expected, timeout=10)
        out[name] = time.monotonic() - start
    except TimeoutError:
        pass


def requests_per_minute(exchange: str, seconds: float) -> dict[str, float]:
    sim, client = _open(exchange)
    symbol, market_id = SYMBOLS[exchange]
    rng = random.Random(3)
    try:
        streamed = client.market_agent(symbol, interval=1.0, ticker=False).start()
        polled = client.market_agent(symbol, interval=1.0, ticker=False, poll=True).start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sim.book_step(market_id, rng)
            time.sleep(0.05)
        stream = streamed.stream("book")
        snapshots = getattr(stream.feed, "snapshots", 0) if stream is not None else 0
        return {
            "streamed": (streamed.requests + snapshots) * 60 / seconds,
            "polled": polled.requests * 60 / seconds,
        }
    finally:
        client.close()
        sim.stop()


def correctness(exchange: str, changes: int) -> dict[str, Any]:
    sim, client = _open(exchange)
    symbol, market_id = SYMBOLS[exchange]
    rng = random.Random(11)
    faults = [f for f in ("gap", "bad_checksum") if f in sim.stream_faults]
    states: set[tuple] = set()
    served = wrong = 0
    lock = threading.Lock()

    def state() -> tuple:
        bids, asks = sim.own_book(market_id)
        return (tuple(bids[:DEPTH]), tuple(asks[:DEPTH]))

    def check(book: Any) -> None:
        nonlocal served, wrong
        bids, asks = levels(book)
        with lock:
            served += 1
            if (tuple(bids), tuple(asks)) not in states:
                wrong += 1

    try:
        with sim.lock:
            states.add(state())
        stream = client.stream_book(symbol, DEPTH)
        stream.on_value = check
        stream.wait_live(10)
        started = time.monotonic()
        for i in range(1, changes + 1):
            # The checker waits on ``lock``: the new state is recorded before a book built
            # from it can be checked.
            with lock, sim.lock:
                sim.book_step(market_id, rng)
                states.add(state())
            # A breath between changes: the simulator's lock is not fair, and a resyncing
            # client's REST snapshot must get a turn (an exchange is not this busy).
            time.sleep(0.0005)
            if i % 500 == 0:
                sim.inject_stream(faults[(i // 500) % len(faults)])
            if i % 2500 == 0:
                sim.inject_stream("drop")
        elapsed = time.monotonic() - started
        final = state()
        converged = wait_for(
            lambda: (
                stream.latest is not None
                and (tuple(levels(stream.latest)[0]), tuple(levels(stream.latest)[1])) == final
            ),
            20,
        )
        kinds = [e.kind for e in stream.events()]
        stream.close()
        return {
            "changes": changes,
            "served": served,
            "wrong": wrong,
            "resyncs": kinds.count("resync"),
            "reconnects": kinds.count("disconnected") + kinds.count("stale"),
            "final_ok": converged,
            "faults": ", ".join(faults) + ", drop",
            "seconds": elapsed,
        }
    finally:
        client.close()
        sim.stop()


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "n/a"
    values = sorted(values)
    return f"{values[min(len(values) - 1, int(q * len(values)))] * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("exchanges", nargs="*", default=["kraken", "binance"])
    parser.add_argument("--readme", action="store_true", help="write the table into README")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter watch")
    args = parser.parse_args()
    rounds, watch, changes = (5, 10.0, 2000) if args.quick else (20, 30.0, 10_000)
    rows = []
    for exchange in args.exchanges:
        lat = latency(exchange, rounds)
        rpm = requests_per_minute(exchange, watch)
        book = correctness(exchange, changes)
        for name in ("streamed", "polled"):
            values = lat[name]
            rows.append(
                f"| {exchange} | price change → agent state, {name} | median "
                f"{_ms(values, 0.5)}, p90 {_ms(values, 0.9)} ({len(values)}/{rounds} seen) |"
            )
        rows.append(
            f"| {exchange} | requests per minute watching one book | streamed "
            f"{rpm['streamed']:.1f}, polled {rpm['polled']:.1f} |"
        )
        rows.append(
            f"| {exchange} | {book['changes']} random changes ({book['faults']} injected) | "
            f"{book['wrong']} wrong books served of {book['served']}; {book['resyncs']} resyncs, "
            f"{book['reconnects']} reconnects; final book "
            f"{'= simulator' if book['final_ok'] else 'DIFFERENT'} ({book['seconds']:.1f} s) |"
        )
        print("\n".join(rows[-4:]), flush=True)
    table = "\n".join(
        [
            BEGIN,
            "## Streams",
            "",
            "Against the simulators in-process (loopback), on the development machine (2 cores,",
            "shared with other work), client rate limiter off. Streamed and polled agents watch",
            "the same symbol at the same time; the polled one polls every 1 s (the market",
            "agent's fallback pace when a stream is down). A streamed agent's requests are its",
            "first poll (made before the stream is live) and, on Binance, the depth snapshot;",
            "correctness counts every book the stream handed out against the states the",
            "simulator's book really went through.",
            "",
            "| exchange | measure | result |",
            "| --- | --- | --- |",
            *rows,
            "",
            "Reproduce: `.venv/bin/python bench/bench_streams.py --readme`.",
            END,
        ]
    )
    print(table)
    if args.readme:
        text = README.read_text()
        if BEGIN in text:
            head, rest = text.split(BEGIN, 1)
            text = head + table + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + table + "\n"
        README.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
