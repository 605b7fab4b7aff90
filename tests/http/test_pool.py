"""The connection pool keeps as many connections per host as a client runs calls at once."""

from __future__ import annotations

import logging
import threading

import pytest
from httpsupport import TIME

from xest import errors
from xest.http import Transport
from xest.http import pool as shared  # the process pool every transport uses


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    monkeypatch.delenv("XEST_MAX_CONNECTIONS", raising=False)
    monkeypatch.setattr(shared, "_pool", None)
    monkeypatch.setattr(shared, "_pool_size", 0)


def test_64_threads_on_one_client_discard_no_connection(sim, caplog):
    # Generous timeouts: the machine may be busy; what is checked is the pool, not the speed.
    t = Transport("echo", sim.url, connect_timeout=30, read_timeout=60)
    start = threading.Barrier(64)
    failures = []

    def work():
        start.wait()
        try:
            for _ in range(3):
                t.request(TIME)
        except Exception as exc:  # reported below, not lost in a thread
            failures.append(exc)

    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        threads = [threading.Thread(target=work) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert sim.hits["/time"] == 192
    assert not [r for r in caplog.records if "discarding connection" in r.getMessage()]


def test_the_pool_grows_to_what_a_transport_asks(sim):
    assert shared.pool_size() == shared.DEFAULT_MAX_CONNECTIONS
    first = shared.pool()
    Transport("echo", sim.url, max_connections=200)
    assert shared.pool_size() == 200
    assert shared.pool() is not first
    assert shared.pool().connection_pool_kw["maxsize"] == 200
    Transport("echo", sim.url, max_connections=10)  # never shrinks under other clients
    assert shared.pool_size() == 200


def test_the_environment_sets_the_size(monkeypatch):
    monkeypatch.setenv("XEST_MAX_CONNECTIONS", "128")
    assert shared.pool_size() == 128
    monkeypatch.setattr(shared, "_pool_size", 0)
    monkeypatch.setenv("XEST_MAX_CONNECTIONS", "lots")
    with pytest.raises(errors.ConfigError, match="XEST_MAX_CONNECTIONS"):
        shared.pool_size()
