"""Settlement and credit note rules, and modificationDate moving on every change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.sandbox.helpers import (
    BOOK,
    CREDIT,
    MUG,
    SETTLE,
    Sage,
    close,
    create,
    invoice,
    posted_invoice,
    settlement,
)

pytestmark = pytest.mark.integration

NEW_CUSTOMER = (
    """mutation { createCustomer(input: {code: "C2", socialName: "Autre client"}) { id } }"""
)


def test_partial_then_full_settlement_moves_the_statuses(sage: Sage) -> None:
    posted = posted_invoice(sage)
    item = posted["openItems"][0]["id"]
    first = sage.data(SETTLE, settlement(item, 500))
    middle = invoice(sage, posted["id"])
    sage.data(SETTLE, settlement(item, 274.70))
    done = invoice(sage, posted["id"])
    assert isinstance(first["salesOpenItemSettlement"]["accountingEntryNumber"], int)
    assert middle["status"] == "PartiallyCollected"
    assert middle["openItems"][0]["status"] == "PARTIAL"
    assert middle["openItems"][0]["paidAmountAccumulated"] == 500
    assert done["status"] == "Collected"
    assert done["openItems"][0]["status"] == "COLLECTED"
    assert Decimal(str(done["openItems"][0]["paidAmountAccumulated"])) == Decimal("774.70")


def test_settlement_entry_carries_the_document_number(sage: Sage) -> None:
    posted = posted_invoice(sage)
    sage.data(SETTLE, settlement(posted["openItems"][0]["id"], 10, documentNumber="pi_3Nabc"))
    entries = sage.data(
        """{ accountingEntries(where: {documentNumber: {eq: "pi_3Nabc"}}) { nodes {
            journalType { code } accountingEntryLines { debitAmount creditAmount } } } }"""
    )["accountingEntries"]["nodes"]
    assert len(entries) == 1
    assert entries[0]["journalType"] == {"code": "BQ"}
    assert [(x["debitAmount"], x["creditAmount"]) for x in entries[0]["accountingEntryLines"]] == [
        (10, 0),
        (0, 10),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"paymentMethodId": "00000000-0000-0000-0000-000000000001"}, "paymentMethodNotFound"),
        ({"amount": 0}, "paidAmountMustBePositive"),
        ({"amount": -1}, "paidAmountMustBePositive"),
        ({"amount": 774.71}, "paidAmountExceedsRemaining"),
        ({"documentNumber": "D" * 51}, "maxLengthExceeded"),
    ],
)
def test_settlement_refusals_change_nothing(
    sage: Sage, change: dict[str, object], code: str
) -> None:
    posted = posted_invoice(sage)
    amount = change.pop("amount", 100)
    error = sage.error(SETTLE, settlement(posted["openItems"][0]["id"], amount, **change))
    assert error["extensions"]["code"] == code
    assert invoice(sage, posted["id"]) == posted
    assert sage.data("{ accountingEntries { totalCount } }")["accountingEntries"]["totalCount"] == 1


def test_settlement_third_party_must_be_the_invoice_customer(sage: Sage) -> None:
    posted = posted_invoice(sage)
    other = sage.data(NEW_CUSTOMER)["createCustomer"]["id"]
    error = sage.error(SETTLE, settlement(posted["openItems"][0]["id"], 1, thirdPartyId=other))
    assert error["extensions"]["code"] == "openItemThirdPartyMismatch"


def test_settlement_cannot_exceed_what_remains_after_earlier_payments(sage: Sage) -> None:
    posted = posted_invoice(sage)
    item = posted["openItems"][0]["id"]
    sage.data(SETTLE, settlement(item, 700))
    error = sage.error(SETTLE, settlement(item, 74.71))
    assert error["extensions"]["code"] == "paidAmountExceedsRemaining"


def test_modification_date_moves_on_every_change(sage: Sage) -> None:
    invoice_id = create(sage)
    stamps = [invoice(sage, invoice_id)["modificationDate"]]
    close(sage, invoice_id)
    stamps.append(invoice(sage, invoice_id)["modificationDate"])
    posted = posted_invoice(sage)  # a second invoice, posted
    before = posted["modificationDate"]
    sage.data(SETTLE, settlement(posted["openItems"][0]["id"], 1))
    after_settlement = invoice(sage, posted["id"])["modificationDate"]
    sage.data(CREDIT, {"input": {"id": posted["id"], "lines": [{"productId": MUG, "quantity": 1}]}})
    after_credit = invoice(sage, posted["id"])["modificationDate"]
    assert stamps[0] < stamps[1]
    assert before < after_settlement < after_credit


def test_changed_since_query_sees_settled_invoices(sage: Sage) -> None:
    posted = posted_invoice(sage)
    untouched = posted_invoice(sage)
    mark = invoice(sage, untouched["id"])["modificationDate"]
    sage.data(SETTLE, settlement(posted["openItems"][0]["id"], 1))
    changed = sage.data(
        """query($since: DateTime!) { salesInvoices(where: {modificationDate: {gt: $since}},
             order: [{modificationDate: ASC}], first: 500) { nodes { id status } } }""",
        {"since": mark},
    )["salesInvoices"]["nodes"]
    assert changed == [{"id": posted["id"], "status": "PartiallyCollected"}]


def test_credit_note_refused_on_pending_invoice(sage: Sage) -> None:
    invoice_id = create(sage)
    error = sage.error(CREDIT, {"input": {"id": invoice_id}})
    assert error["extensions"]["code"] == "salesInvoiceMustBeClosedOrPosted"
    assert invoice(sage, invoice_id)["hasCreditNote"] is False


def test_credit_note_on_closed_invoice_and_source_flag(sage: Sage) -> None:
    invoice_id = create(sage)
    close(sage, invoice_id)
    note_id = sage.data(CREDIT, {"input": {"id": invoice_id}})["generateCreditNote"]["id"]
    source, note = invoice(sage, invoice_id), invoice(sage, note_id)
    assert source["hasCreditNote"] is True
    assert [line["availableForCreditNoteQuantity"] for line in source["lines"]] == [0, 0]
    assert (note["type"], note["status"], note["sourceSalesInvoiceId"]) == (
        "CREDIT_NOTE",
        "Pending",
        invoice_id,
    )
    again = sage.error(CREDIT, {"input": {"id": invoice_id}})
    assert again["extensions"]["code"] == "nothingToCredit"


def test_partial_credit_never_exceeds_available_quantity(sage: Sage) -> None:
    posted = posted_invoice(sage)
    sage.data(
        CREDIT, {"input": {"id": posted["id"], "lines": [{"productId": MUG, "quantity": 49}]}}
    )
    after = invoice(sage, posted["id"])
    too_much = sage.error(
        CREDIT, {"input": {"id": posted["id"], "lines": [{"productId": MUG, "quantity": 1.5}]}}
    )
    not_there = sage.error(
        CREDIT,
        {"input": {"id": posted["id"], "lines": [{"productId": posted["id"], "quantity": 1}]}},
    )
    assert [line["availableForCreditNoteQuantity"] for line in after["lines"]] == [1, 1]
    assert too_much["extensions"]["code"] == "quantityExceedsAvailableForCreditNote"
    assert not_there["extensions"]["code"] == "productNotOnInvoice"
    assert invoice(sage, posted["id"]) == after


def test_credit_note_cannot_itself_be_credited(sage: Sage) -> None:
    posted = posted_invoice(sage)
    note_id = sage.data(
        CREDIT, {"input": {"id": posted["id"], "lines": [{"productId": BOOK, "quantity": 1}]}}
    )["generateCreditNote"]["id"]
    close(sage, note_id)
    error = sage.error(CREDIT, {"input": {"id": note_id}})
    assert error["extensions"]["code"] == "salesInvoiceMustBeClosedOrPosted"
