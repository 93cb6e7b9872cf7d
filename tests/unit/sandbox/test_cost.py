"""The sandbox's field cost (Hot Chocolate's defaults) against the client's estimate."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from connectors.sage_active import documents as doc
from connectors.sage_active.batch import Operation, build
from connectors.sage_active.sandbox.cost import MAX_FIELD_COST, document_cost

# Every kind of operation the batch writer sends, as the bridge builds them.
BRIDGE_OPERATIONS = [
    Operation(*doc.CREATE_INVOICE[::2], {"input": (doc.CREATE_INVOICE[1], {})}),
    Operation(*doc.CLOSE_INVOICE[::2], {"input": (doc.CLOSE_INVOICE[1], {})}),
    Operation(*doc.POST_INVOICE[::2], {"input": (doc.POST_INVOICE[1], {})}),
    Operation(*doc.GENERATE_CREDIT_NOTE[::2], {"input": (doc.GENERATE_CREDIT_NOTE[1], {})}),
    Operation(
        "createSalesOpenItemSettlement",
        doc.SETTLEMENT_FIELDS,
        {"input": (doc.SETTLEMENT_INPUT_TYPE, {})},
    ),
    Operation(
        doc.OPEN_ITEMS_FIELD[0],
        doc.OPEN_ITEMS_FIELD[2],
        {"first": ("Int", 1), "where": (doc.OPEN_ITEMS_FIELD[1], {})},
        mutation=False,
    ),
]


def cost_of(text: str, variables: dict[str, object] | None = None) -> int:
    document = parse(text)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return document_cost(document, operation, variables)


def test_fields_cost_one_mutations_ten_and_pages_multiply() -> None:
    assert cost_of("{ a { b c } }") == 3
    assert cost_of("mutation { m(input: 1) { id n } }") == 12
    assert cost_of("{ xs(first: 100) { nodes { id name } } }") == 1 + 100 * 3
    assert cost_of("query ($n: Int) { xs(first: $n) { nodes { id } } }", {"n": 7}) == 1 + 7 * 2
    assert cost_of("{ xs { nodes { id } } }") == 1 + 20 * 2  # the default page
    assert cost_of("{ ...F } fragment F on Query { a b }") == 2


@pytest.mark.parametrize("op", BRIDGE_OPERATIONS, ids=lambda op: op.field)
def test_the_client_estimate_never_falls_below_the_sandbox_cost(op: Operation) -> None:
    document = build([op])
    assert op.estimated_cost() >= cost_of(document.text, document.variables)


def test_a_full_batch_is_estimated_at_least_at_its_cost_and_far_below_the_limit() -> None:
    ops = [op for op in BRIDGE_OPERATIONS if op.mutation] * 20
    document = build(ops)
    cost = cost_of(document.text, document.variables)
    assert sum(op.estimated_cost() for op in ops) >= cost
    assert cost < MAX_FIELD_COST
