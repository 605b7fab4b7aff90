"""The pytest plugin announced through the ``pytest11`` entry point.

It adds the conformance suite's options. Only when ``--xest-connector NAME`` is given does it
register the suite (:mod:`xest.testing.conformance.session`): a pytest run that does not ask
for the suite gets no tests, fixtures or imports from xest.

    pytest --xest-connector kraken --xest-connector binance   # the suite, for both
    pytest tests --xest-connector example                      # your tests, then the suite
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
    group.addoption(
        "--xest-live",
        action="store_true",
        default=False,
        help="also run the suite's read-only checks against the real exchange (network; "
        "credentials from the account configuration or XEST_<NAME>_KEY / XEST_<NAME>_SECRET)",
    )
    group.addoption(
        "--xest-report",
        default=None,
        metavar="PATH",
        help="write the suite's report (every operation with its result, every check with "
        "its outcome) as JSON to PATH",
    )
    group.addoption(
        "--xest-account",
        default=None,
        metavar="NAME",
        help="the named account whose credentials the live checks use for private reads",
    )


def pytest_configure(config: pytest.Config) -> None:
    names = config.getoption("xest_connector", default=None)
    if not names:
        return
    from xest.testing.conformance.session import ConformancePlugin

    config.pluginmanager.register(ConformancePlugin(config, names), "xest-conformance")
