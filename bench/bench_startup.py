"""Startup cost: xest's commands against a click + pluggy floor app, in the same run.

Whole-process runs, interleaved (each round runs every command once, in a shuffled order, so
the machine's load falls on all of them alike); the figures are medians. The floor app
(``bench/floor_app.py``) does the least a click + pluggy tool does: ``--version``, ``--help``,
and ``plugins list`` reading the ``xest`` entry points into a pluggy manager.

``xest plugins list`` and ``--help`` read the plugin index (``xest.plugin_index``); the bench
runs each command once before timing, so the index exists, as it does after a first run.

Run: ``.venv/bin/python bench/bench_startup.py [--runs N] [--no-write]``; the figures replace
the "startup" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
README = HERE / "README.md"
BEGIN, END = "<!-- startup:begin -->", "<!-- startup:end -->"
PY = sys.executable
XEST = str(Path(sys.executable).with_name("xest"))
FLOOR = [PY, str(HERE / "floor_app.py")]

CASES = {
    "floor --version": [*FLOOR, "--version"],
    "xest --version": [XEST, "--version"],
    "floor --help": [*FLOOR, "--help"],
    "xest --help": [XEST, "--help"],
    "floor plugins list": [*FLOOR, "plugins", "list"],
    "xest plugins list": [XEST, "plugins", "list"],
    "xest plugins list --json": [XEST, "plugins", "list", "--json"],
    "python -c 'import click, pluggy'": [PY, "-c", "import click, pluggy"],
    "python -c 'import xest'": [PY, "-c", "import xest"],
    "import xest; xest.open('kraken')": [PY, "-c", "import xest; xest.open('kraken')"],
}
# (case, its floor, goal as a ratio) and (case, goal in ms)
RATIO_GOALS = [
    ("xest --version", "floor --version", 1.2),
    ("xest --help", "floor --help", 1.3),
    ("xest plugins list", "floor plugins list", 1.25),
]
MS_GOALS = {"import xest; xest.open('kraken')": 90.0, "python -c 'import xest'": 60.0}


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=HERE)
    return (time.perf_counter() - start) * 1000


INDEX_IS_FRESH = (
    "import sys; from xest import plugin_index as p; k = p._key(); "
    "sys.exit(0 if p._read(p._path(k), k) is not None else 1)"
)


def measure(runs: int) -> dict[str, float]:
    env = dict(os.environ)
    # An installed package runs from bytecode (pip compiles it at install). With this variable
    # set (this machine's shells set it) no run of an editable checkout would ever write its
    # bytecode, and every run would compile xest's modules again (~50 ms): not what users see.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(3):
        for cmd in CASES.values():  # bytecode caches, the plugin index
            run_once(cmd, env)
        # The index is not written within 2 s of a change to what it depends on: without it
        # every run would load the plugins. Wait until it is there.
        if subprocess.run([PY, "-c", INDEX_IS_FRESH], env=env, cwd=HERE).returncode == 0:
            break
        time.sleep(2.5)
    else:
        raise SystemExit("the plugin index is never written: is the cache directory writable?")
    times: dict[str, list[float]] = {name: [] for name in CASES}
    names = list(CASES)
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            times[name].append(run_once(CASES[name], env))
    return {name: statistics.median(values) for name, values in times.items()}


def report(results: dict[str, float], runs: int) -> str:
    lines = [
        BEGIN,
        f"## Startup (median of {runs} interleaved whole-process runs, {os.cpu_count()} cores)",
        "",
        "| command | median ms | against its floor | goal | met |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    ratios = {case: (floor, goal) for case, floor, goal in RATIO_GOALS}
    for name, ms in results.items():
        ratio = goal = met = ""
        if name in ratios:
            floor, target = ratios[name]
            value = ms / results[floor]
            ratio, goal = f"{value:.2f}x `{floor}`", f"≤ {target}x"
            met = "yes" if value <= target else "no"
        elif name in MS_GOALS:
            goal = f"≤ {MS_GOALS[name]:.0f} ms"
            met = "yes" if ms <= MS_GOALS[name] else "no"
        lines.append(f"| `{name}` | {ms:.1f} | {ratio} | {goal} | {met} |")
    lines += ["", "Reproduce: `.venv/bin/python bench/bench_startup.py`.", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    block = report(measure(args.runs), args.runs)
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
