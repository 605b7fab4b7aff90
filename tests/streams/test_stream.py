"""Stream mechanics against a loopback websocket server: values, reconnects, resyncs, close."""

from __future__ import annotations

import threading

import pytest

from xest import errors
from xest.streams import Backoff, Feed, Resync, Stream
from xest.streams.check import wait_for
from xest.streams.simserver import WsServer


class Counter(Feed):
    """Subscribes with a hello; yields each number; a negative number means 'state wrong'."""

    kind = "ticker"
    conflate = False
    stale_after = 5.0

    def __init__(self, url, fail_on_open=None):
        self._url = url
        self.fail_on_open = fail_on_open
        self.resets = 0

    def url(self):
        return self._url

    def open(self, conn):
        if self.fail_on_open is not None:
            raise self.fail_on_open
        conn.send({"hello": 1})

    def handle(self, message):
        if message < 0:
            raise Resync("negative", got=message)
        return [message]

    def reset(self):
        self.resets += 1


@pytest.fixture
def server():
    sessions = []
    ready = threading.Event()

    def handler(session):
        sessions.append(session)
        ready.set()
        for _ in session.conn:
            pass

    ws = WsServer(handler, "test").start()
    ws.ready = ready
    ws.sessions_seen = sessions
    yield ws
    ws.stop()


def _send_all(server, value):
    for session in server.each():
        session.send(value)


def test_values_in_order_then_close_ends_iteration(server):
    stream = Stream(Counter(server.url), backoff=Backoff(first=0.01)).start()
    assert server.ready.wait(5)
    assert wait_for(lambda: stream.live)
    for n in (1, 2, 3):
        _send_all(server, n)
    assert [stream.get(timeout=5) for _ in range(3)] == [1, 2, 3]
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)
    assert stream.events()[-1].kind == "closed"


def test_reconnects_after_a_drop_and_says_so(server):
    with Stream(Counter(server.url), backoff=Backoff(first=0.01)) as stream:
        assert wait_for(lambda: server.connections == 1 and stream.live)
        server.inject("drop")
        assert wait_for(lambda: server.connections == 2 and stream.live, timeout=10)
        kinds = [e.kind for e in stream.events()]
        assert kinds[:3] == ["connected", "disconnected", "connected"]
        assert stream.feed.resets >= 1
        _send_all(server, 7)
        assert stream.get(timeout=5) == 7


def test_resync_drops_the_state_and_starts_over(server):
    with Stream(Counter(server.url), backoff=Backoff(first=0.01)) as stream:
        assert wait_for(lambda: stream.live)
        _send_all(server, 5)
        assert stream.get(timeout=5) == 5
        with stream.listen("resync") as events:
            _send_all(server, -1)
            event = events.get(timeout=5)
        assert event.data == {"source": "stream", "reason": "negative", "got": -1}
        assert wait_for(lambda: server.connections == 2 and stream.live, timeout=10)
        assert stream.resyncs == 1


def test_a_fatal_error_reaches_the_reader(server):
    feed = Counter(server.url, fail_on_open=errors.AuthenticationError("bad key"))
    stream = Stream(feed).start()
    with pytest.raises(errors.AuthenticationError, match="bad key"):
        stream.get(timeout=5)
    assert stream.events("failed")


def test_unreachable_server_backs_off_and_keeps_trying():
    stream = Stream(Counter("ws://127.0.0.1:9"), backoff=Backoff(first=0.01, cap=0.05))
    with stream:
        assert wait_for(lambda: len(stream.events("disconnected")) >= 3, timeout=10)
        assert stream.latest is None and not stream.live


def test_stale_feed_reconnects(server):
    feed = Counter(server.url)
    feed.stale_after = 0.2
    with Stream(feed, backoff=Backoff(first=0.01)) as stream:
        assert wait_for(lambda: stream.events("stale"), timeout=10)
        assert wait_for(lambda: server.connections >= 2)
