"""The plugin's own checks (``ConnectorKit.checks``), run with the shared ones against the
connector's simulator, each reported under its own name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from xest.testing.conformance.harness import Context, cases


@cases("checks")
def test_author_check(xest_ctx: Context, xest_case: Callable[[Context], Any] | None):
    if xest_case is None:
        pytest.skip(f"{xest_ctx.name} adds no checks of its own (ConnectorKit.checks)")
    try:
        xest_case(xest_ctx)
    except AssertionError as exc:
        problem = str(exc) or "assertion failed"
    else:
        return
    name = getattr(xest_case, "__name__", "check")
    pytest.fail(f"{xest_ctx.name}'s own check {name}: {problem}", pytrace=False)
