"""Testing support: the simulator base (:mod:`xest.testing.server`) and the conformance suite.

Kept light: importing ``xest.testing`` imports neither pytest nor the HTTP stack.
"""

from typing import Any

__all__ = [
    "ConnectorKit",
    "ErrorCase",
    "ExpectedRequest",
    "Fault",
    "LoopbackServer",
    "RecordedCase",
    "SimRequest",
    "SimResponse",
    "route",
]


def __getattr__(name: str) -> Any:
    if name in ("ErrorCase", "ExpectedRequest", "RecordedCase"):
        from xest.testing import cases

        return getattr(cases, name)
    if name == "ConnectorKit":
        from xest.testing import kit

        return kit.ConnectorKit
    if name in ("Fault", "LoopbackServer", "SimRequest", "SimResponse", "route"):
        from xest.testing import server

        return getattr(server, name)
    raise AttributeError(f"module 'xest.testing' has no attribute {name!r}")
