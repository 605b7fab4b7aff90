"""The event streams over a real server: what they send, that a change arrives, that closing
a tab releases its stream (and the market watch it used)."""

from __future__ import annotations

import http.client
import json
import time

from web_helpers import TOKEN


class Stream:
    """One tab's event stream, read message by message."""

    def __init__(self, server, query: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        self.conn.request("GET", f"/events?{query}", headers={"Cookie": f"xest_web_token={TOKEN}"})
        self.response = self.conn.getresponse()

    def next(self) -> dict:
        event = None
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "state":
                return json.loads(line[6:])

    def close(self) -> None:
        self.conn.close()


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_stream_sends_the_view_then_its_changes(server, hub):
    stream = Stream(server, "view=account&account=binance:bob")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("content-type").startswith("text/event-stream")
        first = stream.next()
        assert first["view"] == "account" and first["data"]["account"] == "binance:bob"
        assert abs(first["now"] - time.time()) < 5
        sim = hub.exchange("binance").simulator
        key = sim.demo_accounts()["bob"][0]
        before = {b["asset"]: b["total"] for b in first["data"]["balances"]}
        with sim.lock:  # a deposit lands on the exchange
            account = sim.exchange_state.accounts[key]
            free, locked = account.balances["USDT"]
            account.balances["USDT"] = (free + 7, locked)
        changed = time.monotonic()
        while True:
            message = stream.next()
            after = {b["asset"]: b["total"] for b in message["data"]["balances"]}
            if after["USDT"] != before["USDT"]:
                break
        delay = time.monotonic() - changed
        interval = hub.intervals("binance").balances
        assert delay < interval + 1.0  # within one poll (and the stream's wake-up)
    finally:
        stream.close()


def test_closing_tabs_releases_their_streams_and_market_watches(server, hub):
    streams = [Stream(server, "view=market&exchange=binance&symbol=BTC/USDT") for _ in range(3)]
    try:
        for s in streams:
            assert s.next()["data"]["symbol"] == "BTC/USDT"
        assert hub.watches.running() == [("binance", "BTC/USDT")]
        assert hub.notifier.streams >= 3
    finally:
        for s in streams:
            s.close()
    wait_for(lambda: hub.notifier.streams == 0 and hub.watches.running() == [])


def test_a_stream_without_the_token_is_refused(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/events?view=exchanges")
    assert conn.getresponse().status == 403
    conn.close()
