"""`createAccountingEntryUsingCodes` / `...UsingIds`, `accountingEntries`,
`accountingEntryLines` and `accountingAccounts` over HTTP, with the reference's rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.sage_active.sandbox import seed_id
from tests.integration.sandbox.helpers import CUSTOMER, Sage, posted_invoice, settlement

BY_CODES = """mutation ($values: AccountingEntryCreateUsingCodesGLDtoInput!) {
  createAccountingEntryUsingCodes(input: $values) { id number } }"""
BY_IDS = """mutation ($values: AccountingEntryCreateUsingIdsGLDtoInput!) {
  createAccountingEntryUsingIds(input: $values) { id number } }"""
ENTRIES = """query ($doc: String) { accountingEntries(where: { documentNumber: { eq: $doc } }) {
  nodes { id number documentNumber description sourceType journalType { code }
  accountingEntryLines { order description debitAmount creditAmount documentNumber
    subAccount { code name } accountingEntryThirdParty { code origin } } } } }"""
LINES = """query ($code: String, $after: String) { accountingEntryLines(first: 2, after: $after,
  where: { subAccount: { code: { eq: $code } } }) { nodes { debitAmount creditAmount
  accountingEntry { documentNumber } } pageInfo { hasNextPage endCursor } } }"""
SETTLE = """mutation($input: SalesOpenItemSettlementGLDtoInput!) {
  createSalesOpenItemSettlement(input: $input) { accountingEntryId } }"""


def payout(**extra: Any) -> dict[str, Any]:
    """The bank journal entry of a payout: bank and fees debited, clearing credited."""
    return {
        "values": {
            "date": "2026-11-20",
            "journalTypeCode": "BQ",
            "documentNumber": "po_1Q2w3E4r5T6y",
            "description": "Stripe payout po_1Q2w3E4r5T6y",
            "accountingEntryLines": [
                {"subAccountCode": "512000000", "debitAmount": 96.85, "creditAmount": 0},
                {"subAccountCode": "627000000", "debitAmount": 3.15, "creditAmount": 0,
                 "description": "Stripe fees"},
                {"subAccountCode": "511500000", "debitAmount": 0, "creditAmount": 100},
            ],
            **extra,
        }
    }  # fmt: skip


def balance(sage: Sage, code: str) -> Decimal:
    """Debits minus credits of every line on `code`, walking all pages (2 a page)."""
    total, after = Decimal(0), None
    while True:
        page = sage.data(LINES, {"code": code, "after": after})["accountingEntryLines"]
        for line in page["nodes"]:
            total += Decimal(str(line["debitAmount"])) - Decimal(str(line["creditAmount"]))
        if not page["pageInfo"]["hasNextPage"]:
            return total
        after = page["pageInfo"]["endCursor"]


def test_entry_by_codes_is_stored_and_found_by_document_number(sage: Sage) -> None:
    created = sage.data(BY_CODES, payout())["createAccountingEntryUsingCodes"]
    assert created["number"] > 0

    [entry] = sage.data(ENTRIES, {"doc": "po_1Q2w3E4r5T6y"})["accountingEntries"]["nodes"]
    assert entry["id"] == created["id"]
    assert entry["sourceType"] == "PUBLIC_API"
    assert entry["journalType"]["code"] == "BQ"
    lines = [(ln["subAccount"]["code"], ln["debitAmount"], ln["creditAmount"], ln["description"])
             for ln in entry["accountingEntryLines"]]  # fmt: skip
    assert lines == [
        ("512000000", 96.85, 0, "Stripe payout po_1Q2w3E4r5T6y"),  # the header's description
        ("627000000", 3.15, 0, "Stripe fees"),
        ("511500000", 0, 100, "Stripe payout po_1Q2w3E4r5T6y"),
    ]
    assert {ln["documentNumber"] for ln in entry["accountingEntryLines"]} == {"po_1Q2w3E4r5T6y"}


def test_reference_example_with_a_customer_third_party(sage: Sage) -> None:
    values = {
        "date": "2023-01-01", "documentDate": "2022-12-16", "documentNumber": "FA0022",
        "description": "Facture FA0022", "journalTypeCode": "VT",
        "accountingEntryLines": [
            {"thirdCode": "WALKIN", "debitAmount": 100, "creditAmount": 0,
             "subAccountCode": "411000000"},
            {"thirdCode": "WALKIN", "debitAmount": 58.25, "creditAmount": 0,
             "subAccountCode": "411000000"},
            {"creditAmount": 150, "debitAmount": 0, "subAccountCode": "706000000"},
            {"creditAmount": 8.25, "debitAmount": 0, "subAccountCode": "445710000"},
        ],
    }  # fmt: skip
    sage.data(BY_CODES, {"values": values})
    [entry] = sage.data(ENTRIES, {"doc": "FA0022"})["accountingEntries"]["nodes"]
    customer_lines = [ln for ln in entry["accountingEntryLines"] if ln["accountingEntryThirdParty"]]
    # A sales journal merges the lines of one third party.
    assert [(ln["debitAmount"], ln["accountingEntryThirdParty"]) for ln in customer_lines] == [
        (158.25, {"code": "WALKIN", "origin": "CUSTOMER"})
    ]


def test_entry_by_ids(sage: Sage) -> None:
    values = {
        "date": "2026-11-20", "journalTypeId": str(seed_id("journalType", "BQ")),
        "documentNumber": "by-ids",
        "accountingEntryLines": [
            {"subAccountId": str(seed_id("accountingAccount", "512000000")),
             "debitAmount": 10, "creditAmount": 0},
            {"subAccountId": str(seed_id("accountingAccount", "411000000")), "thirdId": CUSTOMER,
             "debitAmount": 0, "creditAmount": 10},
        ],
    }  # fmt: skip
    sage.data(BY_IDS, {"values": values})
    [entry] = sage.data(ENTRIES, {"doc": "by-ids"})["accountingEntries"]["nodes"]
    assert [ln["subAccount"]["code"] for ln in entry["accountingEntryLines"]] == [
        "512000000",
        "411000000",
    ]


def _lines(*lines: tuple[str, Any, Any]) -> list[dict[str, Any]]:
    return [{"subAccountCode": c, "debitAmount": d, "creditAmount": k} for c, d, k in lines]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"accountingEntryLines": _lines(("512000000", 10, 0), ("511500000", 0, 9.99))},
         "accountingEntryNotBalanced"),
        ({"accountingEntryLines": _lines(("512000000", 10, 0), ("999999999", 0, 10))},
         "accountingAccountNotFound"),
        ({"journalTypeCode": "NOPE"}, "journalTypeNotFound"),
        ({"accountingEntryLines": _lines(("512000000", 0, 0))}, "accountingEntryLinesRequired"),
        ({"accountingEntryLines": _lines(("512000000", 10, 10), ("511500000", 0, 0))},
         "invalidLineAmount"),
        ({"accountingEntryLines": _lines(("512000000", -10, 0), ("511500000", -10, 0))},
         "invalidLineAmount"),
        ({"accountingEntryLines": _lines(("512000000", 10.001, 0), ("511500000", 0, 10.001))},
         "invalidLineAmount"),
        ({"accountingEntryLines": _lines(("512000000", 10, 0), ("411000000", 0, 10))},
         "thirdPartyRequired"),
        ({"accountingEntryLines": [
            {"subAccountCode": "512000000", "debitAmount": 10, "creditAmount": 0},
            {"subAccountCode": "411000000", "thirdCode": "NOBODY", "debitAmount": 0,
             "creditAmount": 10}]}, "thirdPartyNotFound"),
        ({"accountingEntryLines": [
            {"subAccountCode": "512000000", "thirdCode": "WALKIN", "debitAmount": 10,
             "creditAmount": 0},
            {"subAccountCode": "511500000", "debitAmount": 0, "creditAmount": 10}]},
         "thirdPartyAccountMismatch"),
        ({"documentNumber": "x" * 51}, "maxLengthExceeded"),
        ({"description": "x" * 201}, "maxLengthExceeded"),
    ],
)  # fmt: skip
def test_refusals_change_nothing(sage: Sage, change: dict[str, Any], key: str) -> None:
    variables = payout(**change)
    error = sage.error(BY_CODES, variables)
    assert error["extensions"]["code"] == key
    doc = variables["values"]["documentNumber"]
    assert sage.data(ENTRIES, {"doc": doc})["accountingEntries"]["nodes"] == []


def test_unbalanced_error_names_both_totals(sage: Sage) -> None:
    lines = _lines(("512000000", 10, 0), ("511500000", 0, 9.99))
    error = sage.error(BY_CODES, payout(accountingEntryLines=lines))
    assert error["extensions"]["debit"] == "10"
    assert error["extensions"]["credit"] == "9.99"


def test_stripe_settlements_land_on_the_clearing_account_and_a_payout_empties_it(
    sage: Sage,
) -> None:
    invoice = posted_invoice(sage)  # 140 * 1.055 + 50 * 11 * 0.95 * 1.2 = 774.70
    [item] = invoice["openItems"]
    sage.data(SETTLE, settlement(item["id"], item["amount"], documentNumber="ch_1"))
    assert balance(sage, "511500000") == Decimal(str(item["amount"]))
    assert balance(sage, "411000000") == Decimal(0)  # invoice debit, settlement credit

    lines = _lines(("512000000", item["amount"] - 20, 0), ("627000000", 20, 0),
                   ("511500000", 0, item["amount"]))  # fmt: skip
    sage.data(BY_CODES, payout(accountingEntryLines=lines, documentNumber="po_2"))
    assert balance(sage, "511500000") == Decimal(0)
    assert balance(sage, "627000000") == Decimal(20)


def test_chart_of_accounts_and_payment_method_accounts(sage: Sage) -> None:
    query = """{ accountingAccounts(where: { code: { in: ["511500000", "627000000"] } })
      { nodes { code name } }
      paymentMethods(where: { referenceName: { in: ["Stripe", "Shopify Payments"] } })
      { nodes { referenceName subAccount { code } } } }"""
    data = sage.data(query)
    assert sorted(a["code"] for a in data["accountingAccounts"]["nodes"]) == [
        "511500000",
        "627000000",
    ]
    methods = {m["referenceName"]: m["subAccount"]["code"] for m in data["paymentMethods"]["nodes"]}
    assert methods == {"Stripe": "511500000", "Shopify Payments": "511600000"}


def test_the_reference_filters_on_journal_and_lines(sage: Sage) -> None:
    sage.data(BY_CODES, payout())
    invoice = posted_invoice(sage)  # a sales entry in VT, its customer line on 411
    query = """query ($where: AccountingEntryFilterInput) { accountingEntries(where: $where)
      { nodes { documentNumber journalType { code } } } }"""
    by_journal = {"journalType": {"code": {"eq": "BQ"}}}
    nodes = sage.data(query, {"where": by_journal})["accountingEntries"]["nodes"]
    assert [n["documentNumber"] for n in nodes] == ["po_1Q2w3E4r5T6y"]
    on_411 = {"accountingEntryLines": {"some": {"subAccount": {"code": {"startsWith": "411"}}}}}
    nodes = sage.data(query, {"where": on_411})["accountingEntries"]["nodes"]
    assert [(n["documentNumber"], n["journalType"]["code"]) for n in nodes] == [
        (invoice["operationalNumber"], "VT")
    ]
