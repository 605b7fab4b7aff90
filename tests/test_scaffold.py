"""``xest new-connector NAME`` writes a distribution that installs, is listed, passes the
conformance suite against its own simulator and its own tests, with the places to fill marked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from xest.cli import cli

XEST = Path(sys.executable).with_name("xest")


def test_the_name_is_checked_and_nothing_is_overwritten(tmp_path):
    runner = CliRunner()
    bad = subprocess.run(
        [str(XEST), "new-connector", "Bad-Name", "--dir", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "not a connector name" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "x").exists()
    first = runner.invoke(cli, ["new-connector", "acme", "--dir", str(tmp_path / "d")])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["new-connector", "acme", "--dir", str(tmp_path / "d")])
    assert again.exit_code != 0 and "--force" in str(again.exception)
    forced = runner.invoke(cli, ["new-connector", "acme", "--dir", str(tmp_path / "d"), "--force"])
    assert forced.exit_code == 0


@pytest.mark.timeout(300)
def test_a_new_connector_installs_is_listed_and_passes_the_suite(tmp_path):
    runner = CliRunner()
    done = runner.invoke(cli, ["new-connector", "acme_ex", "--dir", str(tmp_path / "dist")])
    assert done.exit_code == 0, done.output
    dist = tmp_path / "dist"
    layout = sorted(p.name for p in (dist / "xest_acme_ex").iterdir())
    assert layout == [
        "__init__.py",
        "cases.py",
        "connector.py",
        "endpoints.py",
        "errors.py",
        "parse.py",
        "plugin.py",
        "simulator.py",
    ]
    todo = [p for p in dist.rglob("*") if p.is_file() and "TODO(xest)" in p.read_text()]
    assert len(todo) >= 6  # the places to fill are marked

    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    subprocess.run([*pip, str(dist)], check=True, capture_output=True, timeout=240)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("XEST_PLUGINS", None)

    listed = subprocess.run(
        [str(XEST), "plugins", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert "acme_ex" in listed.stdout and '"xest-acme-ex"' in listed.stdout
    json.loads(listed.stdout)

    suite = subprocess.run(
        [str(XEST), "conformance", "acme_ex"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=240,
    )
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-2000:]
    assert "acme_ex: passed" in suite.stdout

    own = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(dist / "tests")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert own.returncode == 0, own.stdout[-3000:]
