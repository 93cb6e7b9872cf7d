"""Helpers (no fixtures) for talking to the sandbox over HTTP as a Sage Active client would."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.sage_active.sandbox import seed_id

CUSTOMER = str(seed_id("customer", "WALKIN"))
MUG = str(seed_id("product", "MUG-001"))
BOOK = str(seed_id("product", "BOOK-001"))
SALES_JOURNAL = str(seed_id("journalType", "VT"))
BANK_JOURNAL = str(seed_id("journalType", "BQ"))
STRIPE = str(seed_id("paymentMethod", "Stripe"))


class Sage:
    """A small client: `call(query, variables)` -> the HTTP response; `data(...)` asserts 200."""

    def __init__(self, http: httpx.Client, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    def call(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={**self.headers, **(headers or {})},
        )

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.call(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single business error of a request that must fail with HTTP 200."""
        response = self.call(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["errors"]) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


CREATE = """mutation ($values: SalesInvoiceCreateGLDtoInput!) {
  createSalesInvoice(input: $values) { id status operationalNumber totalLiquid }
}"""
CLOSE = """mutation($input: CloseSalesInvoiceGLDtoInput!) {
  closeSalesInvoice(input: $input) { id operationalNumber status }
}"""
POST = """mutation($input: PostSalesInvoiceGLDtoInput!) {
  postSalesInvoice(input: $input) {
    accountingEntryId accountingEntryNumber
    accountingEntries { accountingEntryId accountingEntryNumber }
  }
}"""
SETTLE = """mutation($input: SalesOpenItemSettlementGLDtoInput!) {
  salesOpenItemSettlement(input: $input) { accountingEntryId accountingEntryNumber }
}"""
CREDIT = """mutation($input: GenerateCreditNoteGLDtoInput!) {
  generateCreditNote(input: $input) { id } }"""
INVOICE = """query ($id: UUID!) { salesInvoices(where: { id: { eq: $id } }) { nodes {
  id status type operationalNumber modificationDate firstDueDate hasCreditNote sourceSalesInvoiceId
  totalGross totalDiscount totalNet totalVat totalLiquid
  lines { productCode totalQuantity unitPrice firstDiscount vatPercentage totalNet totalVat
          totalLiquid availableForCreditNoteQuantity }
  openItems { id amount paidAmountAccumulated status dueDate }
} } }"""


def invoice_values(**extra: Any) -> dict[str, Any]:
    """The reference's example invoice (09-sales-invoices.md) with seeded ids."""
    return {
        "customerId": CUSTOMER,
        "documentDate": "2023-12-05",
        "lines": [
            {"productId": MUG, "totalQuantity": 50, "unitPrice": 11, "firstDiscount": 5},
            {"productId": BOOK, "totalQuantity": 1, "unitPrice": 140},
        ],
        **extra,
    }


def create(sage: Sage, **extra: Any) -> str:
    invoice_id: str = sage.data(CREATE, {"values": invoice_values(**extra)})["createSalesInvoice"][
        "id"
    ]
    return invoice_id


def close(sage: Sage, invoice_id: str) -> dict[str, Any]:
    closed: dict[str, Any] = sage.data(CLOSE, {"input": {"salesInvoiceId": invoice_id}})[
        "closeSalesInvoice"
    ]
    return closed


def post(sage: Sage, invoice_id: str) -> dict[str, Any]:
    variables = {
        "input": {
            "salesInvoiceId": invoice_id,
            "accountingEntryDescription": "Sales Invoice",
            "journalTypeId": SALES_JOURNAL,
        }
    }
    posted: dict[str, Any] = sage.data(POST, variables)["postSalesInvoice"]
    return posted


def invoice(sage: Sage, invoice_id: str) -> dict[str, Any]:
    nodes = sage.data(INVOICE, {"id": invoice_id})["salesInvoices"]["nodes"]
    assert len(nodes) == 1
    found: dict[str, Any] = nodes[0]
    return found


def posted_invoice(sage: Sage, **extra: Any) -> dict[str, Any]:
    invoice_id = create(sage, **extra)
    close(sage, invoice_id)
    post(sage, invoice_id)
    return invoice(sage, invoice_id)


def settlement(open_item_id: str, amount: Any, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "entryDate": "2024-01-01",
            "paymentMethodId": STRIPE,
            "thirdPartyId": CUSTOMER,
            "documentNumber": "IN00022",
            "description": "Settlement",
            "salesOpenItemLinkagePaidAmounts": [{"openItemId": open_item_id, "paidAmount": amount}],
            **extra,
        }
    }
