"""``xest accounts list`` and ``xest config path``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from xest.schemas import parse as jdoc

CONFIG = """
[accounts.alice]
exchange = "kraken"
key_env = "ALICE_KEY"
secret_env = "ALICE_SECRET"

[accounts.bob]
exchange = "binance"
key = "bob-inline-key-123"
secret = "bob-inline-secret-456"
default = true
"""


def write_config(tmp_path, monkeypatch, mode=0o600):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    os.chmod(path, mode)
    monkeypatch.setenv("XEST_CONFIG", str(path))
    return path


def test_accounts_list_shows_names_never_secrets(xest_cli, tmp_path, monkeypatch):
    path = write_config(tmp_path, monkeypatch)
    monkeypatch.setenv("ALICE_KEY", "alice-env-key-789")
    monkeypatch.setenv("ALICE_SECRET", "alice-env-secret-000")
    monkeypatch.setenv("XEST_KRAKEN_KEY", "kraken-env-key-111")
    monkeypatch.setenv("XEST_KRAKEN_SECRET", "kraken-env-secret-222")
    table = xest_cli("accounts", "list")
    assert table.code == 0, table.err
    rows = {line.split()[0]: line for line in table.out.splitlines()[1:]}
    assert set(rows) == {"alice", "bob", "default"}
    assert "env:ALICE_SECRET" in rows["alice"] and "inline" in rows["bob"]
    assert "environment" in rows["default"] and "kraken" in rows["default"]
    data = jdoc(xest_cli("accounts", "list", "--json").out)
    assert {(a["name"], a["exchange"]) for a in data} == {
        ("alice", "kraken"),
        ("bob", "binance"),
        ("default", "kraken"),
    }
    assert next(a for a in data if a["name"] == "bob")["source"] == str(path)
    only = jdoc(xest_cli("--json", "accounts", "list", "binance").out)
    assert [a["name"] for a in only] == ["bob"]
    everything = table.out + table.err + json.dumps(data)
    for secret in (
        "bob-inline-key-123",
        "bob-inline-secret-456",
        "alice-env-key-789",
        "alice-env-secret-000",
        "kraken-env-key-111",
        "kraken-env-secret-222",
    ):
        assert secret not in everything


def test_accounts_list_without_accounts_says_how_to_add_one(xest_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XEST_CONFIG", str(tmp_path / "none.toml"))
    result = xest_cli("accounts", "list")
    assert result.code == 0
    assert "no accounts" in result.out and str(tmp_path / "none.toml") in result.out


def test_broken_config_is_a_one_line_error(xest_cli, tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("[accounts.x]\nexchange = 'kraken'\npassword = 'hunter2'\n")
    monkeypatch.setenv("XEST_CONFIG", str(path))
    result = xest_cli("accounts", "list")
    assert result.code == 3
    assert result.err.count("\n") == 1 and "unknown field(s) password" in result.err
    assert "hunter2" not in result.err


def test_config_path(xest_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XEST_CONFIG", str(tmp_path / "c.toml"))
    assert xest_cli("config", "path").out == f"{tmp_path / 'c.toml'}\n"
    monkeypatch.delenv("XEST_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = xest_cli("config", "path", "--json")
    assert jdoc(result.out) == {
        "path": str(tmp_path / "xdg" / "xest" / "config.toml"),
        "exists": False,
    }


def test_readable_config_warns_in_one_line(tmp_path):
    """Through a real process: the warning reaches stderr as one line, and the command works."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    os.chmod(path, 0o644)
    env = {**os.environ, "XEST_CONFIG": str(path), "XEST_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "xest", "accounts", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "chmod 600" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert proc.stderr.count("\n") == 1
    assert "alice" in proc.stdout


def test_accounts_list_says_which_variable_is_missing(xest_cli, tmp_path, monkeypatch):
    write_config(tmp_path, monkeypatch)
    monkeypatch.setenv("ALICE_KEY", "alice-env-key-789")
    monkeypatch.delenv("ALICE_SECRET", raising=False)
    data = {a["name"]: a for a in jdoc(xest_cli("accounts", "list", "--json").out)}
    assert data["alice"]["ready"] == "no: $ALICE_SECRET not set"
    assert data["bob"]["ready"] == "yes"
    monkeypatch.setenv("ALICE_SECRET", "alice-env-secret-000")
    table = xest_cli("accounts", "list").out
    alice = next(line for line in table.splitlines() if line.startswith("alice"))
    assert " yes " in alice and "alice-env" not in table
