"""Fixtures for the store tests: a real Redis server (one per session, flushed per test)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "http"))

from redissupport import RedisServer

from xest.http import store


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server, monkeypatch):
    """XEST_STORE pointing at a clean Redis."""
    redis_server.flush()
    store.reset()
    monkeypatch.setenv("XEST_STORE", redis_server.url)
    yield redis_server.url
    store.reset()


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    """A Redis of this test's own, to kill and restart."""
    server = RedisServer(tmp_path / "redis").start()
    store.reset()
    monkeypatch.setenv("XEST_STORE", server.url)
    try:
        yield server
    finally:
        server.stop()
        store.reset()
