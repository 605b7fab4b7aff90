"""Build every distribution as a user's tools would and check what comes out.

    python scripts/check_packaging.py [OUTDIR]

For each distribution (the core, each plugin, the example): an sdist and a wheel, then
``twine check --strict`` (metadata and the long description render), ``check-wheel-contents``
(no junk, no tests, no duplicate files), and checks of our own: a LICENSE in every wheel and
sdist, ``py.typed`` where the package is typed, no test directory shipped. Exit status 1 on any
finding. Run by ``python3 dev.py test``; needs the ``dev`` dependency group.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = [ROOT, *sorted((ROOT / "plugins").glob("*/")), ROOT / "examples" / "xest-example"]


def build(dist: Path, outdir: Path) -> tuple[Path, Path]:
    target = outdir / ("xest" if dist == ROOT else dist.name)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(target), str(dist)],
        capture_output=True,
        text=True,
    )
    if done.returncode:  # the build's own words, only when it failed
        sys.exit(f"building {dist} failed:\n{done.stdout}{done.stderr}")
    (wheel,) = target.glob("*.whl")
    (sdist,) = target.glob("*.tar.gz")
    return wheel, sdist


def findings_in(wheel: Path, sdist: Path) -> list[str]:
    found = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        found.append(f"{wheel.name}: no LICENSE under .dist-info/licenses/")
    if any("/tests/" in n or n.startswith("tests/") for n in names):
        found.append(f"{wheel.name}: ships tests")
    packages = {n.split("/")[0] for n in names if n.endswith("__init__.py")}
    for package in packages:
        if f"{package}/py.typed" not in names:
            found.append(f"{wheel.name}: {package} has no py.typed")
    with tarfile.open(sdist) as tf:
        if not any(n.endswith("/LICENSE") for n in tf.getnames()):
            found.append(f"{sdist.name}: no LICENSE")
    return found


def main() -> int:
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="xest-dist-"))
    built = [build(dist, outdir) for dist in DISTRIBUTIONS if (dist / "pyproject.toml").exists()]
    files = [str(f) for pair in built for f in pair]
    status = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files]).returncode
    wheels = [str(w) for w, _ in built]
    status |= subprocess.run([sys.executable, "-m", "check_wheel_contents", *wheels]).returncode
    findings = [f for wheel, sdist in built for f in findings_in(wheel, sdist)]
    for finding in findings:
        print(finding, file=sys.stderr)
    print(f"packaging: {len(built)} distributions built in {outdir}, {len(findings)} findings")
    return 1 if status or findings else 0


if __name__ == "__main__":
    sys.exit(main())
