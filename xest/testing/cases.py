"""What plugins hand the conformance suite: exchange error payloads and recorded real answers.

Plugins put them in their :class:`xest.testing.ConnectorKit` (the ``xest_connectors`` hook).
The older per-part hooks also take plain dicts with the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from xest import errors

__all__ = ["ErrorCase", "ExpectedRequest", "RecordedCase", "error_class"]


def error_class(value: type[errors.XestError] | str) -> type[errors.XestError]:
    """The :mod:`xest.errors` class named by ``value`` (a class or its name)."""
    cls = getattr(errors, value, None) if isinstance(value, str) else value
    if not (isinstance(cls, type) and issubclass(cls, errors.XestError)):
        raise errors.PluginError(
            f"{value!r} is not an xest error class; use one of xest.errors ({errors.__all__})"
        )
    return cls


def _operation(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    from xest.connector import OPERATIONS

    if value is not None and value not in OPERATIONS:
        raise errors.PluginError(
            f"{type(instance).__name__} {instance.name!r}: unknown operation {value!r}; "
            f"use one of {', '.join(OPERATIONS)}"
        )


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


@attrs.frozen
class ErrorCase:
    """One error answer an exchange really sends, and the xest error it must become.

    ``body`` is sent as the answer (JSON-able values are encoded as JSON) with ``status`` and
    ``headers``. ``operation`` is the connector method the suite calls (``None``: a public read
    the connector declares); ``kwargs`` its arguments (``None``: the suite's usual ones).
    ``path`` limits the answer to requests for that path (the others reach the simulator).
    ``code``, when given, is what the raised error must keep in ``.code``.
    """

    name: str
    body: Any
    error: type[errors.XestError] = attrs.field(converter=error_class)
    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict, converter=_frozen_dict)
    operation: str | None = attrs.field(default=None, validator=_operation)
    kwargs: dict[str, Any] | None = None
    path: str | None = None
    code: Any = None

    @classmethod
    def coerce(cls, value: ErrorCase | Mapping[str, Any]) -> ErrorCase:
        return value if isinstance(value, ErrorCase) else cls(**value)


# Parameters that change on every request: never compared.
VOLATILE = frozenset(
    {"nonce", "timestamp", "signature", "recvwindow", "otp", "api-sign", "api-key", "sign"}
)


def _params(value: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(value or {})
    volatile = sorted(k for k in params if k.lower() in VOLATILE)
    if volatile:
        raise errors.PluginError(
            f"expected request parameters {', '.join(volatile)} change on every request; "
            "leave them out (the suite ignores nonce, timestamp and signature)"
        )
    return params


def _upper(value: str) -> str:
    return value.upper()


@attrs.frozen
class ExpectedRequest:
    """The request a recorded case expects the connector to send.

    ``method`` and ``path`` as sent; ``params``: the query, form or JSON-body parameters that
    matter, with their values (compared as text, numbers by value; ``None``: must be absent).
    Parameters not named are not compared; nonce, timestamp and signature never are.
    """

    method: str = attrs.field(converter=_upper)
    path: str
    params: dict[str, Any] = attrs.field(factory=dict, converter=_params)

    def describe(self) -> str:
        shown = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.method} {self.path}" + (f" with {shown}" if shown else "")


def _request(value: ExpectedRequest | Mapping[str, Any] | None) -> ExpectedRequest | None:
    if value is None or isinstance(value, ExpectedRequest):
        return value
    return ExpectedRequest(**value)


@attrs.frozen
class RecordedCase:
    """A recorded answer of an exchange, replayed over HTTP, and what it must parse to.

    ``responses`` maps ``"METHOD /path"`` (or just ``"/path"``) to the body the exchange sent.
    Say what the result must be in one or more ways: ``expect``, the whole result (compared
    with ``==``; models ignore ``raw``); ``values``, dotted attribute paths to expected values
    (``{"bids.0.price": Decimal("1.5")}``; integer parts index sequences, other parts read
    attributes or dict keys); ``check``, a callable that receives the result and asserts.
    A check must compare something: the suite also runs it on a made-up result, and a check
    that accepts that is reported as comparing nothing.

    ``request`` (an :class:`ExpectedRequest`) states what the connector must send; the suite
    compares it before anything else ("sent side=sell, expected side=buy"). Every case that
    places, cancels or looks up an order should state it.
    """

    name: str
    operation: str = attrs.field(validator=_operation)
    responses: dict[str, Any] = attrs.field(converter=_frozen_dict)
    expect: Any = None
    values: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    check: Callable[[Any], Any] | None = None
    args: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    source: str = ""
    request: ExpectedRequest | None = attrs.field(default=None, converter=_request)

    def __attrs_post_init__(self) -> None:
        if self.expect is None and not self.values and self.check is None:
            raise errors.PluginError(
                f"recorded case {self.name!r} says nothing about the result: "
                "give expect=, values= or check="
            )

    @classmethod
    def coerce(cls, value: RecordedCase | Mapping[str, Any]) -> RecordedCase:
        return value if isinstance(value, RecordedCase) else cls(**value)
