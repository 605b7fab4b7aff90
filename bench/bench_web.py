"""The web dashboard: what browser tabs cost the exchange, and how fast a change reaches them.

Both simulators run in-process with their demo accounts behind one dashboard hub (``xest web
--sim`` without the command line), served by uvicorn on loopback. A "tab" is the event
streams a person has open: the exchanges page, an account page, the quotes page and the
market page. The simulators count every request they receive (``hits``): the cost of 1 tab
and of 10 tabs over the same window are compared. Then balances are changed on the exchange
(a deposit written into the simulator) and the delay until every open tab receives the new
figure is measured, against the agent's poll interval.

Run: ``.venv/bin/python bench/bench_web.py [--readme] [--seconds 20] [--changes 8]``.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- web:begin -->", "<!-- web:end -->"
TOKEN = "bench-" + "t" * 40
TAB = (
    "view=exchanges",
    "view=account&account={account}",
    "view=quotes&account={account}",
    "view=market&exchange={exchange}&symbol={symbol}",
)


class Stream(threading.Thread):
    """One event stream, read in a thread; keeps (arrival time, state) of each message."""

    def __init__(self, port: int, query: str) -> None:
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", f"/events?{query}", headers={"Cookie": f"xest_web_token={TOKEN}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.closed = False
        self.start()

    def run(self) -> None:
        event = None
        try:
            while not self.closed:
                line = self.response.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: ") and event == "state":
                    with self.lock:
                        self.messages.append((time.monotonic(), json.loads(text[6:])["data"]))
        except (OSError, ValueError, AttributeError):  # closed under the reader: done
            return

    def close(self) -> None:
        self.closed = True
        self.conn.close()


def tab(port: int, account: str, exchange: str, symbol: str) -> list[Stream]:
    return [Stream(port, q.format(account=account, exchange=exchange, symbol=symbol)) for q in TAB]


def by_path(hub: Any) -> dict[str, int]:
    return {
        f"{name} {path}": n
        for name, e in hub.exchanges.items()
        for path, n in e.simulator.hits.items()
    }


def cost(hub: Any, port: int, tabs: int, seconds: float) -> tuple[dict[str, int], int]:
    """Simulator requests during ``seconds`` with ``tabs`` tabs open; and messages received."""
    streams = [s for _ in range(tabs) for s in tab(port, "kraken:alice", "kraken", "BTC/USD")]
    time.sleep(2.0)  # every stream connected and its market watch polling
    paths = by_path(hub)
    received = sum(len(s.messages) for s in streams)
    time.sleep(seconds)
    after = by_path(hub)
    spent = {p: after[p] - paths.get(p, 0) for p in after if after[p] != paths.get(p, 0)}
    received = sum(len(s.messages) for s in streams) - received
    for s in streams:
        s.close()
    time.sleep(1.0)
    return spent, received


def deposit(hub: Any, exchange: str, account: str, amount: int) -> None:
    """Money arrives on the exchange: written straight into the simulator's state."""
    sim = hub.exchange(exchange).simulator
    key = sim.demo_accounts()[account][0]
    with sim.lock:
        if exchange == "binance":
            state = sim.exchange_state.accounts[key]
            free, locked = state.balances["USDT"]
            state.balances["USDT"] = (free + amount, locked)
        else:
            state = sim.accounts[key]
            state.balances["ZUSD"] += amount


def delays(hub: Any, port: int, exchange: str, tabs: int, changes: int) -> list[float]:
    """Seconds from a deposit to its arrival in the last of ``tabs`` account streams."""
    account, asset = "bob", "USDT" if exchange == "binance" else "USD"
    streams = [Stream(port, f"view=account&account={exchange}:{account}") for _ in range(tabs)]
    time.sleep(1.5)
    interval = hub.intervals(exchange).balances
    result = []
    for i in range(changes):
        time.sleep(random.uniform(0, interval))  # land anywhere within a poll interval
        seen = [len(s.messages) for s in streams]
        old = [_latest(s, asset) for s in streams]
        deposit(hub, exchange, account, 1 + i)
        changed = time.monotonic()
        deadline = changed + 5 * interval + 10
        arrived = []
        for s, start, before in zip(streams, seen, old, strict=True):
            hit = None
            while hit is None and time.monotonic() < deadline:
                with s.lock:
                    fresh = s.messages[start:]
                hit = next((t for t, data in fresh if _total(data, asset) != before), None)
                time.sleep(0.01)
            if hit is None:
                print(
                    f"warning: {exchange} deposit {i} not seen by a stream in "
                    f"{deadline - changed:.0f} s (alive: {s.is_alive()}, "
                    f"messages: {len(s.messages)})",
                    file=sys.stderr,
                )
            arrived.append(float("inf") if hit is None else hit - changed)
        result.append(max(arrived))
    for s in streams:
        s.close()
    return result


def _total(data: dict[str, Any], asset: str) -> str | None:
    return next((r["total"] for r in data.get("balances", ()) if r["asset"] == asset), None)


def _latest(stream: Stream, asset: str) -> str | None:
    with stream.lock:
        return _total(stream.messages[-1][1], asset) if stream.messages else None


def run(seconds: float, changes: int) -> dict[str, Any]:
    os.environ.setdefault("XEST_CACHE_DIR", tempfile.mkdtemp(prefix="xest-bench-web-"))
    from xest_web.app import create_app
    from xest_web.background import BackgroundServer
    from xest_web.hub import Hub

    hub = Hub.simulated_exchanges(["binance", "kraken"])
    hub.start(wait=True)
    server = BackgroundServer(create_app(hub, token=TOKEN)).start()
    try:
        # Alternated (1, 10, 1, 10 tabs) so that drift over the run (rate-limit budgets
        # filling, the machine's load) weighs on both sides alike.
        one: collections.Counter[str] = collections.Counter()
        ten: collections.Counter[str] = collections.Counter()
        one_msgs = ten_msgs = 0
        for _ in range(2):
            spent, msgs = cost(hub, server.port, 1, seconds / 2)
            one, one_msgs = one + collections.Counter(spent), one_msgs + msgs
            spent, msgs = cost(hub, server.port, 10, seconds / 2)
            ten, ten_msgs = ten + collections.Counter(spent), ten_msgs + msgs
        result: dict[str, Any] = {
            "seconds": seconds,
            "one": one,
            "ten": ten,
            "one_msgs": one_msgs,
            "ten_msgs": ten_msgs,
            "delays": {},
        }
        for exchange in ("binance", "kraken"):
            interval = hub.intervals(exchange).balances
            d1 = delays(hub, server.port, exchange, 1, changes)
            d10 = delays(hub, server.port, exchange, 10, changes)
            result["delays"][exchange] = {"interval": interval, "one": d1, "ten": d10}
    finally:
        hub.notifier.close()
        server.stop()
        hub.close()
    return result


def rows(r: dict[str, Any]) -> list[str]:
    one, ten = sum(r["one"].values()), sum(r["ten"].values())
    ratio = ten / one if one else float("nan")
    lines = [
        f"| requests the simulators received in {r['seconds']:.0f} s | 1 tab | 10 tabs |",
        "| --- | --- | --- |",
        *(
            f"| {path} | {r['one'].get(path, 0)} | {r['ten'].get(path, 0)} |"
            for path in sorted(set(r["one"]) | set(r["ten"]))
        ),
        f"| **all** | **{one}** | **{ten}** ({ratio:.2f}x) |",
        f"| messages the tabs received | {r['one_msgs']} | {r['ten_msgs']} |",
        "",
        "| exchange | balance poll interval | tabs | median delay | max delay | within one poll |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for exchange, d in r["delays"].items():
        for tabs in ("one", "ten"):
            values = d[tabs]
            ok = max(values) <= d["interval"] + 1.0  # one poll, plus the stream's wake-up
            lines.append(
                f"| {exchange} | {d['interval']:.0f} s | {1 if tabs == 'one' else 10} | "
                f"{statistics.median(values):.2f} s | {max(values):.2f} s | "
                f"{'yes' if ok else 'NO'} |"
            )
    return lines


def write_readme(r: dict[str, Any]) -> None:
    section = "\n".join(
        [
            BEGIN,
            "## Web dashboard",
            "",
            "Both simulators in-process with their demo accounts behind one `xest web` hub,",
            "served by uvicorn on loopback, on the development machine (2 cores, shared with",
            "other work). A tab is four event streams (exchanges, account, quotes, market",
            "pages). Requests are counted by the simulators themselves; the windows alternate",
            "(1, 10, 1, 10 tabs, half the time each) and are summed per tab count.",
            "",
            *rows(r),
            "",
            "Ten tabs cost the exchanges what one does: every request above is an agent's poll",
            "(one agent per exchange and per account, one market agent per symbol, which",
            "streams the book and ticker from the simulators' websockets: no REST market polls),",
            "none is a",
            "tab's; the totals differ only by the agents' rhythm on a loaded machine (a poll",
            "that runs late is one fewer in the window), not by the number of tabs.",
            "The delay is from a deposit written into the simulator to the new",
            "balance in the last open tab: the agent's next poll, then at once to every",
            f"stream. {r['delays'] and len(next(iter(r['delays'].values()))['one'])} deposits",
            "per row, each at a random point of the poll interval.",
            "",
            "Reproduce: `.venv/bin/python bench/bench_web.py --readme`.",
            END,
        ]
    )
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    parser.add_argument("--seconds", type=float, default=40.0, help="time per tab count")
    parser.add_argument("--changes", type=int, default=8, help="deposits per delay row")
    args = parser.parse_args()
    result = run(args.seconds, args.changes)
    print("\n".join(rows(result)))
    if args.readme:
        write_readme(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
