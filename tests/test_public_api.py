"""The public API exists where docs/api.md says, and every exported name resolves."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xest

API_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"
PUBLIC_MODULES = re.findall(r"^\| `(xest(?:\.\w+)?)` \|", API_PAGE.read_text(), re.MULTILINE)


def test_the_page_lists_the_public_modules():
    assert {"xest", "xest.models", "xest.errors", "xest.connector", "xest.http"} <= set(
        PUBLIC_MODULES
    )


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_each_public_module_declares_all_and_every_name_resolves(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_names_the_page_lists_are_exported(name):
    row = next(
        line for line in API_PAGE.read_text().splitlines() if line.startswith(f"| `{name}` |")
    )
    listed = set(re.findall(r"`([A-Za-z_][\w]*)`", row.split("|")[3]))
    module = importlib.import_module(name)
    listed -= {"__all__"}  # "every name in its __all__"
    assert listed <= set(module.__all__), listed - set(module.__all__)


def test_submodules_are_reachable_from_import_xest_without_importing_them_first():
    code = (
        "import sys, xest\n"
        "assert 'xest.errors' not in sys.modules\n"
        "assert issubclass(xest.errors.BadSymbol, xest.errors.XestError)\n"
        "assert xest.models.Side('buy') is xest.models.Side.BUY\n"
        "assert xest.connector.Connector and xest.http.Endpoint and xest.testing.route\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_an_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        _ = xest.frobnicate


def test_the_version_is_the_distributions():
    assert xest.__version__ == importlib.metadata.version("xest")
