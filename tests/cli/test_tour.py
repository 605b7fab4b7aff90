"""The quick-start tour (scripts/tour.sh, what `python3 dev.py tour` runs) works end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xest import registry

ROOT = Path(__file__).resolve().parents[2]


def test_tour_runs_against_the_simulators(tmp_path):
    if not {"kraken", "binance"} <= set(registry.simulators()):
        pytest.skip("the tour needs the kraken and binance simulators")
    env = {
        **os.environ,
        "XEST_CACHE_DIR": str(tmp_path / "cache"),
        "XEST_CONFIG": str(tmp_path / "config.toml"),
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "tour.sh"), str(Path(sys.executable).parent)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    for expected in (
        "kraken    online",
        "binance   online",
        "BTC/USD",
        "BID AMOUNT",
        "USDT",
        "Ctrl-C to quit",
    ):
        assert expected in out
    assert "error:" not in proc.stderr
