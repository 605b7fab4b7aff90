"""Startup cost: ``import xest`` and ``xest plugins list`` against ``import click, pluggy``.

Medians over repeated whole-process runs; the figures replace the "startup" section of
bench/README.md. Run: ``.venv/bin/python bench/bench_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- startup:begin -->", "<!-- startup:end -->"
XEST = str(Path(sys.executable).with_name("xest"))

CASES = {
    "floor: python -c 'import click, pluggy'": [sys.executable, "-c", "import click, pluggy"],
    "python -c 'import xest'": [sys.executable, "-c", "import xest"],
    "xest plugins list": [XEST, "plugins", "list"],
    "xest plugins list --json": [XEST, "plugins", "list", "--json"],
}
GOALS = {"python -c 'import xest'": 60.0, "xest plugins list": 100.0}


def median_ms(cmd: list[str], runs: int) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm the bytecode cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = {name: median_ms(cmd, args.runs) for name, cmd in CASES.items()}
    floor = results[next(iter(CASES))]
    lines = [
        BEGIN,
        f"## Startup (median of {args.runs} whole-process runs, {os.cpu_count()} cores)",
        "",
        "| command | median ms | over the floor | goal |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, ms in results.items():
        goal = f"≤ {GOALS[name]:.0f} ms" if name in GOALS else ""
        lines.append(f"| `{name}` | {ms:.1f} | {ms - floor:+.1f} | {goal} |")
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_startup.py`.", END]
    block = "\n".join(lines)
    print(block)
    if args.no_write:
        return
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text)


if __name__ == "__main__":
    main()
