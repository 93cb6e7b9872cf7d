"""JSON for GraphQL requests and responses with exact decimals.

Money never goes through `float`: `dumps` writes a `Decimal` as a JSON number with the
same digits, and `loads` reads JSON numbers with a fraction as `Decimal`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite decimal to Sage: {value}")
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def dumps(value: Any) -> str:
    """Serialise `value` to compact JSON.

    Raises:
        TypeError: for floats (they would lose cents) and unsupported types.
        ValueError: for NaN or infinite decimals.
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, Enum):
        return dumps(value.value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, float):
        raise TypeError("floats are not accepted: use Decimal for amounts and quantities")
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    if isinstance(value, UUID):
        return json.dumps(str(value))
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} for Sage")


def loads(text: str | bytes) -> Any:
    """Parse JSON, with every number that has a fraction or exponent as a `Decimal`.

    Raises:
        ValueError: the text is not JSON.
    """
    return json.loads(text, parse_float=Decimal)
