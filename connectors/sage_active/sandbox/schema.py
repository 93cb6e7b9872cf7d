"""The executable schema: schema.graphql plus generated filter, sort and connection types.

Hot Chocolate (which Sage Active runs on) derives `XFilterInput`, `XSortInput` and
`XConnection` from each object type; generating them here from the SDL keeps every field
filterable and sortable without writing each input by hand.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from graphql import (
    EnumTypeDefinitionNode,
    GraphQLSchema,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    TypeNode,
    build_schema,
    parse,
)

from connectors.sage_active.sandbox import scalars

_COMPARABLE = ("Int", "Decimal", "DateTime", "UUID")
_NOT_FILTERED = {"Query", "Mutation", "PageInfo", "UserProfile"}
_OUTPUT_ONLY_SUFFIX = "GLDto"
MAIN_SDL = "schema.graphql"


def _named(node: TypeNode) -> tuple[str, bool]:
    """(type name, is a list) of a field's type."""
    is_list = False
    while not isinstance(node, NamedTypeNode):
        if isinstance(node, ListTypeNode):
            is_list = True
        assert isinstance(node, ListTypeNode | NonNullTypeNode)
        node = node.type
    return node.name.value, is_list


def _operation_inputs(enums: list[str]) -> list[str]:
    out = []
    for scalar in _COMPARABLE:
        ops = " ".join(
            f"{op}: {scalar}"
            for op in ("eq", "neq", "gt", "gte", "lt", "lte", "ngt", "ngte", "nlt", "nlte")
        )
        out.append(
            f"input {scalar}OperationFilterInput {{ and: [{scalar}OperationFilterInput!] "
            f"or: [{scalar}OperationFilterInput!] {ops} in: [{scalar}] nin: [{scalar}] }}"
        )
    text_ops = " ".join(
        f"{op}: String"
        for op in (
            "eq",
            "neq",
            "contains",
            "ncontains",
            "startsWith",
            "nstartsWith",
            "endsWith",
            "nendsWith",
        )
    )
    out.append(
        "input StringOperationFilterInput { and: [StringOperationFilterInput!] "
        f"or: [StringOperationFilterInput!] {text_ops} in: [String] nin: [String] }}"
    )
    out.append("input BooleanOperationFilterInput { eq: Boolean neq: Boolean }")
    for enum in enums:
        out.append(
            f"input {enum}OperationFilterInput {{ eq: {enum} neq: {enum} "
            f"in: [{enum}!] nin: [{enum}!] }}"
        )
    return out


def _object_inputs(obj: ObjectTypeDefinitionNode, enums: set[str], objects: set[str]) -> list[str]:
    name = obj.name.value
    filters = [f"and: [{name}FilterInput!]", f"or: [{name}FilterInput!]"]
    sorts: list[str] = []
    extra: list[str] = []
    for field in obj.fields or ():
        field_name = field.name.value
        type_name, is_list = _named(field.type)
        if type_name in objects and is_list:
            list_input = f"ListFilterInputTypeOf{type_name}FilterInput"
            filters.append(f"{field_name}: {list_input}")
            extra.append(
                f"input {list_input} {{ all: {type_name}FilterInput none: {type_name}FilterInput "
                f"some: {type_name}FilterInput any: Boolean }}"
            )
        elif type_name in objects:
            filters.append(f"{field_name}: {type_name}FilterInput")
            sorts.append(f"{field_name}: {type_name}SortInput")
        elif not is_list:
            operation = type_name if type_name in enums or type_name in _COMPARABLE else None
            operation = operation or ("Boolean" if type_name == "Boolean" else "String")
            filters.append(f"{field_name}: {operation}OperationFilterInput")
            sorts.append(f"{field_name}: SortEnumType")
    return [
        f"input {name}FilterInput {{ {' '.join(filters)} }}",
        f"input {name}SortInput {{ {' '.join(sorts)} }}",
        f"type {name}Edge {{ cursor: String! node: {name}! }}",
        f"type {name}Connection {{ nodes: [{name}!]! edges: [{name}Edge!]! "
        "pageInfo: PageInfo! totalCount: Int! }",
        *extra,
    ]


def sdl() -> str:
    """The full SDL: schema.graphql, then the package's other `*.graphql` files (each a
    feature's types, extending Query and Mutation), plus the generated types."""
    package = resources.files(__package__)
    extra = sorted(
        f.name for f in package.iterdir() if f.name.endswith(".graphql") and f.name != MAIN_SDL
    )
    source = "\n".join(
        package.joinpath(name).read_text(encoding="utf-8") for name in (MAIN_SDL, *extra)
    )
    document = parse(source)
    enums = [d.name.value for d in document.definitions if isinstance(d, EnumTypeDefinitionNode)]
    objects = [
        d
        for d in document.definitions
        if isinstance(d, ObjectTypeDefinitionNode)
        and d.name.value not in _NOT_FILTERED
        and not d.name.value.endswith(_OUTPUT_ONLY_SUFFIX)
    ]
    object_names = {obj.name.value for obj in objects}
    generated = _operation_inputs(enums)
    seen: set[str] = set()
    for obj in objects:
        for definition in _object_inputs(obj, set(enums), object_names):
            if definition not in seen:
                seen.add(definition)
                generated.append(definition)
    return source + "\n" + "\n".join(generated) + "\n"


@cache
def schema() -> GraphQLSchema:
    """The executable schema, with the UUID, DateTime and Decimal scalars wired in."""
    built = build_schema(sdl())
    for name, behaviour in scalars.SCALARS.items():
        scalar: Any = built.type_map[name]
        serialize, parse_value, parse_literal = behaviour
        # graphql-core 3.3 reads the coerce_* names, 3.2 the older ones: set both.
        for names, function in (
            (("serialize", "coerce_output_value"), serialize),
            (("parse_value", "coerce_input_value"), parse_value),
            (("parse_literal", "coerce_input_literal"), parse_literal),
        ):
            for name in names:
                setattr(scalar, name, function)
    return built
