"""Invoice rules: the status machine, totals and VAT, posting, field limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.sandbox.helpers import (
    BANK_JOURNAL,
    CLOSE,
    CREATE,
    MUG,
    POST,
    Sage,
    close,
    create,
    invoice,
    invoice_values,
    post,
)

pytestmark = pytest.mark.integration

UPDATE = """mutation ($values: SalesInvoiceUpdateGLDtoInput!) {
  updateSalesInvoice(input: $values) { id totalNet lines { productCode totalQuantity } } }"""
DELETE = """mutation ($input: SalesInvoiceDeleteGLDtoInput!) {
  deleteSalesInvoice(input: $input) { id } }"""


def test_update_and_delete_only_while_pending(sage: Sage) -> None:
    # Given one Pending and one Closed invoice
    pending, closed = create(sage), create(sage)
    close(sage, closed)
    # When each is updated and deleted
    updated = sage.data(UPDATE, {"values": {"id": pending, "externalReference": "#1001"}})
    refused_update = sage.error(UPDATE, {"values": {"id": closed, "externalReference": "#1001"}})
    refused_delete = sage.error(DELETE, {"input": {"id": closed}})
    deleted = sage.data(DELETE, {"input": {"id": pending}})
    # Then only the Pending one changes
    assert updated["updateSalesInvoice"]["id"] == pending
    assert refused_update["message"] == "global.businessErrors.salesInvoiceNotPending"
    assert refused_update["path"] == ["updateSalesInvoice"]
    assert refused_delete["extensions"]["code"] == "salesInvoiceNotPending"
    assert deleted["deleteSalesInvoice"] == {"id": pending}
    assert (
        sage.data(
            "query($id: UUID!) { salesInvoices(where: {id: {eq: $id}}) { totalCount } }",
            {"id": pending},
        )["salesInvoices"]["totalCount"]
        == 0
    )
    assert invoice(sage, closed)["status"] == "Closed"


def test_update_lines_by_requested_action(sage: Sage) -> None:
    invoice_id = create(sage)
    lines = sage.data(
        "query($id: UUID!) { salesInvoices(where: {id: {eq: $id}}) { nodes { lines { id } } } }",
        {"id": invoice_id},
    )["salesInvoices"]["nodes"][0]["lines"]
    result = sage.data(
        UPDATE,
        {
            "values": {
                "id": invoice_id,
                "lines": [
                    {"id": lines[0]["id"], "requestedAction": "MODIFY", "totalQuantity": 2},
                    {"id": lines[1]["id"], "requestedAction": "DELETE"},
                    {"productId": MUG, "totalQuantity": 1, "unitPrice": 10},
                ],
            }
        },
    )["updateSalesInvoice"]
    assert [(line["productCode"], line["totalQuantity"]) for line in result["lines"]] == [
        ("MUG-001", 2),
        ("MUG-001", 1),
    ]
    assert Decimal(str(result["totalNet"])) == Decimal("30.90")  # 2 x 11 x 0.95 + 10


def test_refused_update_changes_nothing(sage: Sage) -> None:
    invoice_id = create(sage)
    before = invoice(sage, invoice_id)
    line_id = sage.data(
        "query($id: UUID!) { salesInvoices(where: {id: {eq: $id}}) { nodes { lines { id } } } }",
        {"id": invoice_id},
    )["salesInvoices"]["nodes"][0]["lines"][0]["id"]
    error = sage.error(
        UPDATE,
        {
            "values": {
                "id": invoice_id,
                "lines": [
                    {"id": line_id, "totalQuantity": 7},
                    {"id": line_id, "firstDiscount": 150},
                ],
            }
        },
    )
    assert error["extensions"]["code"] == "invalidDiscount"
    assert invoice(sage, invoice_id) == before


def test_close_numbers_sequentially_and_only_once(sage: Sage) -> None:
    first, second = create(sage), create(sage)
    assert close(sage, first)["operationalNumber"] == "0001"
    assert close(sage, second) == {"id": second, "operationalNumber": "0002", "status": "Closed"}
    again = sage.error(CLOSE, {"input": {"salesInvoiceId": first}})
    assert again["extensions"]["code"] == "salesInvoiceNotPending"


def test_operational_number_on_create_makes_it_closed(sage: Sage) -> None:
    created = sage.data(CREATE, {"values": invoice_values(operationalNumber="SHOP-1001")})
    blank = sage.data(CREATE, {"values": invoice_values(operationalNumber="")})
    duplicate = sage.error(CREATE, {"values": invoice_values(operationalNumber="SHOP-1001")})
    assert created["createSalesInvoice"]["status"] == "Closed"
    assert created["createSalesInvoice"]["operationalNumber"] == "SHOP-1001"
    assert blank["createSalesInvoice"]["status"] == "Pending"
    assert duplicate["extensions"]["code"] == "operationalNumberAlreadyExists"


def test_totals_round_each_line_half_up_and_sum(sage: Sage) -> None:
    # 3 x 0.125 = 0.375 -> 0.38 (half-up, not banker's 0.38/0.37); VAT 20 % of 0.38 = 0.076 -> 0.08
    # 1 x 10.05 at -50 % = 5.025 -> 5.03; VAT 20 % = 1.006 -> 1.01
    values = invoice_values(
        lines=[
            {"productId": MUG, "totalQuantity": 3, "unitPrice": 0.125},
            {"productId": MUG, "totalQuantity": 1, "unitPrice": 10.05, "firstDiscount": 50},
        ]
    )
    invoice_id = sage.data(CREATE, {"values": values})["createSalesInvoice"]["id"]
    found = invoice(sage, invoice_id)
    lines = [(Decimal(str(x["totalNet"])), Decimal(str(x["totalVat"]))) for x in found["lines"]]
    assert lines == [(Decimal("0.38"), Decimal("0.08")), (Decimal("5.03"), Decimal("1.01"))]
    assert Decimal(str(found["totalNet"])) == Decimal("5.41")
    assert Decimal(str(found["totalVat"])) == Decimal("1.09")
    assert Decimal(str(found["totalLiquid"])) == Decimal("6.50")
    assert Decimal(str(found["totalGross"])) == Decimal("10.43")  # 0.38 + 10.05
    assert Decimal(str(found["totalDiscount"])) == Decimal("5.02")


def test_vat_comes_from_the_product_and_is_read_only(sage: Sage) -> None:
    found = invoice(sage, create(sage))
    assert [line["vatPercentage"] for line in found["lines"]] == [20, 5.5]
    values = invoice_values(lines=[{"productId": MUG, "totalQuantity": 1, "vatPercentage": 0}])
    assert sage.call(CREATE, {"values": values}).status_code == 400


def test_post_requires_closed_and_a_sales_journal(sage: Sage) -> None:
    invoice_id = create(sage)
    variables = {
        "input": {
            "salesInvoiceId": invoice_id,
            "accountingEntryDescription": "x",
            "journalTypeId": BANK_JOURNAL,
        }
    }
    not_closed = sage.error(POST, variables)
    close(sage, invoice_id)
    wrong_journal = sage.error(POST, variables)
    assert not_closed["extensions"]["code"] == "salesInvoiceNotClosed"
    assert wrong_journal["extensions"]["code"] == "journalTypeMustBeSalesInvoice"
    assert invoice(sage, invoice_id)["status"] == "Closed"


def test_post_creates_entry_open_item_and_first_due_date(sage: Sage) -> None:
    invoice_id = create(sage)
    close(sage, invoice_id)
    posted = post(sage, invoice_id)
    found = invoice(sage, invoice_id)
    entries = sage.data(
        """query($id: UUID!) { accountingEntries(where: {sourceEntityId: {eq: $id}}) { nodes {
          id number documentNumber journalType { code }
          accountingEntryLines { subAccount { code } debitAmount creditAmount } } } }""",
        {"id": invoice_id},
    )["accountingEntries"]["nodes"]
    assert found["status"] == "Posted"
    assert found["firstDueDate"].startswith("2023-12-05")
    assert [(i["amount"], i["status"]) for i in found["openItems"]] == [(774.7, "NOT_SPECIFIED")]
    assert [e["id"] for e in entries] == [posted["accountingEntryId"]]
    lines = entries[0]["accountingEntryLines"]
    assert entries[0]["journalType"] == {"code": "VT"}
    assert entries[0]["documentNumber"] == found["operationalNumber"]
    assert sum(Decimal(str(x["debitAmount"])) for x in lines) == Decimal("774.70")
    assert sum(Decimal(str(x["creditAmount"])) for x in lines) == Decimal("774.70")


def test_payment_terms_make_one_open_item_each(sage: Sage) -> None:
    terms = [
        {"order": 0, "type": "PERCENTAGE", "value": 30, "condition": "DAY_OF_PAYMENT", "day": 0},
        {
            "order": 9999,
            "type": "REMAINING_AMOUNT",
            "value": 0,
            "condition": "DAY_OF_PAYMENT",
            "day": 30,
        },
    ]
    invoice_id = create(sage, paymentTermLines=terms)
    close(sage, invoice_id)
    post(sage, invoice_id)
    found = invoice(sage, invoice_id)
    amounts = [Decimal(str(item["amount"])) for item in found["openItems"]]
    assert amounts == [Decimal("232.41"), Decimal("542.29")]
    assert [item["dueDate"][:10] for item in found["openItems"]] == ["2023-12-05", "2024-01-04"]
    assert found["firstDueDate"].startswith("2023-12-05")


@pytest.mark.parametrize(
    ("mutation", "values", "field"),
    [
        ("createCustomer(input: $v) { id }", {"code": "C" * 18, "socialName": "X"}, "code"),
        ("createCustomer(input: $v) { id }", {"socialName": "S" * 71}, "socialName"),
        ("createProduct(input: $v) { id }", {"code": "P" * 16, "name": "N"}, "code"),
        (
            "createSalesInvoice(input: $v) { id }",
            invoice_values(externalReference="R" * 21),
            "externalReference",
        ),
        (
            "createSalesInvoice(input: $v) { id }",
            invoice_values(salesOrderNumber="O" * 251),
            "salesOrderNumber",
        ),
    ],
)
def test_field_limits_are_business_errors(
    sage: Sage, mutation: str, values: dict[str, object], field: str
) -> None:
    kind = {
        "createCustomer": "CustomerCreateGLDtoInput",
        "createProduct": "ProductCreateGLDtoInput",
        "createSalesInvoice": "SalesInvoiceCreateGLDtoInput",
    }[mutation.split("(")[0]]
    counts = "{ customers { totalCount } products { totalCount } salesInvoices { totalCount } }"
    before = sage.data(counts)
    error = sage.error(f"mutation ($v: {kind}!) {{ {mutation} }}", {"v": values})
    assert error["message"] == "global.businessErrors.maxLengthExceeded"
    assert error["extensions"]["field"] == field
    assert sage.data(counts) == before


def test_limits_at_the_maximum_are_accepted(sage: Sage) -> None:
    created = sage.data(
        "mutation ($v: SalesInvoiceCreateGLDtoInput!) {"
        " createSalesInvoice(input: $v) { externalReference } }",
        {"v": invoice_values(externalReference="R" * 20, salesOrderNumber="O" * 250)},
    )
    assert created["createSalesInvoice"]["externalReference"] == "R" * 20
