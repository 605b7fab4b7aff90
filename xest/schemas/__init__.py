"""The JSON contract of the ``xest`` command line: one JSON Schema per document kind.

Every ``--json`` document is ``{"schema": "xest.KIND/1", "data": ...}``; ``KIND.json`` here
describes it (``error.json``: the object a failure prints on stderr). Within a version, fields
may be added, never removed or changed. ``scripts/build_schemas.py`` writes these files.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["kinds", "load", "parse", "validate"]


def kinds() -> list[str]:
    return sorted(
        p.name[: -len(".json")]
        for p in resources.files(__name__).iterdir()
        if p.name.endswith(".json")
    )


def load(kind: str) -> dict[str, Any]:
    """The JSON Schema of documents of ``kind`` (``status``, ``error``...)."""
    return json.loads(resources.files(__name__).joinpath(f"{kind}.json").read_text())


def validate(document: Any) -> Any:
    """Check a parsed document against the schema it names; returns its ``data`` (or the
    error object). Needs the ``jsonschema`` package (a test dependency)."""
    import jsonschema

    name = document.get("schema", "") if isinstance(document, dict) else ""
    kind, _, version = name.removeprefix("xest.").partition("/")
    if not name.startswith("xest.") or version != "1":
        raise ValueError(f"not a xest document: schema {name!r}")
    jsonschema.Draft202012Validator(
        load(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)
    return document.get("data", document.get("error"))


def parse(text: str) -> Any:
    """A document's text → its validated ``data`` (tests' one-liner)."""
    return validate(json.loads(text))
