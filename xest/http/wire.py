"""How values go on the wire: the one place numbers are turned into exchange text.

Exchanges want plain decimal digits (``0.00000001``, never ``1E-8``), booleans as ``true`` /
``false``, and no floats at all (``0.1`` as a float is not 0.1). The transport applies
:func:`wire_value` to every parameter; signers that build their own query or body use it too.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["plain_decimal", "wire_value"]


def plain_decimal(value: Decimal | int | str) -> str:
    """``value`` in plain notation, without exponent or trailing zeros: ``Decimal("1E-8")`` →
    ``"0.00000001"``, ``Decimal("1.500")`` → ``"1.5"``, ``Decimal("1E+3")`` → ``"1000"``."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def wire_value(value: object) -> str:
    """A request parameter as text: Decimals plain, booleans ``true``/``false``, floats refused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError(f"float parameter {value!r}: pass a Decimal or a string")
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return str(value)
