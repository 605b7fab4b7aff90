"""``xest web`` as a user runs it: registered by the plugin, URL with a token, loopback only
unless told, stops cleanly on SIGTERM / Ctrl-C; and the core never imports it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

XEST = str(Path(sys.executable).with_name("xest"))
ROOT = Path(__file__).resolve().parents[3]


def start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [XEST, "web", "--sim", "--port", "0", "--exchange", "binance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        match = re.search(r"open: (http://\S+)", line)
        if match:
            return proc, match.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"no URL printed: {proc.stderr.read()}")


def stop(proc: subprocess.Popen, sig: int) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_on_loopback_with_a_token_and_stops_cleanly(sig):
    proc, url = start()
    try:
        assert url.startswith("http://127.0.0.1:")
        token = url.split("token=", 1)[1]
        assert len(token) >= 32
        base = url.split("/?", 1)[0]
        with urllib.request.urlopen(f"{base}/api/state?view=exchanges&token={token}") as answer:
            data = json.load(answer)["data"]
        assert [x["name"] for x in data["exchanges"]] == ["binance"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/exchanges")
        assert refused.value.code == 403
    finally:
        code, _out, err = stop(proc, sig)
    assert code in (0, 130), err
    assert "agents stopped, simulators closed" in err
    assert "threads still running" not in err
    assert "Traceback" not in err
    assert token not in err  # the token is printed once, on stdout, and never logged


def test_another_host_prints_a_warning():
    proc, url = start("--host", "127.0.0.2")
    _, _, err = stop(proc, signal.SIGTERM)
    assert url.startswith("http://127.0.0.2:")
    assert "warning: listening on 127.0.0.2" in err


def test_a_busy_port_is_one_line_of_error():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [XEST, "web", "--sim", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode not in (0, None)  # the CLI's code for a configuration error
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use: pick another with --port (0: any free one)"
    ]


def test_the_plugin_is_listed_with_its_command_hook():
    result = subprocess.run(
        [XEST, "plugins", "list", "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    rows = plugins if isinstance(plugins, list) else plugins.get("data", [])
    web = [p for p in rows if p.get("distribution") == "xest-web"]
    assert web, result.stdout
    assert "xest_register_commands" in web[0]["hooks"]
    assert not web[0].get("exchanges")


def test_the_core_never_imports_the_web_plugin():
    code = (
        "import sys, xest, xest.cli, xest.agents, xest.facade;"
        "before = [m for m in sys.modules if m.startswith('xest_web')];"
        "from xest import plugins; plugins.manager();"  # loads the plugin's hook module only
        "web = [m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'jinja2')];"
        "print(before + web)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    for path in (ROOT / "xest").rglob("*.py"):
        assert "xest_web" not in path.read_text(), path
    # What users of the core install: its dependencies and extras (the dev group is not).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = [*project["dependencies"]]
    installed += [d for extra in project.get("optional-dependencies", {}).values() for d in extra]
    for dep in ("starlette", "uvicorn", "jinja2"):
        assert not [d for d in installed if d.lower().startswith(dep)], dep
