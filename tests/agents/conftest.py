"""Fixtures for the agent tests: the fake exchange, its simulator, and clients on it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def load_fake_exchange():
    """The shared fake exchange module (tests/agents/fake_exchange.py), loaded once."""
    name = "xest_tests_fake_exchange"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("fake_exchange.py")
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fake_exchange = load_fake_exchange()


@pytest.fixture
def fake(monkeypatch):
    fake_exchange.install(monkeypatch)
    return fake_exchange


@pytest.fixture
def sim(fake):
    with fake.FakeSimulator() as server:
        yield server


@pytest.fixture
def client(sim, fake):
    import xest

    key, secret = sim.demo_credentials()
    with xest.open("fakex", url=sim.url, key=key, secret=secret, cache=False, retries=0) as c:
        yield c
