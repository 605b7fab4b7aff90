"""Recorded real answers (``xest_recorded_payloads``), replayed over HTTP through the connector,
must parse to the values the plugin says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from xest import errors
from xest.testing.cases import RecordedCase
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.harness import (
    CONNECT_TIMEOUT,
    DUMMY_KEY,
    DUMMY_SECRET,
    READ_TIMEOUT,
    WATCHDOG,
    Harness,
    cases,
    guarded,
)
from xest.testing.proxy import ReplayServer

_MISSING = object()


@cases("recorded_cases")
def test_recorded_payload(xest_harness: Harness, xest_env, xest_case: RecordedCase | None):
    import xest

    h = xest_harness
    if xest_case is None:
        pytest.fail(
            f"{h.name} registers no recorded payloads: implement the xest_recorded_payloads "
            "hook with real answers of the exchange and the values they must parse to"
        )
    case = xest_case
    if not h.declares(case.operation):
        pytest.skip(f"case {case.name} calls {case.operation}, which {h.name} does not declare")
    with ReplayServer(case.responses) as server:
        client = xest.open(
            h.name,
            url=server.url,
            key=DUMMY_KEY,
            secret=DUMMY_SECRET,
            cache=False,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        try:
            method = getattr(client.connector, case.operation)
            result = guarded(method, case.operation, WATCHDOG, *case.args, **case.kwargs)
        except errors.XestError as exc:
            missing = f" (no recorded answer for {', '.join(server.missing)})" * bool(
                server.missing
            )
            pytest.fail(
                f"{case.name}: {case.operation}() raised {type(exc).__name__}: {exc}{missing}"
            )
        finally:
            client.close()
    problems = [f"{case.name}: {p}" for p in inv.value_problems(result, f"{case.operation}()")]
    if case.expect is not None and result != case.expect:
        problems.append(f"{case.name}: {case.operation}() = {result!r}, expected {case.expect!r}")
    for path, expected in case.values.items():
        actual = resolve(result, path)
        if actual is _MISSING:
            problems.append(f"{case.name}: the result has no {path}")
        elif actual != expected or type(actual) is float:
            problems.append(f"{case.name}: {path} = {actual!r}, expected {expected!r}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    if case.check is not None:
        case.check(result)


def test_recorded_payloads_cover_declared_operations(xest_harness: Harness):
    covered = {case.operation for case in xest_harness.recorded_cases}
    missing = sorted(op for op in xest_harness.cls.capabilities if op not in covered)
    assert not missing, (
        f"{xest_harness.name} declares {', '.join(missing)} without a recorded payload: "
        "register one per declared operation (xest_recorded_payloads hook)"
    )


def resolve(value: Any, path: str) -> Any:
    """Follow a dotted path: integer parts index sequences, others read keys or attributes."""
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif part.lstrip("-").isdigit() and isinstance(value, Sequence):
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else _MISSING
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value
