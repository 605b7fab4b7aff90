"""What plugins hand the conformance suite: exchange error payloads and recorded real answers.

Plugins register them through the ``xest_error_payloads`` and ``xest_recorded_payloads`` hooks
(see :mod:`xest.hookspecs`), either as these classes or as plain dicts with the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from xest import errors

__all__ = ["ErrorCase", "RecordedCase", "error_class"]


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


@attrs.frozen
class RecordedCase:
    """A recorded answer of an exchange, replayed over HTTP, and what it must parse to.

    ``responses`` maps ``"METHOD /path"`` (or just ``"/path"``) to the body the exchange sent.
    Say what the result must be in one or more ways: ``expect``, the whole result (compared
    with ``==``; models ignore ``raw``); ``values``, dotted attribute paths to expected values
    (``{"bids.0.price": Decimal("1.5")}``; integer parts index sequences, other parts read
    attributes or dict keys); ``check``, a callable that receives the result and asserts.
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

    def __attrs_post_init__(self) -> None:
        if self.expect is None and not self.values and self.check is None:
            raise errors.PluginError(
                f"recorded case {self.name!r} says nothing about the result: "
                "give expect=, values= or check="
            )

    @classmethod
    def coerce(cls, value: RecordedCase | Mapping[str, Any]) -> RecordedCase:
        return value if isinstance(value, RecordedCase) else cls(**value)
