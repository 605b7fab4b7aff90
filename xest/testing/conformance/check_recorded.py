"""Recorded real answers (the kit's ``recorded_cases``), replayed over HTTP through the
connector: the request sent must be the one the case expects, the result must parse to the
values the case states, and each case must compare something real."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
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
from xest.testing.conformance.requests import request_problems
from xest.testing.proxy import ReplayServer

_MISSING = object()
# Epoch readings a payload may carry, by unit; a reading counts when it lands in this span.
_ERA = (datetime(2009, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_UNITS = (1, 1_000, 1_000_000, 1_000_000_000)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@cases("recorded_cases")
def test_recorded_payload(xest_harness: Harness, xest_env, xest_case: RecordedCase | None):
    import xest

    h = xest_harness
    if xest_case is None:
        pytest.fail(
            f"{h.name} has no recorded cases: give its ConnectorKit recorded_cases, real "
            "answers of the exchange and the values they must parse to"
        )
    case = xest_case
    if not h.declares(case.operation):
        pytest.skip(f"case {case.name} calls {case.operation}, which {h.name} does not declare")
    raised: errors.XestError | None = None
    result: Any = None
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
            raised = exc
        finally:
            client.close()
    # What was sent comes first: a wrong side or pair explains whatever follows.
    if case.request is not None:
        sent = request_problems(case.request, server.requests, list(case.responses))
        if sent:
            pytest.fail(
                f"{case.name}: {case.operation}() " + "; ".join(sent) + f" ({h.name} builds "
                "the request from the arguments wrongly)",
                pytrace=False,
            )
    if raised is not None:
        missing = f" (no recorded answer for {', '.join(server.missing)})" * bool(server.missing)
        pytest.fail(
            f"{case.name}: {case.operation}() raised {type(raised).__name__}: {raised}{missing}",
            pytrace=False,
        )
    problems = [f"{case.name}: {p}" for p in inv.value_problems(result, f"{case.operation}()")]
    era = payload_era(case.responses)
    problems += [f"{case.name}: {p}" for p in inv.era_problems(result, f"{case.operation}()", era)]
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
    trivial = triviality(case)
    if trivial:
        pytest.fail(f"{case.name}: {trivial}", pytrace=False)


def test_recorded_payloads_cover_declared_operations(xest_harness: Harness):
    """Every declared operation has a recorded case that compares real values."""
    h = xest_harness
    real = {case.operation for case in h.recorded_cases if compares_real_values(case)}
    missing = sorted(op for op in h.cls.capabilities if op not in real)
    assert not missing, (
        f"{h.name} declares {', '.join(missing)} without a recorded case that compares real "
        "values: give each a RecordedCase with expect= or values= taken from the exchange's "
        "answer (a case that checks nothing proves nothing)"
    )


def test_recorded_cases_state_their_requests(xest_harness: Harness):
    """Placement, cancellation and order lookups should say what they expect to be sent (a
    skip with advice, not a failure: the simulator checks catch the same defects)."""
    h = xest_harness
    writes = (
        "place_order",
        "cancel_order",
        "order",
        "open_orders",
        "closed_orders",
        "my_trades",
        "accept_quote",
        "quote",
    )
    silent = sorted(
        case.name
        for case in h.recorded_cases
        if case.operation in writes and case.request is None and h.declares(case.operation)
    )
    if silent:
        pytest.skip(
            f"advice: {h.name}'s recorded cases {', '.join(silent)} do not state the request "
            "they expect; give each request=ExpectedRequest(method, path, {params}) so a wrong "
            "side, pair or client order id is named as such"
        )


# -- what makes a case worth something ------------------------------------------------------------


class _Anything:
    """A made-up result: every attribute, key and item is itself, and it equals nothing."""

    def __getattr__(self, name: str) -> Any:
        return self

    def __getitem__(self, key: Any) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "<a made-up result>"


ANYTHING = _Anything()


def _accepts_anything(check: Any) -> bool:
    try:
        check(ANYTHING)
    except Exception:  # it looked at the result and refused it: it compares something
        return False
    return True


def _trivial_value(expected: Any, echoed: list[Any]) -> bool:
    """A value that compares nothing: equal to anything, empty, or the case's own argument."""
    if expected == ANYTHING or expected is None or expected in ("", (), [], {}):
        return True
    return any(expected is arg or (isinstance(arg, str) and expected == arg) for arg in echoed)


def triviality(case: RecordedCase) -> str | None:
    """Why the case compares nothing, or None."""
    if compares_real_values(case):
        return None
    if case.check is not None:
        return (
            "its check compares nothing (it also passed on a made-up result): assert real "
            "values of the answer, or give values="
        )
    return (
        "compares nothing: expect=/values= hold only placeholders, empty values or the "
        "case's own arguments; state values the answer really carries"
    )


def compares_real_values(case: RecordedCase) -> bool:
    echoed = [*case.args, *case.kwargs.values()]
    if case.expect is not None and case.expect != ANYTHING:
        return True
    if any(not _trivial_value(v, echoed) for v in case.values.values()):
        return True
    return case.check is not None and not _accepts_anything(case.check)


def payload_era(responses: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The earliest and latest time a recorded payload carries (epoch numbers in s/ms/us/ns,
    or ISO dates); now when it carries none."""
    found: list[datetime] = []
    for body in responses.values():
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str):
            try:
                body = json.loads(body, parse_float=Decimal)
            except ValueError:
                continue
        _times(body, found, 0)
    now = datetime.now(UTC)
    if not found:
        return now, now
    return min(found), max(*found, now)


def _times(value: Any, found: list[datetime], depth: int) -> None:
    if depth > 12:
        return
    if isinstance(value, Mapping):
        for item in value.values():
            _times(item, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _times(item, found, depth + 1)
    elif isinstance(value, str) and _ISO.match(value):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return
        found.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC))
    elif isinstance(value, int | float | Decimal | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return
        for unit in _UNITS:
            try:
                stamp = datetime.fromtimestamp(float(number / unit), UTC)
            except (OverflowError, OSError, ValueError):
                continue
            if _ERA[0] <= stamp <= _ERA[1]:
                found.append(stamp)


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
