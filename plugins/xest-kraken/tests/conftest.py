"""Keep every test away from the user's real cache and config directories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XEST_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XEST_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    for name in (
        "XEST_PLUGINS",
        "XEST_KRAKEN_URL",
        "XEST_BINANCE_URL",
        "XEST_KRAKEN_KEY",
        "XEST_KRAKEN_SECRET",
        "XEST_BINANCE_KEY",
        "XEST_BINANCE_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    yield home


# The tests import their helpers (kraken_helpers.py) from this folder.
sys.path.insert(0, str(Path(__file__).parent))
