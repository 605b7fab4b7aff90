"""The process's deadline thread: every passed deadline fires, finished calls leave nothing."""

from __future__ import annotations

import threading
import time

from xest.http import deadline


class _Conn:
    """Stands for a connection: records that its socket was shut down."""

    def __init__(self) -> None:
        self.shut = threading.Event()
        self.sock = self

    def shutdown(self, how: int) -> None:
        self.shut.set()


def test_a_short_deadline_fires_while_a_long_one_is_pending():
    with deadline.bounded(60) as long:
        long.attach(_Conn())
        conn = _Conn()
        with deadline.bounded(0.05) as short:
            short.attach(conn)
            assert conn.shut.wait(2), "the short deadline never fired"
            assert short.fired and not long.fired


def test_finished_calls_are_forgotten_at_once():
    reaper = deadline._reaper()
    before = len(reaper._live)
    for _ in range(100):
        with deadline.bounded(60):
            pass
    assert len(reaper._live) == before


def test_deadlines_registered_from_many_threads_all_fire():
    conns = [_Conn() for _ in range(16)]

    def call(conn: _Conn) -> None:
        with deadline.bounded(0.05) as limit:
            limit.attach(conn)
            conn.shut.wait(2)

    threads = [threading.Thread(target=call, args=(c,)) for c in conns]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert all(c.shut.is_set() for c in conns)
    assert time.monotonic() - start < 3
