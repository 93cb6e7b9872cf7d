import pytest

from connectors.sage_active.batch import Operation, build, plan


def _post(n: int) -> Operation:
    return Operation(
        "postSalesInvoice",
        "accountingEntryId",
        {"input": ("PostSalesInvoiceGLDtoInput!", {"salesInvoiceId": str(n)})},
    )


def test_build_aliases_each_operation_with_its_own_variables() -> None:
    doc = build([_post(1), _post(2)])
    assert doc.aliases == ["op0", "op1"]
    assert doc.text == (
        "mutation Batch($op0_input: PostSalesInvoiceGLDtoInput!, "
        "$op1_input: PostSalesInvoiceGLDtoInput!) { "
        "op0: postSalesInvoice(input: $op0_input) { accountingEntryId } "
        "op1: postSalesInvoice(input: $op1_input) { accountingEntryId } }"
    )
    assert doc.variables == {
        "op0_input": {"salesInvoiceId": "1"},
        "op1_input": {"salesInvoiceId": "2"},
    }


def test_build_refuses_mixed_kinds_and_empty() -> None:
    with pytest.raises(ValueError, match="only queries or only mutations"):
        build([_post(1), Operation("taxes", "id", mutation=False)])
    with pytest.raises(ValueError, match="at least one"):
        build([])


def test_operation_names_are_checked() -> None:
    with pytest.raises(ValueError, match="not GraphQL names"):
        Operation("drop table", "id")


def test_plan_splits_by_size_cost_and_kind() -> None:
    ops = [_post(i) for i in range(5)]
    assert plan(ops, max_cost=1000, max_size=2) == [[0, 1], [2, 3], [4]]
    per_op = ops[0].estimated_cost()
    assert plan(ops, max_cost=per_op * 3, max_size=50) == [[0, 1, 2], [3, 4]]
    mixed = [_post(0), Operation("taxes", "id", mutation=False), _post(1)]
    assert plan(mixed, max_cost=1000, max_size=50) == [[0], [1], [2]]


def test_an_operation_costlier_than_the_budget_goes_alone() -> None:
    ops = [_post(0), Operation("x", "id", cost=500), _post(1)]
    assert plan(ops, max_cost=100, max_size=50) == [[0], [1], [2]]
