"""The suite's fixtures; registered only while the suite runs (``--xest-connector``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from xest.testing.conformance.harness import Context, Harness
from xest.testing.proxy import FaultProxy


@pytest.fixture(scope="session")
def xest_harness(request: pytest.FixtureRequest, xest_exchange: str) -> Harness:
    """What the suite knows about the connector under test."""
    return request.config.pluginmanager.get_plugin("xest-conformance").harnesses[xest_exchange]


@pytest.fixture(scope="session")
def xest_sim(xest_harness: Harness) -> Any:
    """The connector's simulator, one per connector per session."""
    sim = xest_harness.start_sim()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def xest_proxy(xest_sim: Any) -> FaultProxy:
    """The fault-injecting proxy in front of the simulator (faults are cleared after each test)."""
    proxy = FaultProxy(xest_sim.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def xest_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xest_harness: Harness) -> Path:
    """Cache and config in a fresh temporary directory; no credentials or URL from the
    caller's environment."""
    monkeypatch.setenv("XEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XEST_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    prefix = f"XEST_{xest_harness.name.upper().replace('-', '_')}_"
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def xest_ctx(
    xest_harness: Harness, xest_sim: Any, xest_proxy: FaultProxy, xest_env: Path
) -> Context:
    """A client of the connector, through a fault proxy, to its simulator's demo account."""
    ctx = Context(xest_harness, xest_sim, xest_proxy)
    yield ctx
    ctx.close()
