"""Fixtures for the CLI tests: the fake exchange (shared with the agent tests) and a runner that
goes through ``xest.cli.main``, so error handling and exit codes are the real ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import attrs
import pytest


def _fake_exchange():
    name = "xest_tests_fake_exchange"
    if name not in sys.modules:
        path = Path(__file__).parent.parent / "agents" / "fake_exchange.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def fake(monkeypatch):
    module = _fake_exchange()
    module.install(monkeypatch)
    return module


@pytest.fixture
def sim(fake):
    with fake.FakeSimulator() as server:
        yield server


@pytest.fixture
def xest_cli(capsys):
    """``xest_cli("status", "fakex", "--sim")`` → Result(code, out, err)."""
    from xest.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
