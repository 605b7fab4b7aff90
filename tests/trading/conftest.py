"""Fixtures for the trading tests: the tradex simulator, a connector on it, account agents."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load_tradex():
    name = "xest_tests_tradex"
    if name not in sys.modules:
        path = Path(__file__).with_name("tradex.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


tradex = _load_tradex()


@pytest.fixture
def tx(monkeypatch):
    tradex.install(monkeypatch)
    return tradex


@pytest.fixture
def sim(tx):
    with tx.TradexSimulator() as server:
        yield server


def make_connector(
    sim, key=tradex.DEMO_KEY, secret=tradex.DEMO_SECRET, account="demo", read_timeout=5.0
):
    from xest.clock import RemoteClock
    from xest.credentials import Credentials
    from xest.http import Transport

    clock = RemoteClock()
    transport = Transport(
        "tradex", sim.url, cache=False, retries=1, read_timeout=read_timeout, clock=clock
    )
    connector = tradex.TradexConnector(transport, Credentials(key, secret, account))
    return connector, clock


@pytest.fixture
def connector(sim):
    return make_connector(sim)[0]


def make_agent(sim, **options):
    from xest.agents.account import AccountAgent

    connector, clock = make_connector(
        sim, **{k: options.pop(k) for k in ("key", "account", "read_timeout") if k in options}
    )

    def refresh():
        import time

        sent = time.monotonic()
        reading = connector.server_time()
        clock.observe(reading.time, sent, time.monotonic(), resolution=reading.resolution)

    options.setdefault("lookup_delay", 0.0)
    options.setdefault("orders_interval", 0.05)
    options.setdefault("balance_interval", 0.05)
    return AccountAgent(connector, clock=clock, refresh_clock=refresh, **options)


@pytest.fixture
def agent(sim):
    a = make_agent(sim)
    yield a
    a.stop()


@pytest.fixture
def new_agent():
    """``new_agent(sim, **options)``: account agents stopped at the end of the test."""
    agents = []

    def factory(sim, **options):
        a = make_agent(sim, **options)
        agents.append(a)
        return a

    yield factory
    for a in agents:
        a.stop()


@pytest.fixture
def new_sim(tx):
    """``new_sim(clock_offset=...)``: more simulators, stopped at the end of the test."""
    sims = []

    def factory(**options):
        s = tx.TradexSimulator(**options).start()
        sims.append(s)
        return s

    yield factory
    for s in sims:
        s.stop()
