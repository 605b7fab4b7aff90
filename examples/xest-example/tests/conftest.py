"""Keep every test away from the user's real cache, config and credentials."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XEST_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XEST_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    for name in list(os.environ):
        if name.startswith("XEST_EXAMPLE_") or name == "XEST_PLUGINS":
            monkeypatch.delenv(name)
    yield home
