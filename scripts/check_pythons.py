"""Run the core's and the connectors' tests on every other Python the classifiers claim.

    python scripts/check_pythons.py

``python3 dev.py test`` runs everything on the Python it was started with; this script covers the
other versions listed in the core's classifiers (``Programming Language :: Python :: 3.X``) that
this machine has (on PATH as ``python3.X``, or under pyenv). Each gets its own virtualenv
(``.venv-3.X``, reused) with the distributions installed from the working tree. A claimed version
the machine lacks is reported, not silently passed: the exit status is 1 unless
``XEST_ALLOW_MISSING_PYTHONS=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = [
    ROOT,
    ROOT / "plugins" / "xest-kraken",
    ROOT / "plugins" / "xest-binance",
    ROOT / "examples" / "xest-example",
]
SUITES = [
    "tests",
    "plugins/xest-kraken/tests",
    "plugins/xest-binance/tests",
    "examples/xest-example/tests",
]


def claimed_versions() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pattern = re.compile(r"Programming Language :: Python :: (3\.\d+)$")
    return [m.group(1) for c in project["classifiers"] if (m := pattern.match(c))]


def find_python(version: str) -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    candidates += [found] if (found := shutil.which(f"python{version}")) else []
    for candidate in candidates:  # a pyenv shim on PATH may name a version it cannot run
        if subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return str(candidate)
    return None


def run_on(version: str, python: str) -> tuple[str, int, str]:
    venv = ROOT / f".venv-{version}"
    bin_python = venv / "bin" / "python"
    log: list[str] = []

    def step(*cmd: str | Path) -> int:
        done = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True)
        log.append(f"+ {' '.join(str(c) for c in cmd)}\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
        return done.returncode

    if not bin_python.exists() and step(python, "-m", "venv", venv):
        return version, 1, "\n".join(log)
    status = step(bin_python, "-m", "pip", "install", "-q", "--upgrade", "pip>=25.1")
    editable = [arg for dist in DISTRIBUTIONS for arg in ("-e", str(dist))]
    status = status or step(bin_python, "-m", "pip", "install", "-q", "--group", "dev", *editable)
    status = status or step(bin_python, "-m", "pytest", "-q", *SUITES)
    return version, status, "\n".join(log)


def main() -> int:
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    others = [v for v in claimed_versions() if v != current]
    missing = [v for v in others if find_python(v) is None]
    found = [(v, p) for v in others if (p := find_python(v)) is not None]
    with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
        results = list(pool.map(lambda vp: run_on(*vp), found))
    status = 0
    for version, code, log in results:
        print(f"python {version}: {'passed' if code == 0 else 'FAILED'}")
        if code:
            print(log)
            status = 1
    for version in missing:
        print(f"python {version}: claimed by the classifiers but not on this machine")
        if os.environ.get("XEST_ALLOW_MISSING_PYTHONS") != "1":
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
