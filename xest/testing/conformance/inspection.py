"""Helpers of the checks that compare the connector with its simulator's own state (the
inspection API of :mod:`xest.testing.state`); usable by authors' own checks too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from xest.testing.conformance import invariants as inv
from xest.testing.conformance.harness import Context

__all__ = ["fail", "inspect", "market_key", "private_read", "sim_now", "sound"]


def fail(lines: list[str]) -> None:
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)


def sound(value: Any, where: str) -> Any:
    """Fail first on floats, float-born Decimals and naive datetimes: they explain any
    mismatch with the simulator that would follow."""
    fail(inv.value_problems(value, where))
    return value


def inspect(ctx: Context, method: str, *args: Any) -> Any:
    """Call the simulator's inspection API, failing with what to implement when it is absent."""
    func = getattr(ctx.sim, method, None)
    try:
        if func is None:
            raise NotImplementedError(
                f"{type(ctx.sim).__name__} has no {method}(): build the simulator on "
                "xest.testing.server.LoopbackServer and implement its inspection API"
            )
        return func(*args)
    except NotImplementedError as exc:
        pytest.fail(f"{ctx.name}: {exc}", pytrace=False)


def sim_now(ctx: Context) -> datetime:
    return datetime.fromtimestamp(ctx.sim.now(), UTC)


def market_key(ctx: Context, symbol: str, known: dict[str, Any]) -> str:
    """The simulator's name for ``symbol`` (the connector's Market.id or one of its ids)."""
    m = ctx.call("market", symbol)
    for key in (m.id, *m.ids.values()):
        if key in known:
            return str(key)
    pytest.fail(
        f"{ctx.name}: the simulator's inspection names no market {m.id} (nor {dict(m.ids)}) "
        f"for {symbol}; it knows {sorted(known)[:8]}: inspect_prices() and inspect_orders() "
        "use the exchange's market ids",
        pytrace=False,
    )


def private_read(ctx: Context) -> str:
    for op in ("balances", "open_orders"):
        if ctx.h.declares(op):
            return op
    pytest.skip(f"{ctx.name} declares neither balances nor open_orders")
