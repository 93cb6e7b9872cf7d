"""The UUID, DateTime and Decimal scalars: exact in, exact out.

Decimal arrives as a JSON number (parsed to Decimal by the request reader, never float)
or a literal in the document; it leaves as a Decimal that `money.dumps` writes as a number.
DateTime is ISO 8601; a date alone means midnight UTC; output is UTC with a `Z`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from graphql.error import GraphQLError

from connectors.sage_active.sandbox.money import format_datetime, to_decimal


def parse_datetime(value: Any) -> datetime:
    """An aware UTC datetime from ISO 8601 text (`2024-01-01`, `...T10:00:00Z`, offsets).

    Raises:
        GraphQLError: not a string, or not ISO 8601.
    """
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime cannot represent a non-string value: {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise GraphQLError(f"DateTime cannot represent an invalid value: {value!r}") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC))
    raise GraphQLError(f"DateTime cannot serialize {value!r}")


def _parse_uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise GraphQLError(f"UUID cannot represent a non-string value: {value!r}")
    try:
        return UUID(value)
    except ValueError as exc:
        raise GraphQLError(f"UUID cannot represent an invalid value: {value!r}") from exc


def _serialize_uuid(value: Any) -> str:
    if isinstance(value, UUID):
        return str(value)
    return str(_parse_uuid(value))


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, str):
        raise GraphQLError(f"Decimal cannot represent a string: {value!r}; send a number")
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise GraphQLError(f"Decimal cannot represent {value!r}") from exc


def _serialize_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise GraphQLError(f"Decimal cannot serialize {value!r}")


def _literal(parse: Callable[[Any], Any], kinds: tuple[type[ValueNode], ...]) -> Callable[..., Any]:
    def parse_literal(node: ValueNode, *_variables: Any) -> Any:
        if not isinstance(node, kinds):
            raise GraphQLError(f"unexpected literal {type(node).__name__}")
        raw = getattr(node, "value", None)
        if isinstance(node, IntValueNode | FloatValueNode):
            return parse(Decimal(str(raw)))
        return parse(raw)

    return parse_literal


Behaviour = tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[..., Any]]

SCALARS: dict[str, Behaviour] = {
    "UUID": (_serialize_uuid, _parse_uuid, _literal(_parse_uuid, (StringValueNode,))),
    "DateTime": (
        _serialize_datetime,
        parse_datetime,
        _literal(parse_datetime, (StringValueNode,)),
    ),
    "Decimal": (
        _serialize_decimal,
        _parse_decimal,
        _literal(_parse_decimal, (IntValueNode, FloatValueNode)),
    ),
}
