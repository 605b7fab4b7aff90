#!/usr/bin/env python3
"""Set up the project's virtualenv and run its main jobs. Standard library only.

    python3 dev.py tour    # set up .venv, then a short tour against the simulated exchanges
    python3 dev.py test    # set up .venv, then lint and every test: core, plugins, conformance

Idempotent: .venv is reused; packages are reinstalled only when a pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DISTRIBUTIONS = [
    ROOT,
    *(ROOT / "plugins" / name for name in ("xest-kraken", "xest-binance", "xest-web")),
]
EXAMPLE = ROOT / "examples" / "xest-example"
STAMP = VENV / ".xest-installed"


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def _fingerprint(dists: list[Path]) -> str:
    digest = hashlib.sha256()
    for dist in dists:
        digest.update((dist / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"xest needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    dists = DISTRIBUTIONS + ([EXAMPLE] if (EXAMPLE / "pyproject.toml").exists() else [])
    fingerprint = _fingerprint(dists)
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    # pip 25.1 reads dependency groups (the development tools live in the `dev` group).
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1")
    editable = []
    for dist in dists:
        editable += ["-e", dist]
    run(PYTHON, "-m", "pip", "install", "--quiet", "--group", "dev", *editable)
    STAMP.write_text(fingerprint)


def tour() -> int:
    script = ROOT / "scripts" / "tour.sh"
    if script.exists():
        return run("bash", script, str(BIN), check=False)
    return run(BIN / "xest", "plugins", "list", check=False)


def test() -> int:
    """Lint, type-check, every test (the core's, each plugin's, the example's), the conformance
    suite against both shipped connectors, the built distributions' checks, then the core's and
    the connectors' tests on the other Python versions the classifiers claim. Tests keep their
    own cache and config directories."""
    ruff = BIN / "ruff"
    status = run(ruff, "check", ".", check=False)
    if status == 0:
        status = run(ruff, "format", "--check", ".", check=False)
    if status == 0:  # type-check the core, both plugins and the example ([tool.mypy])
        status = run(PYTHON, "-m", "mypy", check=False)
    suites = ["tests", *(str(p) for p in sorted((ROOT / "plugins").glob("*/tests")))]
    if (EXAMPLE / "tests").exists():
        suites.append(str(EXAMPLE / "tests"))
    if status == 0:
        status = run(PYTHON, "-m", "pytest", "-q", *suites, check=False)
    if status == 0:
        connectors = ("--xest-connector", "kraken", "--xest-connector", "binance")
        status = run(PYTHON, "-m", "pytest", "-q", *connectors, check=False)
    if status == 0:
        status = run(PYTHON, ROOT / "scripts" / "check_packaging.py", check=False)
    if status == 0:  # the other Python versions the classifiers claim
        status = run(PYTHON, ROOT / "scripts" / "check_pythons.py", check=False)
    return status


def main() -> None:
    jobs = {"tour": tour, "test": test, "setup": lambda: 0}
    job = sys.argv[1] if len(sys.argv) > 1 else "tour"
    if job not in jobs:
        sys.exit(f"usage: python3 dev.py [{'|'.join(jobs)}]")
    setup()
    sys.exit(jobs[job]())


if __name__ == "__main__":
    main()
