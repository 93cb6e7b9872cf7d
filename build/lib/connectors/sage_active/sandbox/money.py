"""Money for the sandbox: Decimal arithmetic, half-up cents, and JSON that keeps Decimal text.

Amounts never pass through `float`: request bodies are parsed with `parse_float=Decimal`
and responses are written by `dumps`, which emits a Decimal's own digits as a JSON number.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half away from zero (how invoices are rounded)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """A Decimal from a JSON number, a numeric string or an int.

    Raises:
        ValueError: `value` is a float, a bool, not numeric, or not finite.
    """
    if isinstance(value, bool | float):
        raise ValueError("amounts must be exact numbers, not floats")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def number_text(value: Decimal) -> str:
    """The JSON text of a Decimal: plain notation, no exponent, no trailing `.`."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, microseconds kept so changes stay strictly ordered."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(value: Any) -> str:
    """JSON text for response data; Decimal stays exact, UUID and datetimes become strings.

    Raises:
        TypeError: a value of an unsupported type.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | int | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(number_text(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, UUID):
        out.append(json.dumps(str(value)))
    elif isinstance(value, datetime):
        out.append(json.dumps(format_datetime(value)))
    elif isinstance(value, date):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, float):
        out.append(json.dumps(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
