"""``xest conformance NAME...``: run the conformance suite against installed connectors.

The same as ``pytest --xest-connector NAME``, run in a clean pytest session (the caller's own
pytest configuration does not apply), followed by the suite's summary: passed, failed and
skipped checks with their reasons.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from xest.cli.options import global_options, options


@click.command("conformance")
@click.argument("exchanges", nargs=-1, metavar="NAME...")
@click.option("--all", "every", is_flag=True, help="Every installed connector.")
@click.option(
    "--live",
    is_flag=True,
    help="Also run the read-only checks against the real exchange (network; credentials of "
    "--account, or XEST_<NAME>_KEY / _SECRET).",
)
@click.option("-k", "keyword", metavar="EXPR", help="Only run checks matching EXPR (pytest -k).")
@click.option("-v", "--verbose", is_flag=True, help="List every check as it runs.")
@click.option("-x", "--exitfirst", is_flag=True, help="Stop at the first failing check.")
@global_options
def conformance(
    exchanges: tuple[str, ...],
    every: bool,
    live: bool,
    keyword: str | None,
    verbose: bool,
    exitfirst: bool,
) -> None:
    """Run the conformance suite against the installed connector(s) NAME."""
    from xest import errors, registry

    if every == bool(exchanges):
        raise errors.UsageError("name the connectors to check, or give --all (not both)")
    names = [registry.connector_class(name).exchange for name in exchanges]
    names = names or sorted(registry.connectors())
    try:
        import pytest  # noqa: F401 -- only to say clearly when it is missing
    except ImportError:
        raise errors.ConfigError(
            'the conformance suite runs on pytest: `pip install "xest[conformance]"`, then run '
            "this again"
        ) from None
    with tempfile.TemporaryDirectory(prefix="xest-conformance-") as tmp:
        report = Path(tmp) / "report.xml"
        operations = Path(tmp) / "report.json"
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(Path(tmp) / "pytest.ini"),
            "--rootdir",
            tmp,
            "-p",
            "no:cacheprovider",
            "--tb=short",
            "-rfE",
            "-v" if verbose else "-q",
            f"--junitxml={report}",
            f"--xest-report={operations}",
        ]
        for name in names:
            command += ["--xest-connector", name]
        command += ["--xest-live"] * live + ["-k", keyword] * bool(keyword) + ["-x"] * exitfirst
        if live and options().account:
            command += ["--xest-account", options().account]
        quiet = options().json
        result = subprocess.run(command, cwd=tmp, capture_output=quiet, text=True, check=False)
        summary = _summary(report, names) if report.exists() else {}
        if operations.exists():
            import json

            for name, full in json.loads(operations.read_text()).items():
                entry = summary.setdefault(name, {})
                entry.update(verdict=full["verdict"], operations=full["operations"])
                entry["checks"] = full["checks"]
    if quiet:
        from xest.cli.output import print_json

        print_json({"exit_code": result.returncode, "connectors": summary})
    if result.returncode == 0:
        return
    if result.returncode == 1:
        failing = [n for n, s in summary.items() if s["failed"]] or names
        _fail(f"{', '.join(failing)} failed conformance checks")
    detail = (result.stderr or "").strip().splitlines()[-1:] if quiet else []
    _fail(
        f"the conformance run stopped (pytest exit code {result.returncode})"
        + (f": {detail[0]}" if detail else "")
    )


def _fail(message: str) -> None:
    # The checks' own report is above; one line gives the verdict. SystemExit passes through
    # click's standalone_mode=False untouched, so the status reaches the shell.
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _summary(report: Path, names: list[str]) -> dict[str, dict[str, object]]:
    """Per connector: counts, and the failed and skipped checks with their messages."""
    import xml.etree.ElementTree as ET

    result: dict[str, dict[str, object]] = {}
    for case in ET.parse(report).iter("testcase"):
        name = case.get("name", "")
        params = name.rpartition("[")[2].rstrip("]")
        exchange = next(
            (
                n
                for n in sorted(names, key=len, reverse=True)
                if params == n or params.startswith(f"{n}-") or params.endswith(f"-{n}")
            ),
            "?",
        )
        entry = result.setdefault(
            exchange, {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skips": []}
        )
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            entry["failed"] += 1  # type: ignore[operator]
            entry["failures"].append(  # type: ignore[union-attr]
                {"check": name, "message": (failure.get("message") or "")[:500]}
            )
        elif skipped is not None:
            entry["skipped"] += 1  # type: ignore[operator]
            entry["skips"].append(  # type: ignore[union-attr]
                {"check": name, "reason": (skipped.get("message") or "")[:500]}
            )
        else:
            entry["passed"] += 1  # type: ignore[operator]
    return result


def register(cli: click.Group) -> None:
    cli.add_command(conformance)
