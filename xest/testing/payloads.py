"""Recorded answers shipped inside a connector's distribution, for its simulator, its tests and
the conformance suite: ``<package>/payloads/<name>.json``.

``load_payload("xest_kraken", "ticker")`` decodes as the transport does (floats as exact
Decimals, big ints kept); ``exact=False`` gives plain JSON values, to be served again over HTTP.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_payload", "payload_text"]


@cache
def payload_text(package: str, name: str) -> str:
    """The text of ``<package>/payloads/<name>.json`` (read once per process)."""
    return resources.files(package).joinpath("payloads", f"{name}.json").read_text()


def load_payload(package: str, name: str, *, exact: bool = True) -> Any:
    """A recorded answer, decoded with ``parse_float=Decimal`` unless ``exact=False``."""
    text = payload_text(package, name)
    return json.loads(text, parse_float=Decimal) if exact else json.loads(text)
