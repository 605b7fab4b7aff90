"""``xest sim EX`` standalone: serves on loopback, hands over demo keys in a private file only."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xest import registry


@pytest.mark.parametrize("exchange", ["kraken", "binance"])
def test_standalone_simulator_serves_the_demo_account_without_printing_its_keys(exchange):
    if exchange not in registry.simulators():
        pytest.skip(f"the {exchange} plugin registers no simulator")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xest", "sim", exchange],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = re.search(r"http://127\.0\.0\.1:\d+", lines[0]).group(0)
        env_file = Path(re.search(r"source (\S+\.env)", lines[2]).group(1))
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = dict(
            line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
        )
        key = values[f"XEST_{exchange.upper()}_KEY"]
        secret = values[f"XEST_{exchange.upper()}_SECRET"]
        assert key not in "".join(lines) and secret not in "".join(lines)
        env = dict(os.environ, **values)
        balance = subprocess.run(
            [sys.executable, "-m", "xest", "balance", exchange, "--url", url, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert balance.returncode == 0, balance.stderr
        assert key not in balance.stdout + balance.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while env_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not env_file.exists(), "the demo key file must go when the simulator stops"
