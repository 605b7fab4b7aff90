"""Plugin loading through real entry points: throwaway distributions on disk, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xest.schemas import parse as jdoc
from xest.testing.server import LoopbackServer, route

GOOD = """
from xest import hookimpl
from xest.connector import Connector
from xest.models import ExchangeStatus

class Toy(Connector):
    exchange = "toy"
    default_url = "http://127.0.0.1:9"
    capabilities = frozenset({"status"})

    def status(self):
        return ExchangeStatus(status="online")

@hookimpl
def xest_register_connectors(register):
    register(Toy)
"""

BROKEN_AT_IMPORT = """
raise RuntimeError("this plugin is broken on purpose")
"""

UNKNOWN_HOOK = """
from xest import hookimpl

@hookimpl
def xest_frobnicate(register):
    pass
"""

WRONG_ARGUMENTS = """
from xest import hookimpl

@hookimpl
def xest_register_connectors(reg, extra):
    pass
"""

BAD_REGISTRATION = """
from xest import hookimpl

@hookimpl
def xest_register_connectors(register):
    register(object)
"""


def make_distribution(site: Path, dist: str, module: str, source: str, version: str = "1.2.3"):
    """A minimal installed distribution: a module and its .dist-info with an entry point."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[xest]\n{module} = {module}\n")
    return info


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site"
    path.mkdir()
    return path


def xest_cli(site: Path, *args: str, plugins: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("XEST_PLUGINS", None)
    if plugins is not None:
        env["XEST_PLUGINS"] = plugins
    return subprocess.run(
        [sys.executable, "-m", "xest", *args], env=env, capture_output=True, text=True, timeout=60
    )


def listed(site: Path, plugins: str | None = None) -> dict[str, dict]:
    result = xest_cli(site, "plugins", "list", "--json", plugins=plugins)
    assert result.returncode == 0, result.stderr
    return {row["distribution"]: row for row in jdoc(result.stdout)}


def test_good_plugin_is_listed_with_version_hooks_and_capabilities(site):
    make_distribution(site, "xest-toy", "xest_toy_plugin", GOOD)
    row = listed(site)["xest-toy"]
    assert row == {
        "name": "xest_toy_plugin",
        "distribution": "xest-toy",
        "version": "1.2.3",
        "hooks": ["xest_register_connectors"],
        "connectors": [{"exchange": "toy", "capabilities": ["status"]}],
        "status": "loaded",
        "error": None,
    }


def test_the_shipped_connectors_are_listed(site):
    rows = listed(site)
    assert rows["xest-kraken"]["status"] == "loaded"
    assert rows["xest-binance"]["status"] == "loaded"
    exchanges = {c["exchange"] for r in rows.values() for c in r["connectors"]}
    assert {"kraken", "binance"} <= exchanges
    assert "server_time" in rows["xest-kraken"]["connectors"][0]["capabilities"]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (BROKEN_AT_IMPORT, "RuntimeError: this plugin is broken on purpose"),
        (UNKNOWN_HOOK, "xest_frobnicate"),
        (WRONG_ARGUMENTS, "xest_register_connectors"),
        (BAD_REGISTRATION, "not a subclass of xest.connector.Connector"),
    ],
    ids=["raises-at-import", "unknown-hook", "wrong-arguments", "bad-registration"],
)
def test_faulty_plugin_is_failed_and_the_others_still_load(site, source, reason):
    make_distribution(site, "xest-faulty", "xest_faulty_plugin", source)
    make_distribution(site, "xest-toy", "xest_toy_plugin", GOOD)
    rows = listed(site)
    assert rows["xest-faulty"]["status"] == "failed"
    assert reason in rows["xest-faulty"]["error"]
    assert rows["xest-toy"]["status"] == "loaded"
    assert rows["xest-kraken"]["status"] == "loaded"


@pytest.mark.parametrize("declared", ["2", "(2, 3)", "(0, 0)"])
def test_plugin_built_for_another_api_is_refused_with_its_reason(site, declared):
    source = f"XEST_PLUGIN_API = {declared}\n" + GOOD.replace("toy", "future")
    make_distribution(site, "xest-future", "xest_future_plugin", source)
    make_distribution(site, "xest-toy", "xest_toy_plugin", GOOD)
    rows = listed(site)
    future = rows["xest-future"]
    assert future["status"] == "refused"
    assert "this xest provides 1" in future["error"]
    assert future["connectors"] == [] and future["hooks"] == []
    assert rows["xest-toy"]["status"] == "loaded"
    # refused means not loaded: its exchange does not exist for the CLI
    result = xest_cli(site, "status", "future")
    assert result.returncode != 0
    table = xest_cli(site, "plugins", "list")
    assert "xest_future_plugin refused: built for xest plugin API" in table.stdout


@pytest.mark.parametrize("declared", ["1", "(1, 3)", "(0, 1)"])
def test_plugin_whose_api_range_covers_the_core_loads(site, declared):
    make_distribution(site, "xest-toy", "xest_toy_plugin", f"XEST_PLUGIN_API = {declared}\n" + GOOD)
    assert listed(site)["xest-toy"]["status"] == "loaded"


def test_a_malformed_api_declaration_fails_with_what_is_expected(site):
    make_distribution(site, "xest-toy", "xest_toy_plugin", 'XEST_PLUGIN_API = "1"\n' + GOOD)
    row = listed(site)["xest-toy"]
    assert row["status"] == "failed"
    assert "XEST_PLUGIN_API must be an int or an (oldest, newest) pair" in row["error"]


def test_shipped_plugins_declare_the_api_they_are_written_for():
    import importlib

    from xest import hookspecs, plugins

    for module in ("xest_kraken.plugin", "xest_binance.plugin", "xest_example.plugin"):
        oldest, newest = plugins.supported_api(importlib.import_module(module))
        assert oldest <= hookspecs.PLUGIN_API <= newest, module


def test_table_output_shows_failed_plugins_with_their_reason(site):
    make_distribution(site, "xest-faulty", "xest_faulty_plugin", BROKEN_AT_IMPORT)
    result = xest_cli(site, "plugins", "list")
    assert result.returncode == 0
    assert "failed" in result.stdout
    assert "broken on purpose" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


class KrakenStatusOnly(LoopbackServer):
    @route("GET", "/0/public/SystemStatus")
    def system_status(self, request):
        return {"error": [], "result": {"status": "online", "timestamp": "2023-07-06T18:52:00Z"}}


def test_status_still_works_next_to_a_broken_plugin(site):
    make_distribution(site, "xest-faulty", "xest_faulty_plugin", BROKEN_AT_IMPORT)
    with KrakenStatusOnly() as server:
        result = xest_cli(site, "status", "kraken", "--url", server.url, "--json", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert jdoc(result.stdout)[0]["status"] == "online"


def test_xest_plugins_selects_distributions(site):
    make_distribution(site, "xest-toy", "xest_toy_plugin", GOOD)
    assert set(listed(site, plugins="xest-toy")) == {"xest-toy"}
    assert set(listed(site, plugins="xest_toy, xest-kraken")) == {"xest-toy", "xest-kraken"}
    assert listed(site, plugins="") == {}


def test_removing_a_distribution_removes_it_and_adding_it_back_restores_it(site):
    info = make_distribution(site, "xest-toy", "xest_toy_plugin", GOOD)
    assert "xest-toy" in listed(site)
    saved = {p.name: p.read_text() for p in info.iterdir()}
    for p in info.iterdir():
        p.unlink()
    info.rmdir()
    assert "xest-toy" not in listed(site)
    info.mkdir()
    for name, text in saved.items():
        (info / name).write_text(text)
    assert "xest-toy" in listed(site)


def test_unreachable_host_is_one_line_naming_it(site):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = xest_cli(site, "status", "kraken", "--url", "http://127.0.0.1:9", "--no-cache")
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:9" in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(site):
    result = xest_cli(
        site, "--debug", "status", "kraken", "--url", "http://127.0.0.1:9", "--no-cache"
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_plugins_list_does_not_import_the_http_stack(site):
    code = (
        "import sys\n"
        "from xest.cli import main\n"
        "try:\n    main(['plugins', 'list', '--json'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('urllib3', 'diskcache', 'xest.http.transport') "
        "if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert "HEAVY []" in result.stderr, result.stderr


def test_every_builtin_command_is_where_the_cli_looks_for_it():
    import importlib

    import click

    from xest.cli import COMMANDS

    for name, module in COMMANDS.items():
        scratch = click.Group()
        importlib.import_module(module).register(scratch)
        assert name in scratch.commands, f"{module} does not register {name!r}"


def test_a_command_exit_code_reaches_the_shell(site):
    plugin = """
import click
from xest import hookimpl

@hookimpl
def xest_register_commands(cli):
    @cli.command("fail-softly")
    @click.pass_context
    def fail_softly(ctx):
        ctx.exit(3)
"""
    make_distribution(site, "xest-exits", "xest_exits_plugin", plugin)
    assert xest_cli(site, "fail-softly").returncode == 3
