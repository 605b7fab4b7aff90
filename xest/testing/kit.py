"""One registration per connector: the connector class and its test kit, together.

A plugin's ``xest_connectors`` hook returns one :class:`ConnectorKit` per exchange (or a list)::

    from xest import hookimpl

    @hookimpl
    def xest_connectors():
        from xest.testing import ConnectorKit
        from my_exchange.connector import MyConnector

        def simulator(**options):
            from my_exchange.simulator import MySimulator  # heavy imports stay lazy
            return MySimulator(**options)

        return ConnectorKit(
            MyConnector,
            simulator=simulator,
            error_cases=lambda: my_exchange.cases.ERROR_CASES,
            recorded_cases=lambda: my_exchange.cases.RECORDED_CASES,
            options={"symbol": "BTC/USD"},
        )

Everything but the connector is optional: the conformance suite says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from xest import errors

if TYPE_CHECKING:
    from xest.connector import Connector

__all__ = ["OPTION_KEYS", "ConnectorKit"]

# What ``options`` may say; every key is optional (the suite derives the rest).
OPTION_KEYS = frozenset(
    {
        "symbol",  # the market to trade
        "order_amount",  # a limit buy that rests in the book: amount ...
        "order_price",  # ... and price
        "quote_symbol",
        "quote_side",
        "quote_amount",  # a quote the demo account can accept
        "candle_interval",
    }
)

Cases = Sequence[Any] | Callable[[], Sequence[Any]]


def _options(value: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(value or {})
    unknown = sorted(set(options) - OPTION_KEYS)
    if unknown:
        raise errors.PluginError(
            f"unknown conformance option(s) {', '.join(unknown)}; "
            f"use {', '.join(sorted(OPTION_KEYS))}"
        )
    return options


def _reasons(value: Mapping[str, str] | None) -> dict[str, str]:
    reasons = dict(value or {})
    for check, reason in reasons.items():
        if not str(reason).strip():
            raise errors.PluginError(
                f"excluding the shared check {check!r} needs a reason: the report shows it"
            )
    return reasons


@attrs.frozen
class ConnectorKit:
    """A connector and everything the suite and the CLI need to exercise it.

    - ``connector``: the :class:`xest.connector.Connector` subclass.
    - ``simulator``: ``factory(**options)`` returning a not yet started simulator (a
      :class:`xest.testing.server.LoopbackServer`) on 127.0.0.1; ``--sim``, ``xest sim`` and
      the suite use it. It must accept ``port`` and ``clock_offset`` and ignore unknown options.
    - ``error_cases``: :class:`xest.testing.ErrorCase` s (or a function returning them).
    - ``recorded_cases``: :class:`xest.testing.RecordedCase` s (or a function returning them).
    - ``options``: how to exercise the simulator (see :data:`OPTION_KEYS`).
    - ``checks``: the author's own checks, run with the shared ones: functions taking the
      suite's context (:class:`xest.testing.conformance.harness.Context`) that raise
      ``AssertionError`` (or call ``pytest.fail``) with a message naming the defect.
    - ``exclude``: shared checks to leave out (``{"test_quote_expires": "why"}``); the
      report lists each with its reason.
    """

    connector: type[Connector]
    simulator: Callable[..., Any] | None = None
    error_cases: Cases = ()
    recorded_cases: Cases = ()
    options: dict[str, Any] = attrs.field(factory=dict, converter=_options)
    checks: tuple[Callable[..., Any], ...] = attrs.field(default=(), converter=tuple)
    exclude: dict[str, str] = attrs.field(factory=dict, converter=_reasons)

    @property
    def exchange(self) -> str:
        return str(getattr(self.connector, "exchange", ""))

    def cases(self, kind: str) -> list[Any]:
        """``error_cases`` or ``recorded_cases``, typed, the lazy form resolved."""
        from xest.testing.cases import ErrorCase, RecordedCase

        value = getattr(self, kind)
        items = list(value() if callable(value) else value)
        wanted = ErrorCase if kind == "error_cases" else RecordedCase
        for item in items:
            if not isinstance(item, wanted):
                raise errors.PluginError(
                    f"{self.exchange}: {kind} holds a {type(item).__name__}; a kit takes "
                    f"{wanted.__name__} instances only (from xest.testing)"
                )
        return items
