"""The pytest plugin announced through the ``pytest11`` entry point.

It adds the conformance suite's options; a pytest run that does not ask for the suite is left
untouched.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xest", "xest connector conformance")
    group.addoption(
        "--xest-connector",
        action="append",
        default=[],
        metavar="NAME",
        help="run the xest conformance suite against the installed connector NAME (repeatable)",
    )
