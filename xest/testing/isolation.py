"""A pytest fixture that keeps tests away from the user's real xest state.

Import it into a ``conftest.py`` to apply it to every test there::

    from xest.testing.isolation import isolated_xest  # noqa: F401

Cache, config and nonce files go to a fresh temporary home, and every ``XEST_*`` variable of
the developer's shell (keys, URLs, plugin selection) is removed, so a test sees what CI sees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_xest(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A temporary home for xest's cache and config; no ``XEST_*`` variable leaks in."""
    for name in [n for n in os.environ if n.startswith("XEST_")]:
        monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XEST_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XEST_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    yield home
