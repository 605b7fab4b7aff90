"""Fixtures for the transport tests (helpers live in ``httpsupport``, next to this file)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from httpsupport import EchoExchange


@pytest.fixture
def sim():
    server = EchoExchange().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _default_timeouts(monkeypatch):
    for name in ("XEST_CONNECT_TIMEOUT", "XEST_READ_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
