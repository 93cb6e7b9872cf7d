"""The field cost of a document, as Sage's Hot Chocolate server counts it, and its limit.

Sage refuses a document whose cost passes `maxFieldCost = 650000` before running any of it
(HTTP 200, an `errors[]` entry and no `data`). The sandbox counts the way Hot Chocolate's
defaults do: every selected field costs 1, a mutation's root field 10, and what is selected
under a paged field (`first` / `last`, else the default page of 20 for a connection) counts
once per record the page may hold. Fragments count where they are spread.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

MAX_FIELD_COST = 650_000
MUTATION_FIELD_COST = 10
DEFAULT_PAGE_SIZE = 20
_PAGE_ARGUMENTS = ("first", "last")


def document_cost(
    document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> int:
    """The field cost of running `operation` of `document` with `variables`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    weight = MUTATION_FIELD_COST if operation.operation == OperationType.MUTATION else 1
    counter = _Counter(fragments, variables or {})
    return counter.selections(operation.selection_set, root_weight=weight)


def complexity_error(cost: int, limit: int) -> dict[str, Any]:
    """The answer to a document over the limit (sent with HTTP 200)."""
    return {
        "errors": [
            {
                "message": "The maximum allowed field cost was exceeded.",
                "extensions": {"code": "HC0047", "fieldCost": cost, "maxFieldCost": limit},
            }
        ]
    }


class _Counter:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]):
        self._fragments = fragments
        self._variables = variables

    def selections(self, selection_set: SelectionSetNode | None, root_weight: int = 1) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, root_weight)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(selection.selection_set, root_weight)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None:
                    total += self.selections(fragment.selection_set, root_weight)
        return total

    def field(self, node: FieldNode, weight: int) -> int:
        children = self.selections(node.selection_set)
        return weight + self.page_size(node) * children

    def page_size(self, node: FieldNode) -> int:
        """Records a page of `node` may hold: its `first` / `last`, 20 for a connection."""
        for argument in node.arguments or ():
            if argument.name.value not in _PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            if isinstance(value, VariableNode):
                given = self._variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return max(1, given)
            return DEFAULT_PAGE_SIZE
        if node.selection_set is None:
            return 1
        names = {s.name.value for s in node.selection_set.selections if isinstance(s, FieldNode)}
        return DEFAULT_PAGE_SIZE if {"nodes", "edges"} & names else 1
