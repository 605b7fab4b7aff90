"""What each entry point imports: commands that need no plugin load none, ``xest.open`` loads
only the plugin of the exchange it opens, and the plugin index notices installs at once.

Behaviour, not timing: the figures are in bench/bench_startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xest import plugin_index

PLUGIN_MODULES = ("xest_kraken", "xest_binance", "xest_example")
WATCHED = (
    *PLUGIN_MODULES,
    *("importlib.metadata", "ssl", "tomllib", "urllib3", "attrs", "logging"),
    *("pluggy", "xest.testing", "email"),
)


def run(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; what it printed last is a JSON line; also which of
    WATCHED (and their submodules) it imported."""
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        _loaded = sorted({{m for m in _sys.modules for w in {WATCHED!r}
                          if m == w or m.startswith(w + ".")}})
        print(_json.dumps(_loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    *out, last = result.stdout.splitlines()
    return {"out": "\n".join(out), "modules": set(json.loads(last))}


def cli(*args: str) -> str:
    return f"""
from xest.cli import main
try:
    main({list(args)!r})
except SystemExit as exc:
    assert not exc.code, exc.code
"""


def rows_of(out: str) -> list[dict]:
    """The rows of a ``--json`` listing (inside its schema envelope, when there is one)."""
    data = json.loads(out)
    return data["data"] if isinstance(data, dict) else data


def index_files() -> list[Path]:
    return list(Path(os.environ["XEST_CACHE_DIR"]).glob("plugins-*.index"))


@pytest.fixture
def indexed() -> None:
    """A plugin index for this installation, as after any first run. It is not written while
    something it depends on changed within the last seconds; wait that out if needed."""
    for _ in range(3):
        run(cli("plugins", "list"))
        if index_files():
            return
        time.sleep(plugin_index.RACY_SECONDS)
    pytest.fail("the plugin index was never written")


def plugin_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in PLUGIN_MODULES}


@pytest.mark.parametrize("args", [["--version"], ["config", "path"]])
def test_commands_needing_no_plugin_load_none(args):
    # Not even the entry-point scan: no index is needed either.
    modules = run(cli(*args))["modules"]
    assert plugin_modules(modules) == set()
    assert "importlib.metadata" not in modules
    assert index_files() == []


def test_accounts_list_names_the_exchanges_from_the_index(indexed):
    env = dict(os.environ, XEST_BINANCE_KEY="k", XEST_BINANCE_SECRET="s")
    done = run(cli("accounts", "list", "--json"), env)
    assert plugin_modules(done["modules"]) == set()
    assert '"exchange": "binance"' in done["out"]


def test_version_imports_neither_attrs_nor_logging_nor_the_http_stack():
    modules = run(cli("--version"))["modules"]
    assert not modules & {"attrs", "logging", "urllib3", "ssl"}


def test_help_lists_every_command_without_importing_them(indexed):
    done = run(cli("--help"))
    assert plugin_modules(done["modules"]) == set()
    assert "importlib.metadata" not in done["modules"]
    for name in ("plugins", "status", "ticker", "balance", "order"):
        assert f"\n  {name} " in done["out"], done["out"]


def test_plugins_list_reads_the_index_and_imports_no_connector(indexed):
    done = run(cli("plugins", "list", "--json"))
    assert plugin_modules(done["modules"]) == set()
    assert "importlib.metadata" not in done["modules"]
    rows = rows_of(done["out"])
    by_name = {row["name"]: row for row in rows}
    assert by_name["kraken"]["connectors"][0]["exchange"] == "kraken"
    assert "server_time" in by_name["kraken"]["connectors"][0]["capabilities"]


def test_open_kraken_imports_only_what_kraken_needs(indexed):
    modules = run('import xest\nxest.open("kraken")\n')["modules"]
    assert "xest_kraken.connector" in modules
    assert plugin_modules(modules) <= {m for m in modules if m.startswith("xest_kraken")}
    assert not modules & {"xest_binance", "ssl", "tomllib", "urllib3", "importlib.metadata"}


def test_open_kraken_imports_its_connector_not_its_test_kit_nor_pluggy(indexed):
    # The index says where the connector class lives: no hook is called, so neither the
    # plugin's conformance cases nor pluggy are imported (nor email, for the Date header).
    modules = run('import xest\nxest.open("kraken")\n')["modules"]
    assert not modules & {"xest_kraken.plugin", "xest_kraken.conformance", "xest.testing"}
    assert not modules & {"pluggy", "email.utils"}


def test_open_kraken_with_its_simulator_imports_no_test_kit(indexed):
    code = 'import xest\nwith xest.open("kraken", sim=True) as k:\n    print(k.status().status)\n'
    done = run(code)
    assert "online" in done["out"]
    assert "xest_kraken.simulator" in done["modules"]
    assert not done["modules"] & {"xest_kraken.conformance", "xest.testing.kit"}


def test_the_index_records_where_connectors_and_simulators_live():
    index = plugin_index.current()
    assert index is not None
    assert index.reference("kraken") == "xest_kraken.connector:KrakenConnector"
    assert index.reference("kraken", "simulators") == "xest_kraken.plugin:simulator"
    assert index.reference("nowhere") is None


def _with_references(monkeypatch, reference: str) -> None:
    """The in-process index, with every reference replaced by ``reference``."""
    index = plugin_index.current()
    assert index is not None
    changed = {
        what: {p: dict.fromkeys(found, reference) for p, found in by_plugin.items()}
        for what, by_plugin in index.data["references"].items()
    }
    data = {**index.data, "references": changed}
    monkeypatch.setattr(plugin_index, "_current", plugin_index.Index(data))


@pytest.mark.parametrize("reference", ["xest_no_such_module:Gone", "xest.errors:XestError"])
def test_a_reference_that_gives_no_connector_falls_back_to_the_hooks(monkeypatch, reference):
    from xest_kraken.connector import KrakenConnector

    from xest import registry

    _with_references(monkeypatch, reference)
    assert registry.connector_class("kraken") is KrakenConnector


def test_a_simulator_reference_that_does_not_import_falls_back_to_the_hooks(monkeypatch):
    from xest import registry

    _with_references(monkeypatch, "xest_no_such_module:gone")
    assert registry.simulator_factory("kraken")().exchange == "kraken"


def test_open_kraken_without_an_index_still_works():
    assert index_files() == []
    modules = run('import xest\nxest.open("kraken")\n')["modules"]
    assert "xest_kraken.connector" in modules


def test_the_index_sees_an_install_an_edit_and_an_uninstall(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    old = time.time() - 60  # settled: the index is written at once

    def install(module: str, exchange: str, capabilities: str) -> Path:
        source = f"""
from xest import hookimpl
from xest.connector import Connector
from xest.models import ExchangeStatus, ServerTime

class Toy(Connector):
    exchange = {exchange!r}
    default_url = "http://127.0.0.1:9"
    capabilities = frozenset({capabilities})

    def status(self):
        return ExchangeStatus(status="online")

    def server_time(self):
        raise NotImplementedError

@hookimpl
def xest_register_connectors(register):
    register(Toy)
"""
        (site / f"{module}.py").write_text(source)
        os.utime(site / f"{module}.py", (old, old))
        info = site / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[xest]\n{module} = {module}\n")
        for path in (info / "METADATA", info / "entry_points.txt", info):
            os.utime(path, (old, old))
        return info

    def exchanges() -> dict[str, list[str]]:
        rows = rows_of(run(cli("plugins", "list", "--json"), env)["out"])
        return {c["exchange"]: c["capabilities"] for r in rows for c in r["connectors"]}

    install("xest_toy_a", "toya", "{'status'}")
    assert "toya" in exchanges()
    assert index_files(), "a settled installation is indexed"
    info = install("xest_toy_b", "toyb", "{'status'}")
    assert {"toya", "toyb"} <= set(exchanges())  # installed: seen at once
    # Edited in place (an editable install), timestamps in the past: the size gives it away.
    source = (site / "xest_toy_b.py").read_text()
    (site / "xest_toy_b.py").write_text(source.replace("{'status'}", "{'status', 'server_time'}"))
    os.utime(site / "xest_toy_b.py", (old, old))
    assert exchanges()["toyb"] == ["server_time", "status"]
    for path in info.iterdir():
        path.unlink()
    info.rmdir()
    assert "toyb" not in exchanges()  # uninstalled: gone at once
    done = run('import xest\nprint(xest.open("toya").name)\n', env)
    assert "toya" in done["out"]


def test_the_index_can_be_turned_off():
    env = dict(os.environ, XEST_PLUGIN_INDEX="off")
    for _ in range(2):
        done = run(cli("plugins", "list", "--json"), env)
        assert "kraken" in {row["name"] for row in rows_of(done["out"])}
        assert "importlib.metadata" in done["modules"]  # loaded the plugins itself
    assert index_files() == []


def test_old_indexes_of_other_search_paths_are_pruned(indexed):
    root = Path(os.environ["XEST_CACHE_DIR"])
    stale, recent = root / "plugins-00000000.index", root / "plugins-11111111.index"
    stale.write_bytes(b"")
    recent.write_bytes(b"")
    month_ago = time.time() - (plugin_index.PRUNE_DAYS + 1) * 86400
    os.utime(stale, (month_ago, month_ago))
    for path in index_files():
        if path not in (stale, recent):
            path.unlink()  # the next run writes it again, and prunes
    run(cli("plugins", "list"))
    assert not stale.exists() and recent.exists()
