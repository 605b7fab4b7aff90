"""Tables for people, JSON for scripts."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import click

SCHEMA_VERSION = 1

# Properties the tables show that are not attrs fields: JSON carries them too.
_DERIVED = {"Balance": ("total",), "Order": ("remaining",), "Quote": ("cost",)}


def plain(value: Decimal) -> str:
    """A decimal as a plain string, never in exponent notation: ``0`` not ``0E-10``,
    ``0.00000001`` not ``1E-8``; the digits given are kept (``0.010`` stays ``0.010``)."""
    if value.is_nan() or value.is_infinite():
        return str(value)
    return "0" if value == 0 else f"{value:f}"


def to_jsonable(value: Any) -> Any:
    """Models and plain values to JSON types. Decimals become plain strings so no digit is lost;
    durations become milliseconds under a ``_ms`` key (one unit for every duration)."""
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        for f in attrs.fields(type(value)):
            if f.name == "raw":
                continue
            item = getattr(value, f.name)
            if isinstance(item, timedelta):
                out[f"{f.name}_ms"] = milliseconds(item.total_seconds())
            else:
                out[f.name] = to_jsonable(item)
        for name in _DERIVED.get(type(value).__name__, ()):
            out[name] = to_jsonable(getattr(value, name, None))
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return milliseconds(value.total_seconds())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def milliseconds(seconds: float | None) -> float | None:
    """Seconds to milliseconds, rounded to a microsecond; None (unknown) stays None."""
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return round(seconds * 1000, 3)


def document(kind: str, data: Any) -> dict[str, Any]:
    """The JSON document of command ``kind``: ``{"schema": "xest.KIND/1", "data": ...}``.
    The schema files are ``xest/schemas/KIND.json``."""
    return {"schema": f"xest.{kind}/{SCHEMA_VERSION}", "data": to_jsonable(data)}


def print_json(value: Any, kind: str | None = None) -> None:
    """Print ``value`` as the JSON document of command ``kind`` (bare, without a kind)."""
    data = document(kind, value) if kind else to_jsonable(value)
    click.echo(json.dumps(data, indent=2))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for line in format_table(headers, rows):
        click.echo(line)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a table with upper-case headers and columns padded to their widest cell."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, Decimal):
        # Plain notation for people: 0.00000001, not 1E-8; a zero with no digits shown as 0.
        return "0" if value == 0 else f"{value:f}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)
