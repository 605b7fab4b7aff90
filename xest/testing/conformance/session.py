"""The conformance suite's pytest side: collection, parametrisation per connector, fixtures and
the summary. Registered by :mod:`xest.testing.plugin` only when ``--xest-connector`` is given,
so a pytest run that does not ask for the suite never sees any of it."""

from __future__ import annotations

import collections
import fnmatch
from pathlib import Path
from typing import Any

import pytest

from xest import errors
from xest.testing.conformance.harness import Harness
from xest.testing.conformance.report import Report, operations_of

SUITE_DIR = Path(__file__).resolve().parent
CHECK_PREFIX = "check_"


class ConformancePlugin:
    def __init__(self, config: pytest.Config, names: list[str]) -> None:
        self.config = config
        self.live = bool(config.getoption("xest_live"))
        self.names: list[str] = []
        self.harnesses: dict[str, Harness] = {}
        for name in names:
            try:
                harness = Harness(name, live=self.live)
            except errors.XestError as exc:
                raise pytest.UsageError(f"--xest-connector {name}: {exc}{_failed()}") from None
            if harness.name not in self.harnesses:
                self.harnesses[harness.name] = harness
                self.names.append(harness.name)
        self.outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.reports = {n: Report(n, h.cls.capabilities) for n, h in self.harnesses.items()}
        self.skips: list[tuple[str, str, str]] = []
        self.failures: list[tuple[str, str, str]] = []
        _point_collection_at_suite(config)
        config.pluginmanager.register(fixtures_module(), "xest-conformance-fixtures")

    # -- collection ------------------------------------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        # The suite's modules are named check_*.py so a plain `pytest` never collects them;
        # a module named on the command line is collected by pytest itself.
        if parent.session.isinitpath(file_path):
            return None
        patterns = parent.config.getini("python_files")
        if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
            return None  # the project's own python_files pattern already collects it
        if (
            file_path.suffix == ".py"
            and file_path.name.startswith(CHECK_PREFIX)
            and file_path.parent == SUITE_DIR
        ):
            return pytest.Module.from_parent(parent, path=file_path)
        return None

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "xest_exchange" not in metafunc.fixturenames:
            return
        cases_of = getattr(metafunc.function, "xest_cases", None)
        if cases_of is None:
            metafunc.parametrize("xest_exchange", self.names, ids=self.names, scope="session")
            return
        params = []
        for name in self.names:
            cases = getattr(self.harnesses[name], cases_of)
            for case in cases:
                label = getattr(case, "name", None) or getattr(case, "__name__", "check")
                params.append(pytest.param(name, case, id=f"{name}-{label}"))
            if not cases:  # the check fails (or skips) saying what the kit could give
                params.append(pytest.param(name, None, id=f"{name}-none"))
        metafunc.parametrize(("xest_exchange", "xest_case"), params, scope="session")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Foundations first, so a later check can say it depends on one that failed; checks a
        # plugin excluded are skipped with the plugin's reason, which the report shows.
        items.sort(
            key=lambda item: (
                FOUNDATIONS.index(_check(item)) if _check(item) in FOUNDATIONS else len(FOUNDATIONS)
            )
        )
        for item in items:
            harness = self.harnesses.get(_param(item, "xest_exchange") or "")
            if harness is not None and _check(item) in harness.exclude:
                reason = harness.exclude[_check(item)]
                item.add_marker(pytest.mark.skip(reason=f"excluded by the plugin: {reason}"))

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        harness = self.harnesses.get(_param(item, "xest_exchange") or "")
        if harness is not None:
            harness.touched = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        outcome = yield
        report = outcome.get_result()
        name = _param(item, "xest_exchange") or ""
        harness = self.harnesses.get(name)
        if harness is None:
            return
        check = _check(item)
        if report.failed:
            for foundation in FOUNDATIONS:
                if (
                    foundation in harness.broken
                    and foundation != check
                    and depends(check, foundation)
                ):
                    report.longrepr = (
                        f"depends on {foundation}, which failed: {harness.broken[foundation]}\n"
                        f"{report.longrepr}"
                    )
                    break
        if report.when == "call" or not report.passed:
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
                message = reason.removeprefix("Skipped: ")
            else:
                message = _first_line(report) if report.failed else ""
            ops = operations_of(check, _param(item, "xest_case"), harness.touched)
            self.reports[name].add(item.name, report.outcome, message, ops)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.getoption("xest_report", default=None)
        if path:
            import json

            reports = {name: report.as_dict() for name, report in self.reports.items()}
            Path(path).write_text(json.dumps(reports, indent=1, default=str))

    # -- reporting --------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # One outcome per check: its call, or the setup/teardown that failed or skipped it.
        if report.when != "call" and report.passed:
            return
        name = _exchange_of(report.nodeid, self.names)
        self.outcomes[name][report.outcome] += 1
        check = report.nodeid.split("::")[-1]
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            self.skips.append((name, check, reason.removeprefix("Skipped: ")))
        elif report.failed:
            self.failures.append((name, check, _first_line(report)))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = []
        for name, h in self.harnesses.items():
            sim = "simulator" if h.sim_factory else "NO simulator"
            lines.append(
                f"xest conformance: {name} ({h.cls.__module__}.{h.cls.__name__}): "
                f"{len(h.cls.capabilities)} capabilities, {sim}, {len(h.error_cases)} error "
                f"payloads, {len(h.recorded_cases)} recorded payloads"
                + (", LIVE" if self.live else "")
            )
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        tr.section("xest conformance summary")
        for name in self.names:
            counts = self.outcomes.get(name, collections.Counter())
            verdict = "FAILED" if counts["failed"] else "passed"
            tr.write_line(
                f"{name}: {verdict} -- {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped"
            )
            for line in self.reports[name].lines():
                tr.write_line(line)
            for exch, check, line in self.failures:
                if exch == name:
                    tr.write_line(f"  FAIL {check}: {line}")
            for exch, check, reason in self.skips:
                if exch == name:
                    tr.write_line(f"  skip {check}: {reason}")


# Checks others build on, in the order they run; see ``depends``.
FOUNDATIONS = ["test_signed_requests_are_accepted", "test_placement_reaches_the_simulator_as_asked"]
PUBLIC_CHECKS = {
    "test_simulator_registered",
    "test_registered_cases_are_valid",
    "test_undeclared_operations_raise_not_supported",
    "test_status",
    "test_server_time_follows_the_simulator_clock",
    "test_markets",
    "test_ticker",
    "test_tickers",
    "test_order_book",
    "test_candles",
    "test_trades",
    "test_read_fault",
    "test_recorded_payload",
    "test_recorded_payloads_cover_declared_operations",
    "test_recorded_cases_state_their_requests",
    "test_market_data_is_the_pair_asked_on_the_simulator_clock",
    "test_live_reads",
}


def depends(check: str, foundation: str) -> bool:
    """Whether ``check`` needs what ``foundation`` proves: signed requests for every check of a
    private operation, a correct placement for the checks that place orders."""
    if foundation == FOUNDATIONS[0]:
        return check not in PUBLIC_CHECKS
    return any(word in check for word in ("order", "quote", "fill", "place", "balances_match"))


def _check(item: pytest.Item) -> str:
    return getattr(item, "originalname", None) or item.name.partition("[")[0]


def _param(item: pytest.Item, name: str) -> Any:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(name) if callspec is not None else None


def _failed() -> str:
    """Why plugins that might have provided the connector did not load."""
    from xest import plugins

    failed = [f"{p.distribution} ({p.error})" for p in plugins.plugin_infos() if p.error]
    return f"; plugins that failed to load: {'; '.join(failed)}" if failed else ""


def fixtures_module() -> Any:
    from xest.testing.conformance import fixtures

    return fixtures


def _point_collection_at_suite(config: pytest.Config) -> None:
    """Without test paths, run only the suite; with paths, add the suite to them (once)."""
    suite = str(SUITE_DIR)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [suite]
        return
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE_DIR or SUITE_DIR.is_relative_to(path) or path.is_relative_to(SUITE_DIR):
            return
    config.args.append(suite)


def _exchange_of(nodeid: str, names: list[str]) -> str:
    params = nodeid.rpartition("[")[2].rstrip("]")
    for name in sorted(names, key=len, reverse=True):
        if params == name or params.startswith(f"{name}-") or params.endswith(f"-{name}"):
            return name
    return "?"


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    if line.endswith(":") and len(lines) > 1:  # a heading: the first item says more
        line = f"{line} {lines[1]}" + (f" (and {len(lines) - 2} more)" if len(lines) > 2 else "")
    return line.removeprefix("Failed: ")[:300]
