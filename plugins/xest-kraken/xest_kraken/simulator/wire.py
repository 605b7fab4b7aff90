"""Kraken's envelope and argument checks, shared by the simulator's handlers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from xest.testing.server import SimResponse
from xest_kraken.simulator.engine import Reject


def ok(result: Any) -> dict:
    return {"error": [], "result": result}


def fail(*texts: str, status: int = 200) -> SimResponse:
    # Kraken answers refusals with HTTP 200 and the error strings.
    return SimResponse({"error": list(texts)}, status=status)


def integer(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Reject(f"EGeneral:Invalid arguments:{name}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise Reject(f"EGeneral:Invalid arguments:{name}")
    return number


def positive(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value if value is not None else ""))
    except InvalidOperation:
        raise Reject(f"EGeneral:Invalid arguments:{name}") from None
    # Kraken refuses absurd magnitudes; the simulator must too, rather than crash on them
    # (a price of 1e40 made its tick check raise DivisionImpossible).
    if not number.is_finite() or number <= 0 or number.adjusted() > 15 or number.adjusted() < -20:
        raise Reject(f"EGeneral:Invalid arguments:{name}")
    return number


def flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")
