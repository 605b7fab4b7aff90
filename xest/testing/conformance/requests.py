"""What a recorded case's connector sent, against the request the case expects.

Said first, in the exchange's own words: "sent side=sell, expected side=buy" or "asked for
GET /ticker/btceur/, expected GET /ticker/btcusd/", so a wrong side, pair or missing client
order id reads as what it is rather than as a parsing failure further on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from xest.testing.cases import ExpectedRequest
from xest.testing.server import SimRequest


def sent_params(request: SimRequest) -> dict[str, str]:
    """Query, form and JSON-body parameters of a request, as text."""
    params = dict(request.params)
    if request.body.lstrip().startswith("{"):
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update({k: _text(v) for k, v in body.items()})
    return params


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same(sent: str, expected: Any) -> bool:
    if isinstance(expected, bool) or sent.lower() in ("true", "false"):
        return sent.lower() in (_text(expected).lower(), "1" if expected is True else "")
    try:
        return Decimal(sent) == Decimal(str(expected))
    except (InvalidOperation, ValueError):
        return sent == _text(expected)


def param_problems(expected: ExpectedRequest, params: dict[str, str]) -> list[str]:
    found = []
    for name, want in expected.params.items():
        got = params.get(name)
        if want is None:
            if got is not None:
                found.append(f"sent {name}={got}, expected no {name}")
        elif got is None:
            found.append(f"sent no {name}, expected {name}={_text(want)}")
        elif not same(got, want):
            found.append(f"sent {name}={got}, expected {name}={_text(want)}")
    return found


def request_problems(
    expected: ExpectedRequest, sent: Sequence[SimRequest], answered: Sequence[str] = ()
) -> list[str]:
    """Empty when some request sent matches ``expected``; else what differs, one line each.

    ``answered``: the ``"METHOD /path"`` keys the case has answers for, so that a request to
    a path it does not know is preferred as "the one that went wrong".
    """
    if not sent:
        return [f"sent nothing, expected {expected.describe()}"]
    same_path = [r for r in sent if r.path == expected.path]
    matching = [r for r in same_path if r.method == expected.method]
    if matching:
        problems = [param_problems(expected, sent_params(r)) for r in matching]
        if any(not p for p in problems):
            return []
        return problems[-1]
    if same_path:
        r = same_path[-1]
        return [f"sent {r.method} {r.path}, expected {expected.method} {expected.path}"]
    known = set(answered)
    strays = (
        [r for r in sent if f"{r.method} {r.path}" not in known and r.path not in known]
        or [r for r in sent if r.method == expected.method]
        or list(sent)
    )
    r = strays[-1]
    return [f"asked for {r.method} {r.path}, expected {expected.method} {expected.path}"]
