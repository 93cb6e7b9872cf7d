"""Suppliers, purchase invoices (create, post, open items, settlement), bank accounts and
the bank feed (`POST /_sandbox/bank-movements`, `bankMovements`, `reconcileBankMovement`,
`unReconcileBankMovement`) over HTTP, with the reference's rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.sage_active.sandbox import seed_id
from tests.integration.sandbox.helpers import Sage

pytestmark = pytest.mark.integration

SUPPLIER = """mutation ($values: SupplierCreateGLDtoInput!) {
  createSupplier(input: $values) { id code countryAcronym viesCode vatNumber
    defaultAccountingAccount { code } } }"""
INVOICE = """mutation ($values: PurchaseInvoiceCreateGLDtoInput!) {
  createPurchaseInvoice(input: $values) { id status totalLiquid pendingAmount } }"""
POST = """mutation ($input: PostPurchaseInvoiceGLDtoInput!) {
  postPurchaseInvoice(input: $input) { accountingEntryId accountingEntryNumber } }"""
SETTLE = """mutation ($input: PurchaseOpenItemSettlementGLDtoInput!) {
  purchaseOpenItemSettlement(input: $input) { accountingEntryId accountingEntryNumber } }"""
READ = """query ($number: String) { purchaseInvoices(where: { invoiceNumber: { eq: $number } }) {
  nodes { id status pendingAmount totalLiquid supplier { code }
    vatLines { totalVatBase totalVat taxTreatment { taxCode isIntracomunity }
               purchaseAccountingAccount { code } }
    openItems { id amount paidAmountAccumulated status } } } }"""
ENTRY = """query ($id: UUID) { accountingEntries(where: { id: { eq: $id } }) { nodes {
  sourceType documentNumber journalType { code }
  accountingEntryLines { debitAmount creditAmount subAccount { code }
    accountingEntryThirdParty { code origin } } } } }"""
TREATMENTS = """query { taxTreatments(where: { taxCode: { eq: "C0037" } }) {
  nodes { id isIntracomunity registerType outputAccountingAccount { code } } } }"""
ACCOUNT = """query ($code: String) { accountingAccounts(where: { code: { eq: $code } }) {
  nodes { id } } }"""
PAYOUT = """mutation ($values: AccountingEntryCreateUsingCodesGLDtoInput!) {
  createAccountingEntryUsingCodes(input: $values) { id number } }"""
MOVEMENTS = """query ($bank: UUID, $amount: Decimal) { bankMovements(where: {
  bankAccountId: { eq: $bank }, transactionAmount: { eq: $amount } }) { nodes {
  id linkStatus transactionNarrative datePosted
  linkedAccountingEntries { accountingEntryId documentNumber }
  reconciledItems { linked bankAccountingEntryId } } } }"""
RECONCILE = """mutation ($input: ReconcileBankMovementGLDtoInput!) {
  reconcileBankMovement(input: $input) { id } }"""
UNRECONCILE = """mutation ($input: UnReconcileBankMovementGLDtoInput!) {
  unReconcileBankMovement(input: $input) { id } }"""
BANKS = "query { bankAccounts { id referenceName accountingAccountCode balanceAmount } }"
STRIPE_IE = {
    "socialName": "Stripe Payments Europe, Ltd.",
    "code": "STRIPE",
    "vatNumber": "IE0000001A",
    "addresses": [{"firstLine": "1 Grand Canal Street Lower", "city": "Dublin",
                   "zipCode": "D02 H210", "countryIsoCodeAlpha2": "IE"}],
}  # fmt: skip


def make_supplier(sage: Sage, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = sage.data(SUPPLIER, {"values": {**STRIPE_IE, **extra}})[
        "createSupplier"
    ]
    return found


def reverse_charge_invoice(sage: Sage, supplier: str, number: str = "STRIPE-2026-11") -> str:
    treatment = sage.data(TREATMENTS)["taxTreatments"]["nodes"][0]["id"]
    fees = sage.data(ACCOUNT, {"code": "627000000"})["accountingAccounts"]["nodes"][0]["id"]
    values = {
        "supplierId": supplier, "invoiceDate": "2026-11-30", "invoiceNumber": number,
        "totalLiquid": 19.32,
        "vatLines": [{"totalVatBase": 19.32, "vatPercentage": 20, "totalVat": 3.86,
                      "taxTreatmentId": treatment, "purchaseAccountingAccountId": fees}],
    }  # fmt: skip
    created = sage.data(INVOICE, {"values": values})["createPurchaseInvoice"]
    assert created["status"] == "Pending"
    assert Decimal(str(created["pendingAmount"])) == Decimal("19.32")
    return str(created["id"])


def lines(sage: Sage, entry_id: str) -> list[tuple[str, Decimal, Decimal, str | None]]:
    [entry] = sage.data(ENTRY, {"id": entry_id})["accountingEntries"]["nodes"]
    return [
        (ln["subAccount"]["code"], Decimal(str(ln["debitAmount"])),
         Decimal(str(ln["creditAmount"])),
         (ln["accountingEntryThirdParty"] or {}).get("code"))
        for ln in entry["accountingEntryLines"]
    ]  # fmt: skip


def test_supplier_rules_by_country(sage: Sage) -> None:
    made = make_supplier(sage)
    assert (made["code"], made["countryAcronym"], made["viesCode"]) == ("STRIPE", "IE", "IE")
    assert made["defaultAccountingAccount"]["code"] == "401000000"
    assert sage.error(SUPPLIER, {"values": STRIPE_IE})["extensions"]["code"] == "codeAlreadyExists"
    wrong = sage.error(SUPPLIER, {"values": {**STRIPE_IE, "code": "X", "vatNumber": "FR1"}})
    assert wrong["extensions"]["code"] == "invalidVatNumber"
    bare = sage.error(SUPPLIER, {"values": {"socialName": "No address"}})
    assert bare["extensions"] == {"code": "requiredField", "field": "addresses"}
    us = {"socialName": "Smiths", "vatNumber": "US1", "addresses": [
        {"city": "NEW YORK", "countryIsoCodeAlpha2": "US"}]}  # fmt: skip
    numbered = sage.data(SUPPLIER, {"values": us})["createSupplier"]
    assert numbered["vatNumber"] is None  # not used outside VIES
    assert numbered["code"]


def test_reverse_charge_invoice_posted_and_settled_against_the_clearing_account(
    sage: Sage,
) -> None:
    supplier = make_supplier(sage)["id"]
    invoice = reverse_charge_invoice(sage, supplier)
    journal = str(seed_id("journalType", "HA"))
    posted = sage.data(POST, {"input": {"purchaseInvoiceId": invoice, "journalTypeId": journal,
                       "accountingEntryDescription": "Stripe fees 2026-11",
                       "postingDate": "2026-11-30"}})["postPurchaseInvoice"]  # fmt: skip
    assert sorted(lines(sage, posted["accountingEntryId"])) == [
        ("401000000", Decimal(0), Decimal("19.32"), "STRIPE"),
        ("445200000", Decimal(0), Decimal("3.86"), None),  # VAT due
        ("445662000", Decimal("3.86"), Decimal(0), None),  # VAT deductible
        ("627000000", Decimal("19.32"), Decimal(0), None),
    ]
    again = sage.error(POST, {"input": {"purchaseInvoiceId": invoice, "journalTypeId": journal,
                       "accountingEntryDescription": "again"}})  # fmt: skip
    assert again["extensions"]["code"] == "purchaseInvoiceNotPending"
    [read] = sage.data(READ, {"number": "STRIPE-2026-11"})["purchaseInvoices"]["nodes"]
    assert read["status"] == "Posted"
    assert read["vatLines"][0]["taxTreatment"] == {"taxCode": "C0037", "isIntracomunity": True}
    [item] = read["openItems"]
    settle = {"entryDate": "2026-11-30", "thirdPartyId": supplier,
              "paymentMethodId": str(seed_id("paymentMethod", "Stripe")),
              "documentNumber": "STRIPE-2026-11",
              "purchaseOpenItemLinkagePaidAmounts": [{"openItemId": item["id"],
                                                      "paidAmount": 19.33}]}  # fmt: skip
    too_much = sage.error(SETTLE, {"input": settle})
    assert too_much["extensions"]["code"] == "paidAmountExceedsRemaining"
    settle["purchaseOpenItemLinkagePaidAmounts"][0]["paidAmount"] = 19.32  # type: ignore[index]
    paid = sage.data(SETTLE, {"input": settle})["purchaseOpenItemSettlement"]
    assert sorted(lines(sage, paid["accountingEntryId"])) == [
        ("401000000", Decimal("19.32"), Decimal(0), "STRIPE"),
        ("511500000", Decimal(0), Decimal("19.32"), None),
    ]
    [read] = sage.data(READ, {"number": "STRIPE-2026-11"})["purchaseInvoices"]["nodes"]
    assert (read["status"], Decimal(str(read["pendingAmount"]))) == ("Paid", Decimal(0))
    assert read["openItems"][0]["status"] == "PAID"


def test_purchase_invoice_amounts_must_add_up(sage: Sage) -> None:
    supplier = make_supplier(sage)["id"]
    base = {
        "supplierId": supplier,
        "invoiceDate": "2026-11-30",
        "invoiceNumber": "A1",
        "totalLiquid": 24.00,
        "vatLines": [{"totalVatBase": 20.00, "vatPercentage": 20, "totalVat": 4.00}],
    }
    assert sage.data(INVOICE, {"values": base})["createPurchaseInvoice"]["status"] == "Pending"
    twice = sage.error(INVOICE, {"values": base})
    assert twice["extensions"]["code"] == "purchaseInvoiceNumberAlreadyExists"
    vat = {
        **base,
        "invoiceNumber": "A2",
        "vatLines": [{"totalVatBase": 20.00, "vatPercentage": 20, "totalVat": 3.99}],
    }
    assert sage.error(INVOICE, {"values": vat})["extensions"]["code"] == "vatAmountMismatch"
    total = {**base, "invoiceNumber": "A3", "totalLiquid": 20.00}
    assert sage.error(INVOICE, {"values": total})["extensions"]["code"] == "totalLiquidMismatch"


def test_bank_movement_reconciled_once_with_a_payout_entry(sage: Sage, http: httpx.Client) -> None:
    entry = sage.data(PAYOUT, {"values": {
        "date": "2026-12-02", "journalTypeCode": "BQ", "documentNumber": "po_bank1",
        "accountingEntryLines": [
            {"subAccountCode": "512000000", "debitAmount": 139.00, "creditAmount": 0},
            {"subAccountCode": "511500000", "debitAmount": 0, "creditAmount": 139.00}]}})[
        "createAccountingEntryUsingCodes"]  # fmt: skip
    for bad in (
        {"bankAccount": "512000000", "amount": 139.0, "date": "2026-12-04"},
        {"bankAccount": "512000000", "amount": "1.001", "date": "2026-12-04"},
        {"bankAccount": "599999999", "amount": "139.00", "date": "2026-12-04"},
        {"bankAccount": "512000000", "amount": "139.00", "date": "4/12/2026"},
    ):
        assert http.post("/_sandbox/bank-movements", json=bad).status_code == 400, bad
    added = http.post("/_sandbox/bank-movements", json={
        "bankAccount": "512000000", "amount": "139.00", "date": "2026-12-04",
        "label": "VIR STRIPE PAYMENTS EUROPE po_bank1"})  # fmt: skip
    assert added.status_code == 201, added.text
    movement = added.json()
    assert movement["linkStatus"] == "NOT_SPECIFIED"
    bank = next(b for b in sage.data(BANKS)["bankAccounts"]
                if b["accountingAccountCode"] == "512000000")  # fmt: skip
    assert bank["id"] == movement["bankAccountId"]
    assert Decimal(str(bank["balanceAmount"])) == Decimal("139.00")
    variables = {"bank": bank["id"], "amount": 139.00}
    [found] = sage.data(MOVEMENTS, variables)["bankMovements"]["nodes"]
    assert found["transactionNarrative"].endswith("po_bank1")

    reconcile = {"bankTransactionId": movement["id"],
                 "accountingEntries": [{"accountingEntryId": entry["id"]}]}  # fmt: skip
    assert sage.data(RECONCILE, {"input": reconcile})["reconcileBankMovement"]["id"]
    [found] = sage.data(MOVEMENTS, variables)["bankMovements"]["nodes"]
    assert found["linkStatus"] == "LINKED"
    assert found["linkedAccountingEntries"] == [
        {"accountingEntryId": entry["id"], "documentNumber": "po_bank1"}
    ]
    assert found["reconciledItems"] == [{"linked": True, "bankAccountingEntryId": entry["id"]}]
    twice = sage.error(RECONCILE, {"input": reconcile})
    assert twice["extensions"]["code"] == "bankMovementAlreadyReconciled"
    other = http.post("/_sandbox/bank-movements", json={
        "bankAccount": "512000000", "amount": "139.00", "date": "2026-12-05"}).json()  # fmt: skip
    same_entry = {**reconcile, "bankTransactionId": other["id"]}
    assert (sage.error(RECONCILE, {"input": same_entry})["extensions"]["code"]
            == "accountingEntryAlreadyReconciled")  # fmt: skip

    undone = {"bankTransactionId": movement["id"]}
    assert sage.data(UNRECONCILE, {"input": undone})["unReconcileBankMovement"]["id"]
    [first, _] = sorted(sage.data(MOVEMENTS, variables)["bankMovements"]["nodes"],
                        key=lambda m: m["datePosted"])  # fmt: skip
    assert (first["linkStatus"], first["linkedAccountingEntries"]) == ("NOT_SPECIFIED", [])
    assert first["reconciledItems"] == [{"linked": False, "bankAccountingEntryId": entry["id"]}]
    again = sage.error(UNRECONCILE, {"input": undone})
    assert again["extensions"]["code"] == "bankMovementNotReconciled"
