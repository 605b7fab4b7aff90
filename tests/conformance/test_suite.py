"""The conformance suite has teeth: the example connector passes it, each deliberately broken
variant fails it for its own defect, and a pytest run that does not ask for it is untouched.

The suite runs in subprocesses exactly as a third party runs it (``xest conformance NAME`` or
``pytest --xest-connector NAME``); the broken variants are installed as a throwaway
distribution with a real ``xest`` entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XEST = Path(sys.executable).with_name("xest")
PLUGINS = Path(__file__).with_name("broken")  # xest_broken.py and xest_minimal.py

# variant: (a phrase its failures must contain, the checks allowed to fail without it -- None
#           for any --, whether every other failure must carry the phrase). A check that fails
#           because a foundation did says "depends on <check>, which failed: <its message>", so
#           it carries the phrase too.
DEFECTS = {
    "broken_float": ("went through a float", None, False),
    "broken_naive": ("naive datetime", None, True),
    "broken_retry": ("never retried", {"test_order_placement_is_never_retried"}, True),
    "broken_secret": ("contains the API secret", {"test_secrets_never_leak"}, True),
    "broken_mapping": (
        "wrong error mapping for insufficient-funds",
        {"test_exchange_error_payload"},
        True,
    ),
    "broken_book": (
        "bids not sorted best (highest) first",
        {
            "test_order_book",
            "test_recorded_payload",
            "test_market_data_is_the_pair_asked_on_the_simulator_clock",
        },
        False,
    ),
    "broken_shape": ("returned", {"test_unexpected_json_is_a_typed_error"}, True),
    # The defects lazy recorded cases let through (issue 13): the simulator checks name them.
    "broken_memo": ("stale", None, True),
    "broken_unit": ("wrong unit", None, True),
    "broken_locked": ("locked funds counted as free", None, True),
    "broken_remaining": ("remaining amount reported as the amount", None, True),
    "broken_pair_served": ("wrong pair served", None, True),
    "broken_side": ("sent side=sell, expected side=buy", None, True),
    "broken_pair_sent": ("sent pair ETH-BTC, expected BTC-USD", None, True),
    "broken_client_id": ("reached the simulator with client order id None", None, True),
    "broken_signature": ("signs differently from its declared signature scheme", None, True),
    "broken_nonce": ("reuses a nonce", None, True),
    "broken_lax_sim": ("does not verify signatures", None, True),
}
# Stray failures the checks' own wording cannot avoid (a quote that never expires because its
# expiry is in 1970 says so only as "DID NOT RAISE").
STRAYS = {"broken_unit": {"test_quote_expires"}}


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 240):
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def broken_env(tmp_path_factory) -> dict[str, str]:
    """An environment where the broken variants are installed: a throwaway distribution whose
    entry point (group ``xest``) registers them."""
    site = tmp_path_factory.mktemp("broken-site")
    for module in ("xest_broken.py", "xest_minimal.py"):
        shutil.copy(PLUGINS / module, site / module)
    info = site / "xest_broken-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xest-broken\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text("[xest]\nbroken = xest_broken\nminimal = xest_minimal\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def runs(broken_env, tmp_path_factory) -> dict[str, object]:
    """The suite over the example and the minimal connector (``xest conformance NAME``) and
    over the broken variants (``xest --json conformance ...``), in parallel processes: they
    mostly wait on sockets."""
    names = list(DEFECTS)
    groups = [names[i::3] for i in range(3)]
    cwd = tmp_path_factory.mktemp("runs")

    def broken(group: list[str]) -> dict:
        done = run([str(XEST), "--json", "conformance", *group], cwd, broken_env)
        assert done.stdout.strip().startswith("{"), done.stdout[-2000:] + done.stderr[-2000:]
        return json.loads(done.stdout[done.stdout.index("{") :])["connectors"]

    with ThreadPoolExecutor(len(groups) + 2) as pool:
        example = pool.submit(run, [str(XEST), "conformance", "example"], cwd)
        minimal = pool.submit(run, [str(XEST), "conformance", "minimal"], cwd, broken_env)
        results: dict[str, object] = {}
        for part in pool.map(broken, groups):
            results.update(part)
        results["example"] = example.result()
        results["minimal"] = minimal.result()
    return results


def test_the_example_connector_passes(runs):
    done = runs["example"]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "example: passed" in done.stdout
    # Undeclared operations are skips with their reason, never silent passes.
    assert (
        "skip test_tickers[example]: example does not declare tickers (checked: raises "
        "NotSupported)" in done.stdout
    )
    assert "live checks run only with --xest-live" in done.stdout


@pytest.mark.parametrize("variant", list(DEFECTS))
def test_each_broken_variant_fails_for_its_own_defect(runs, variant):
    phrase, allowed, everywhere = DEFECTS[variant]
    result = runs[variant]
    failures = result["failures"]
    assert failures, f"the suite passed {variant}"
    messages = [f["message"] for f in failures]
    assert any(phrase in m for m in messages), messages
    if everywhere:
        tolerated = STRAYS.get(variant, set())
        strays = [
            f
            for f in failures
            if phrase not in f["message"] and f["check"].partition("[")[0] not in tolerated
        ]
        assert not strays, f"{variant} also failed for other reasons: {strays}"
    if allowed is not None:
        checks = {f["check"].partition("[")[0] for f in failures}
        assert checks <= allowed, f"{variant} failed unrelated checks: {checks - allowed}"


def test_a_minimal_third_party_connector_is_told_what_it_lacks(runs):
    done = runs["minimal"]
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    failed = {line.split(":")[0].split()[-1] for line in out.splitlines() if "  FAIL " in line}
    assert failed == {
        "test_exchange_error_payload[minimal-none]",
        "test_recorded_payload[minimal-none]",
        "test_recorded_payloads_cover_declared_operations[minimal]",
    }, out[-3000:]
    assert "has no error cases: give its ConnectorKit error_cases" in out
    assert "has no recorded cases: give its ConnectorKit recorded_cases" in out
    # Every operation is listed with its result.
    assert "  status         passed" in out and "  balances       not declared" in out
    assert (
        "skip test_markets[minimal]: minimal does not declare markets (checked: raises "
        "NotSupported)" in out
    )
    assert "skip test_secrets_never_leak[minimal]: minimal declares no private operation" in out


def test_cli_exit_code_and_one_line_error_for_a_failing_connector(broken_env, tmp_path):
    done = run([str(XEST), "conformance", "broken_book", "-k", "order_book"], tmp_path, broken_env)
    assert done.returncode == 1
    assert "broken_book: FAILED" in done.stdout
    assert "FAIL test_order_book[broken_book]: BTC/USD book: bids not sorted" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "error: broken_book failed conformance checks"


def test_the_json_report_lists_every_operation_with_its_result(runs):
    from xest.connector import OPERATIONS

    report = runs["broken_side"]
    assert set(report["operations"]) == set(OPERATIONS)
    placed = report["operations"]["place_order"]
    assert placed["result"] == "failed"
    assert "sent side=sell, expected side=buy" in placed["message"]
    assert report["operations"]["ticker"]["result"] == "passed"
    assert report["operations"]["tickers"]["result"] == "not declared"
    assert report["verdict"] == "failed"


def test_authors_add_checks_and_exclude_shared_ones_with_a_reason(broken_env, tmp_path):
    done = run(
        [str(XEST), "conformance", "extended", "-k", "quote_expires or author_check"],
        tmp_path,
        broken_env,
    )
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    assert (
        "skip test_quote_expires[extended]: excluded by the plugin: Example quotes live 10 s; "
        "tests/test_quotes.py covers it" in out
    ), out[-3000:]
    assert (
        "FAIL test_author_check[extended-check_an_author_mistake]: extended's own check "
        "check_an_author_mistake: the bid is not zero (on purpose)" in out
    ), out[-3000:]
    assert "test_author_check[extended-check_books_are_twenty_deep]" not in out.split("FAIL")[-1]


def test_cli_needs_names_or_all(tmp_path):
    done = run([str(XEST), "conformance"], tmp_path)
    assert done.returncode == 2  # usage
    assert done.stderr == "error: name the connectors to check, or give --all (not both)\n"


def test_cli_unknown_connector(tmp_path):
    done = run([str(XEST), "conformance", "nope"], tmp_path)
    assert done.returncode == 6  # not found
    assert done.stderr.startswith("error: no connector for 'nope'")
    assert "Traceback" not in done.stderr


INERT_TEST = """
import sys

import pytest

def test_alone(request):
    assert "xest.testing.conformance.session" not in sys.modules
    for name in ("xest_ctx", "xest_harness", "xest_env"):
        with pytest.raises(pytest.FixtureLookupError):
            request.getfixturevalue(name)
"""


def pytest_in(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args], tmp_path, env
    )


def test_a_run_that_does_not_ask_for_the_suite_is_untouched(tmp_path):
    (tmp_path / "test_alone.py").write_text(INERT_TEST)
    done = pytest_in(tmp_path)
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout
    # The options exist all the same (the pytest11 entry point is installed with xest).
    assert "--xest-connector=NAME" in pytest_in(tmp_path, "--help").stdout


def test_the_suite_modules_are_not_collected_without_the_option(tmp_path):
    done = pytest_in(tmp_path, str(ROOT / "xest" / "testing" / "conformance"))
    assert done.returncode == 5, done.stdout  # 5: no tests collected
    assert "no tests ran" in done.stdout


def collected(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_no_path_runs_only_the_suite_and_paths_are_not_run_twice(tmp_path):
    (tmp_path / "test_alone.py").write_text("def test_alone():\n    pass\n")
    only_suite = collected(pytest_in(tmp_path, "--collect-only", "--xest-connector", "example"))
    assert only_suite and not [n for n in only_suite if "test_alone" in n]
    assert all("[example" in n for n in only_suite)

    with_mine = collected(
        pytest_in(tmp_path, "--collect-only", "test_alone.py", "--xest-connector", "example")
    )
    assert len(with_mine) == len(only_suite) + 1

    suite_file = str(ROOT / "xest" / "testing" / "conformance" / "check_contract.py")
    named = collected(
        pytest_in(tmp_path, "--collect-only", suite_file, "--xest-connector", "example")
    )
    assert named and len(named) == len(set(named))
    assert all("check_contract.py" in n for n in named)


def test_unknown_connector_is_a_usage_error(tmp_path):
    done = pytest_in(tmp_path, "--xest-connector", "nope")
    assert done.returncode == 4
    assert "--xest-connector nope: no connector for 'nope'" in done.stderr


def test_repeated_connectors_are_each_parametrised(tmp_path, broken_env):
    done = pytest_in(
        tmp_path,
        "--collect-only",
        "-k",
        "test_markets",
        "--xest-connector",
        "example",
        "--xest-connector",
        "broken_book",
        env=broken_env,
    )
    names = collected(done)
    assert sorted(n.rpartition("[")[2] for n in names) == ["broken_book]", "example]"]


def test_live_mode_runs_its_reads_where_the_account_points(tmp_path):
    """--xest-live reads from the exchange's configured URL with the configured credentials;
    here that "exchange" is the example's simulator on loopback (tests never go online)."""
    from xest_example.simulator import ExampleSimulator

    with ExampleSimulator() as sim:
        key, secret = sim.demo_credentials()
        env = dict(
            os.environ, XEST_EXAMPLE_URL=sim.url, XEST_EXAMPLE_KEY=key, XEST_EXAMPLE_SECRET=secret
        )
        done = pytest_in(
            tmp_path, "--xest-connector", "example", "--xest-live", "-k", "live", "-rA", env=env
        )
        assert done.returncode == 0, done.stdout[-3000:]
        assert "1 passed" in done.stdout
        assert sim.hits["/api/v1/balances"] == 1 and sim.hits["/api/v1/book"] == 1
