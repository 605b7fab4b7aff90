"""Shared fixtures: a hub over both simulators, the app behind its guard, a real server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from xest.testing.isolation import isolated_xest  # noqa: F401  (autouse)

sys.path.insert(0, str(Path(__file__).parent))

from web_helpers import TOKEN

EXCHANGES = ("binance", "kraken")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Both simulators with their demo accounts, agents running (one hub per test module)."""
    from xest_web.hub import Hub

    home = tmp_path_factory.mktemp("web-home")
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("XEST_")]:
            mp.delenv(name)
        mp.setenv("XEST_CACHE_DIR", str(home / "cache"))
        mp.setenv("XEST_CONFIG", str(home / "config.toml"))
        hub = Hub.simulated_exchanges(EXCHANGES)
        hub.start(wait=True)
        try:
            yield hub
        finally:
            hub.close()


@pytest.fixture(scope="module")
def app(hub):
    from xest_web.app import create_app

    return create_app(hub, token=TOKEN)


@pytest.fixture
def client(app):
    """A test client that already holds the token cookie (as a browser after the first load)."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1:8750") as c:
        c.cookies.set("xest_web_token", TOKEN)
        yield c


@pytest.fixture
def anonymous(app):
    """A test client without the token."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1:8750") as c:
        yield c


class Server:
    """The app served on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        from xest_web.background import BackgroundServer

        self.background = BackgroundServer(app)
        self.port = self.background.port
        self.base = self.background.base

    @property
    def url(self) -> str:
        return f"{self.base}/?token={TOKEN}"

    def start(self) -> Server:
        self.background.start()
        return self

    def stop(self) -> None:
        self.background.stop()


@pytest.fixture(scope="module")
def server(app, hub) -> Iterator[Server]:
    srv = Server(app).start()
    try:
        yield srv
    finally:
        hub.notifier.close()  # end the streams so the server stops at once
        srv.stop()
        hub.notifier.closing = False
