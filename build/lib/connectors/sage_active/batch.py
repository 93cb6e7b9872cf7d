"""Several GraphQL operations in one document, with aliases.

`Operation` describes one root field call; `plan` groups operations into documents that
stay under a size and an estimated complexity budget (Sage refuses documents above
`maxFieldCost = 650000`); `build` writes one document with every operation under its
own alias (`op0`, `op1`, ...) and its own variables, so each alias' result and errors
can be mapped back to its operation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MUTATION_FIELD_COST = 10  # Hot Chocolate's default weight of a mutation field
DEFAULT_PAGE_SIZE = 20  # records of a page when a query names no `first`
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Operation:
    """One root field call: `field(arg: $var ...) { selection }`.

    `arguments` maps an argument name to (GraphQL type, value), e.g.
    `{"input": ("PostSalesInvoiceGLDtoInput!", {...})}`.
    """

    field: str
    selection: str = ""
    arguments: dict[str, tuple[str, Any]] = dataclasses.field(default_factory=dict)
    mutation: bool = True
    cost: int | None = None

    def __post_init__(self) -> None:
        names = [self.field, *self.arguments]
        bad = [n for n in names if not _NAME.match(n)]
        if bad:
            raise ValueError(f"not GraphQL names: {bad}")

    def estimated_cost(self) -> int:
        """A conservative estimate of Sage's field cost: a weight for the root field plus
        one per word of the selection, times the page size a query may return (its
        `first` / `last`, else Sage's default page of 20). A mutation's selection holds no
        paged field. `cost`, when given, wins."""
        if self.cost is not None:
            return self.cost
        base = MUTATION_FIELD_COST if self.mutation else 1
        return base + self._page_size() * len(_FIELD_TOKEN.findall(self.selection))

    def _page_size(self) -> int:
        for name in ("first", "last"):
            if name in self.arguments:
                value = self.arguments[name][1]
                valid = isinstance(value, int) and not isinstance(value, bool)
                return max(1, value) if valid else MAX_PAGE_SIZE
        return 1 if self.mutation else DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class Document:
    text: str
    variables: dict[str, Any]
    aliases: list[str]
    mutation: bool
    name: str


def plan(operations: Sequence[Operation], *, max_cost: int, max_size: int) -> list[list[int]]:
    """Split operation indexes into groups sent as one document each, order kept.

    A group holds only queries or only mutations, at most `max_size` operations and at
    most `max_cost` estimated cost (an operation costlier alone still gets its own group).
    """
    groups: list[list[int]] = []
    cost = 0
    for index, op in enumerate(operations):
        op_cost = op.estimated_cost()
        current = groups[-1] if groups else None
        if (
            current is None
            or operations[current[0]].mutation != op.mutation
            or len(current) >= max_size
            or cost + op_cost > max_cost
        ):
            groups.append([index])
            cost = op_cost
        else:
            current.append(index)
            cost += op_cost
    return groups


def build(operations: Sequence[Operation]) -> Document:
    """One GraphQL document running `operations` under aliases `op0`, `op1`, ...

    Raises:
        ValueError: no operations, or queries mixed with mutations.
    """
    if not operations:
        raise ValueError("a batch needs at least one operation")
    mutation = operations[0].mutation
    if any(op.mutation != mutation for op in operations):
        raise ValueError("a batch holds only queries or only mutations")
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    aliases: list[str] = []
    for index, op in enumerate(operations):
        alias = f"op{index}"
        aliases.append(alias)
        args: list[str] = []
        for arg, (gql_type, value) in op.arguments.items():
            var = f"{alias}_{arg}"
            declarations.append(f"${var}: {gql_type}")
            args.append(f"{arg}: ${var}")
            variables[var] = value
        call = f"{alias}: {op.field}" + (f"({', '.join(args)})" if args else "")
        fields.append(call + (f" {{ {op.selection} }}" if op.selection else ""))
    kind = "mutation" if mutation else "query"
    fields_names = sorted({op.field for op in operations})
    name = f"batch:{'+'.join(fields_names)}"
    header = f"{kind} Batch" + (f"({', '.join(declarations)})" if declarations else "")
    return Document(header + " { " + " ".join(fields) + " }", variables, aliases, mutation, name)
