"""Faults injected by the suite between the connector and its simulator.

Each read fault must end in its documented typed error, or in a success after a bounded retry;
a placement is sent exactly once whatever happens to it; no call outlives its timeouts.

| fault | documented outcome |
| --- | --- |
| HTTP 500, 502, 503, 504 | ExchangeUnavailable (a read may succeed on a retry) |
| HTML error page (502) | ExchangeUnavailable or BadResponse |
| HTML page with HTTP 200 | BadResponse |
| JSON of the wrong shape, to each declared operation | BadResponse (a typed error), no result |
| truncated JSON | BadResponse (a read may succeed on a retry) |
| connection reset | ExchangeUnavailable (NetworkError) |
| no answer within the read timeout | RequestTimeout |
| 429 with Retry-After | RateLimited with retry_after, or success no sooner than Retry-After |
| 418 with Retry-After (a ban) | RateLimited with retry_after, never retried |
| 503, or no answer, on every attempt | ExchangeUnavailable / RequestTimeout after at most 5 tries |
"""

from __future__ import annotations

import time

import pytest

from xest import errors
from xest.connector import OPERATIONS
from xest.testing.conformance.harness import Context, guarded
from xest.testing.server import Fault

FAULT_READ_TIMEOUT = 0.8  # short, yet not so short that a loaded machine trips it
SLOW = 2.4  # seconds the server stalls: three read timeouts
MAX_ATTEMPTS = 5  # a bounded retry: the first try and at most four more
MAX_SECONDS = 10.0  # no single call may take longer, retries and backoff included
RETRY_AFTER = 1

HTML_200 = "<html><body><h1>Welcome</h1><p>Please enable JavaScript.</p></body></html>"
E = errors
READ_FAULTS = {
    "http-500": (Fault.http(500), (E.ExchangeUnavailable,)),
    "http-502": (
        Fault.http(502, "Bad Gateway", {"Content-Type": "text/plain"}),
        (E.ExchangeUnavailable,),
    ),
    "http-503": (Fault.http(503), (E.ExchangeUnavailable,)),
    "http-504": (Fault.http(504), (E.ExchangeUnavailable,)),
    "html-502": (Fault.html(502), (E.ExchangeUnavailable, E.BadResponse)),
    "html-200": (Fault.http(200, HTML_200, {"Content-Type": "text/html"}), (E.BadResponse,)),
    "truncated-json": (Fault.truncated(), (E.BadResponse,)),
    "reset": (Fault.reset(), (E.ExchangeUnavailable,)),
    "timeout": (Fault.slow(SLOW), (E.RequestTimeout,)),
    "429-retry-after": (Fault.rate_limited(RETRY_AFTER), (E.RateLimited,)),
    "418-ban": (Fault.rate_limited(RETRY_AFTER, status=418), (E.RateLimited,)),
    # The same fault on every attempt: retries must give up, in bounded time.
    "503-every-try": (Fault.http(503), (E.ExchangeUnavailable,)),
    "timeout-every-try": (Fault.slow(SLOW), (E.RequestTimeout,)),
}
PERSISTENT = {"503-every-try", "timeout-every-try"}
NEVER_RETRIED = {"418-ban"}
MUST_FAIL = NEVER_RETRIED | PERSISTENT
PLACEMENT_FAULTS = {
    "http-500": Fault.http(500),
    "http-502": Fault.http(502),
    "http-503": Fault.http(503),
    "http-504": Fault.http(504),
    "reset": Fault.reset(),
    "lost-response": Fault.lost_response(),
    "timeout": Fault.slow(SLOW),
}


def fault_client(ctx: Context):
    return ctx.open(read_timeout=FAULT_READ_TIMEOUT, connect_timeout=FAULT_READ_TIMEOUT)


@pytest.mark.parametrize("fault_name", list(READ_FAULTS))
def test_read_fault(xest_ctx: Context, fault_name: str):
    ctx = xest_ctx
    fault, expected = READ_FAULTS[fault_name]
    operation = ctx.h.read_operation
    client = fault_client(ctx)
    ctx.proxy.inject(*[fault] * (MAX_ATTEMPTS + 1 if fault_name in PERSISTENT else 1))
    mark = ctx.proxy.mark()
    started = time.monotonic()
    try:
        result = guarded(getattr(client.connector, operation), operation, MAX_SECONDS + 5)
    except errors.XestError as exc:
        elapsed = time.monotonic() - started
        sent = ctx.proxy.requests_since(mark)
        if not isinstance(exc, expected):
            names = " or ".join(e.__name__ for e in expected)
            pytest.fail(
                f"{fault_name} on {operation}(): expected {names}, got {type(exc).__name__}: {exc}",
                pytrace=False,
            )
        assert str(exc).strip(), "the error has no message"
        if isinstance(exc, errors.RateLimited):
            assert exc.retry_after == RETRY_AFTER, (
                f"RateLimited.retry_after is {exc.retry_after!r}; the answer said "
                f"Retry-After: {RETRY_AFTER}"
            )
    else:
        elapsed = time.monotonic() - started
        sent = ctx.proxy.requests_since(mark)
        if fault_name in MUST_FAIL:
            pytest.fail(f"{operation}() returned {result!r} under {fault_name}")
        assert len(sent) >= 2, f"{operation}() returned without getting past the {fault_name}"
        if fault_name == "429-retry-after":
            assert elapsed >= RETRY_AFTER * 0.9, (
                f"retried {elapsed:.2f} s after a 429 asking to wait {RETRY_AFTER} s"
            )
    finally:
        ctx.proxy.clear_faults()
    assert len(sent) <= MAX_ATTEMPTS, f"{len(sent)} attempts after {fault_name}: retries unbounded"
    if fault_name in NEVER_RETRIED:
        assert len(sent) == 1, f"{operation}() retried {len(sent) - 1} times into a ban (HTTP 418)"
    assert elapsed <= MAX_SECONDS, f"{operation}() took {elapsed:.1f} s under {fault_name}"
    if fault_name in ("418-ban", "429-retry-after"):
        time.sleep(RETRY_AFTER + 0.2)  # a limiter that remembers the ban releases it
    # The fault is over: the same client works again (no poisoned connection or state).
    guarded(
        getattr(client.connector, operation), f"{operation}() after the {fault_name}", MAX_SECONDS
    )


SIGNED_FAULTS = {
    "http-500": Fault.http(500),
    "http-503": Fault.http(503),
    "html-502": Fault.html(502),
    "truncated-json": Fault.truncated(),
    "reset": Fault.reset(),
    "lost-response": Fault.lost_response(),
    "timeout": Fault.slow(SLOW),
}


@pytest.mark.parametrize("fault_name", list(SIGNED_FAULTS))
def test_signed_read_fault_then_recovery(xest_ctx: Context, fault_name: str):
    """A fault on a signed call gives a typed error (or a retried success), and the next signed
    call succeeds: a nonce or timestamp spent on the failed request is not reused."""
    ctx = xest_ctx
    signed = [op for op in ("balances", "open_orders") if ctx.h.declares(op)]
    if not signed:
        pytest.skip(f"{ctx.name} declares neither balances nor open_orders")
    op = signed[0]
    client = fault_client(ctx)
    guarded(getattr(client.connector, op), op, MAX_SECONDS)  # warm: markets, clock, nonce
    ctx.proxy.inject(SIGNED_FAULTS[fault_name])
    try:
        guarded(getattr(client.connector, op), op, MAX_SECONDS + 5)
    except (errors.NetworkError, errors.BadResponse):
        pass
    except errors.XestError as exc:
        pytest.fail(f"{op}() under {fault_name} raised {type(exc).__name__}: {exc}")
    finally:
        ctx.proxy.clear_faults()
    guarded(getattr(client.connector, op), f"{op}() after the {fault_name}", MAX_SECONDS)


def placement_path(ctx: Context) -> str:
    """The path of the request that places an order, learnt from one clean placement."""
    path = getattr(ctx.h, "_placement_path", None)
    if path is None:
        args, kwargs = ctx.default_args("place_order")
        mark = ctx.proxy.mark()
        order = ctx.call("place_order", *args, **kwargs)
        sent = ctx.proxy.requests_since(mark)
        writes = [p for m, p in sent if m != "GET"] or [p for _, p in sent]
        assert writes, "place_order() sent no request"
        path = writes[-1]
        ctx.h._placement_path = path  # type: ignore[attr-defined]
        if ctx.h.declares("cancel_order"):
            ctx.call("cancel_order", order.id, symbol=ctx.symbol)
    return path


@pytest.mark.parametrize("fault_name", list(PLACEMENT_FAULTS))
def test_order_placement_is_never_retried(xest_ctx: Context, fault_name: str):
    ctx = xest_ctx
    ctx.require("place_order")
    path = placement_path(ctx)
    args, kwargs = ctx.default_args("place_order")
    client = fault_client(ctx)
    client.connector.market(ctx.symbol)
    ctx.proxy.inject(PLACEMENT_FAULTS[fault_name], path=path)
    mark = ctx.proxy.mark()
    started = time.monotonic()
    try:
        order = guarded(
            client.connector.place_order, "place_order", MAX_SECONDS + 5, *args, **kwargs
        )
    except errors.XestError as exc:
        order = None
        if not isinstance(exc, errors.NetworkError | errors.ExchangeError):
            pytest.fail(f"place_order() under {fault_name} raised {type(exc).__name__}: {exc}")
    finally:
        ctx.proxy.clear_faults()
    elapsed = time.monotonic() - started
    sends = ctx.proxy.count(path, since=mark)
    assert sends == 1, (
        f"place_order was sent {sends} times after a {fault_name}: an order placement is "
        "never retried (a lost answer is reconciled by client order id, not resent)"
    )
    if order is not None:
        assert (
            fault_name in ("lost-response", "timeout") and order.client_id == kwargs["client_id"]
        ), f"place_order() returned an order although the exchange answered {fault_name}"
    assert elapsed <= MAX_SECONDS, f"place_order() took {elapsed:.1f} s under {fault_name}"


UNEXPECTED = '{"unexpected":"shape"}'


def test_unexpected_json_is_a_typed_error(xest_ctx: Context):
    """Valid JSON of the wrong shape (an API change, a proxy's own JSON) must raise a typed
    error from every declared operation -- BadResponse, unless the exchange documents that
    shape as a refusal -- never KeyError or TypeError, and never a made-up result."""
    ctx = xest_ctx
    problems = []
    declared = [op for op in OPERATIONS if ctx.h.declares(op)]
    for op in declared:
        args, kwargs = ctx.default_args(op)
        if ctx.h.declares("markets"):
            ctx.connector.market(ctx.symbol)
        ctx.proxy.inject(Fault.http(200, UNEXPECTED))
        try:
            result = guarded(getattr(ctx.connector, op), op, MAX_SECONDS, *args, **kwargs)
        except errors.XestError:
            continue
        except pytest.fail.Exception as exc:
            problems.append(str(exc).splitlines()[0])
        else:
            problems.append(f"{op}() returned {result!r} from {UNEXPECTED}")
        finally:
            ctx.proxy.clear_faults()
    if problems:
        pytest.fail(f"answered {UNEXPECTED}:\n" + "\n".join(problems), pytrace=False)
