"""The exchange's own error payloads: each body the plugin registered (the kit's ``error_cases``)
is served between the connector and its simulator, and must raise the xest error it names."""

from __future__ import annotations

import json

import pytest

from xest import errors
from xest.testing.cases import ErrorCase
from xest.testing.conformance.harness import Context, cases
from xest.testing.proxy import pending_faults
from xest.testing.server import Fault

# Enough copies that a transport retrying 5xx or 429 still ends on the payload under test.
COPIES = 8


def encode(body: object) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        return body
    return json.dumps(body, default=str)


@cases("error_cases")
def test_exchange_error_payload(xest_ctx: Context, xest_case: ErrorCase | None):
    ctx = xest_ctx
    if xest_case is None:
        pytest.fail(
            f"{ctx.name} has no error cases: give its ConnectorKit error_cases, the error "
            "bodies the exchange really sends and the xest error each must become"
        )
    case = xest_case
    operation = case.operation or ctx.h.read_operation
    if not ctx.h.declares(operation):
        pytest.skip(f"case {case.name} calls {operation}, which {ctx.name} does not declare")
    if case.kwargs is not None:
        args, kwargs = (), dict(case.kwargs)
    else:
        args, kwargs = ctx.default_args(operation)
    if ctx.h.declares("markets"):
        ctx.connector.market(ctx.symbol)  # markets loaded before the fault is armed
    headers = {"Content-Type": "application/json", **case.headers}
    fault = Fault.http(case.status, encode(case.body), headers)
    ctx.proxy.inject(*[fault] * COPIES, path=case.path)
    try:
        result = ctx.call(operation, *args, **kwargs)
    except errors.XestError as exc:
        raised = exc
    else:
        pytest.fail(
            f"{case.name}: {operation}() returned {type(result).__name__} although the "
            f"exchange answered HTTP {case.status} {encode(case.body)[:200]}; it must raise "
            f"{case.error.__name__}"
        )
    finally:
        served = COPIES - pending_faults(ctx.proxy)
        ctx.proxy.clear_faults()
    if not served:
        pytest.fail(f"{case.name}: {operation}() never requested {case.path or 'anything'}")
    if not isinstance(raised, case.error):
        pytest.fail(
            f"wrong error mapping for {case.name}: HTTP {case.status} "
            f"{encode(case.body)[:200]} must raise {case.error.__name__}, got "
            f"{type(raised).__name__}: {raised}",
            pytrace=False,
        )
    assert str(raised).strip(), f"{case.name}: the error has no message"
    assert raised.exchange == ctx.name, f"{case.name}: error.exchange is {raised.exchange!r}"
    if case.code is not None:
        assert str(raised.code) == str(case.code), (
            f"{case.name}: the error must keep the exchange's code {case.code!r} in .code, "
            f"has {raised.code!r}"
        )
