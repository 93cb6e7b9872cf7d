"""`where`, `order` and cursor pagination, the way Hot Chocolate reads them.

Filters are evaluated against the schema: a key naming an object field descends into it
(`customer: { code: { eq: "X" } }`), a list field takes `some` / `all` / `none` / `any`,
and a scalar field takes operations (`eq`, `in`, `contains`, ...). Values are read with
the same accessor the GraphQL layer uses, so anything one can select one can filter on.
"""

from __future__ import annotations

import base64
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema

from connectors.sage_active.sandbox.errors import BusinessError

DEFAULT_PAGE = 20
MAX_PAGE = 500

Accessor = Callable[[Any, str], Any]


@dataclass(slots=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(slots=True)
class Edge:
    cursor: str
    node: Any


@dataclass(slots=True)
class Connection:
    nodes: list[Any]
    edges: list[Edge]
    page_info: PageInfo
    total_count: int


def _unwrap(graphql_type: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(graphql_type, GraphQLList)
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


_ORDERING = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_TEXT = {
    "contains": lambda text, part: part in text,
    "startsWith": str.startswith,
    "endsWith": str.endswith,
}


def _compare(op: str, expected: Any, actual: Any) -> bool:
    """One filter operation; text operations ignore case, as Sage Active's do."""
    if op == "eq":
        return bool(actual == expected)
    if op == "neq":
        return bool(actual != expected)
    if op == "in":
        return actual in (expected or [])
    if op == "nin":
        return actual not in (expected or [])
    negate = op.startswith("n") and op not in _TEXT
    base = op[1].lower() + op[2:] if negate else op
    if base in _ORDERING:
        held = actual is not None and expected is not None and _ORDERING[base](actual, expected)
        return bool(held) != negate
    if base in _TEXT:
        held = actual is not None and _TEXT[base](str(actual).lower(), str(expected).lower())
        return bool(held) != negate
    raise BusinessError("unsupportedFilterOperation", operation=op)


def _scalar_matches(ops: dict[str, Any], actual: Any) -> bool:
    for op, expected in ops.items():
        if op == "and":
            if not all(_scalar_matches(sub, actual) for sub in expected or []):
                return False
        elif op == "or":
            if not any(_scalar_matches(sub, actual) for sub in expected or []):
                return False
        elif not _compare(op, expected, actual):
            return False
    return True


class Filter:
    """Evaluates `where` inputs on entities of a named GraphQL object type."""

    def __init__(self, schema: GraphQLSchema, read: Accessor) -> None:
        self._schema = schema
        self._read = read

    def matches(self, type_name: str, item: Any, where: dict[str, Any] | None) -> bool:
        if not where:
            return True
        object_type = self._schema.type_map[type_name]
        assert isinstance(object_type, GraphQLObjectType)
        for key, condition in where.items():
            if condition is None:
                continue
            if key == "and":
                if not all(self.matches(type_name, item, sub) for sub in condition):
                    return False
            elif key == "or":
                if not any(self.matches(type_name, item, sub) for sub in condition):
                    return False
            elif not self._field_matches(object_type, item, key, condition):
                return False
        return True

    def _field_matches(
        self, object_type: GraphQLObjectType, item: Any, key: str, condition: dict[str, Any]
    ) -> bool:
        field_type, is_list = _unwrap(object_type.fields[key].type)
        value = self._read(item, key)
        if not isinstance(field_type, GraphQLObjectType):
            return _scalar_matches(condition, value)
        if not is_list:
            return value is not None and self.matches(field_type.name, value, condition)
        values = list(value or [])
        for op, sub in condition.items():
            hits = (self.matches(field_type.name, each, sub) for each in values)
            if op == "some" and not any(hits):
                return False
            if op == "all" and not all(hits):
                return False
            if op == "none" and any(hits):
                return False
            if op == "any" and bool(values) != bool(sub):
                return False
        return True

    def sort(self, items: list[Any], order: Sequence[dict[str, Any]] | None) -> list[Any]:
        """Sort by each `order` key in turn (stable sorts, last key first)."""
        keys = [path for spec in order or [] for path in _paths(spec, ())]
        for path, direction in reversed(keys):
            items.sort(key=partial(self._sort_key, path), reverse=direction == "DESC")
        return items

    def _sort_key(self, path: tuple[str, ...], item: Any) -> tuple[int, Any]:
        value = item
        for name in path:
            value = None if value is None else self._read(value, name)
        return (0, "") if value is None else (1, value)


def _paths(spec: dict[str, Any], prefix: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], str]]:
    for name, direction in spec.items():
        if isinstance(direction, dict):
            yield from _paths(direction, (*prefix, name))
        elif direction is not None:
            yield (*prefix, name), direction


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode()


def _index(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor.encode(), validate=True).decode())
    except ValueError as exc:
        raise BusinessError("invalidCursor", cursor=cursor) from exc


def paginate(
    items: list[Any],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection:
    """A Relay connection over `items` (already filtered and sorted); cursors are indexes.

    Raises:
        BusinessError: `maxPaginationSizeExceeded` above 500, `invalidPaginationSize`
            below 0, `invalidCursor` for a cursor this server did not give.
    """
    for size in (first, last):
        if size is not None and size > MAX_PAGE:
            raise BusinessError("maxPaginationSizeExceeded", maximum=MAX_PAGE)
        if size is not None and size < 0:
            raise BusinessError("invalidPaginationSize")
    start = _index(after) + 1 if after else 0
    end = _index(before) if before else len(items)
    start, end = max(start, 0), min(max(end, start), len(items))
    if first is None and last is None:
        first = DEFAULT_PAGE
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    nodes = items[start:end]
    edges = [Edge(_cursor(start + offset), node) for offset, node in enumerate(nodes)]
    return Connection(
        nodes=nodes,
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < len(items),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(items),
    )
