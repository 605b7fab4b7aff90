"""Secrets: with a known API key and secret configured, neither appears in any log record,
exception message, ``repr`` or file in the cache directory -- on success, on the exchange's
refusal, and under faults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from xest import errors
from xest.connector import OPERATIONS
from xest.testing.conformance.harness import Context, guarded, wrong_secret
from xest.testing.server import Fault

WATCH = 10.0


def needles(key: str, secret: str, wrong: str) -> dict[str, str]:
    found = {
        "the API key": key,
        "the API secret": secret,
        "the API secret (a wrong one, tried on purpose)": wrong,
    }
    found.update(
        {
            f"{k} (URL-encoded)": quote(v, safe="")
            for k, v in found.items()
            if quote(v, safe="") != v
        }
    )
    return {k: v for k, v in found.items() if len(v) >= 8}


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def _exception_texts(exc: BaseException) -> list[str]:
    texts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc), *(repr(a) for a in exc.args)]
        texts += [repr(v) for k, v in vars(exc).items() if not k.startswith("__")]
        exc = exc.__cause__ or exc.__context__
    return texts


def test_secrets_never_leak(xest_ctx: Context, xest_env: Path, caplog: pytest.LogCaptureFixture):
    ctx = xest_ctx
    if ctx.key is None:
        pytest.skip(f"{ctx.name} declares no private operation: it holds no secret")
    short = [n for n, v in (("key", ctx.key), ("secret", ctx.secret)) if len(v) < 8]
    if short:
        pytest.fail(
            f"the simulator's demo {' and '.join(short)} are too short to search for: give "
            "demo_credentials() of at least 8 characters each"
        )
    caplog.set_level(logging.DEBUG)
    wrong = wrong_secret(ctx.secret)
    secrets = needles(ctx.key, ctx.secret, wrong)
    seen: list[tuple[str, Any]] = []  # (where, text)
    raised: list[BaseException] = []

    def attempt(client: Any, operation: str, *args: Any, **kwargs: Any) -> None:
        try:
            result = guarded(
                getattr(client.connector, operation), operation, WATCH, *args, **kwargs
            )
            seen.append((f"repr of {operation}() result", repr(result)))
        except errors.XestError as exc:
            raised.append(exc)

    client = ctx.open(cache=True)  # the cache must hold nothing secret
    declared = [op for op in OPERATIONS if ctx.h.declares(op)]
    for op in declared:
        args, kwargs = ctx.default_args(op)
        attempt(client, op, *args, **kwargs)
    # Few private calls on purpose: exchanges' private rate limits are tight, and the
    # connector's limiter would (rightly) make a long series wait.
    private = [op for op in ("balances", "open_orders", "place_order") if op in declared]
    refused = ctx.open(secret=wrong, cache=True)
    for op in private[:1] + [op for op in private[1:] if op == "place_order"]:
        args, kwargs = ctx.default_args(op)
        attempt(refused, op, *args, **kwargs)
    for fault in (
        Fault.http(500, "internal error"),
        Fault.html(502),
        Fault.reset(),
        Fault.truncated(),
    ):
        for op in private[:1]:
            ctx.proxy.inject(fault)
            attempt(client, op)
            ctx.proxy.clear_faults()
    if private and not raised:
        pytest.fail("no private call failed, though one used a wrong secret")

    for c in (client, refused):
        seen += [
            ("repr of the client", repr(c)),
            ("repr of the connector", repr(c.connector)),
            ("repr of the transport", repr(c.connector.transport)),
            ("repr of the credentials", repr(c.connector.credentials)),
            ("str of the credentials", str(c.connector.credentials)),
        ]
    for exc in raised:
        seen += [(f"{type(exc).__name__} raised", text) for text in _exception_texts(exc)]
    for record in caplog.records:
        seen.append((f"log record of {record.name}", record.getMessage()))
        seen.append((f"log record of {record.name}", repr(record.args)))
    for path in sorted(xest_env.rglob("*")):
        name = str(path.relative_to(xest_env))
        seen.append(("a file name in the cache or config directory", name))
        if path.is_file():
            seen.append((f"file {name}", path.read_bytes().decode("latin-1")))

    problems = []
    for where, text in seen:
        for name in leaks(str(text), secrets):
            problems.append(f"{where} contains {name}: {_excerpt(str(text), secrets[name])}")
    if problems:
        pytest.fail("\n".join(sorted(set(problems))), pytrace=False)


def _excerpt(text: str, secret: str) -> str:
    at = text.find(secret)
    return repr(text[max(0, at - 40) : at].strip() + " <HERE>")
