"""The example operations of reference 09-sales-invoices.md and 10-sales-actions.md, sent as
written (ids replaced by seeded ones), get the documented shapes back."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from tests.integration.sandbox.helpers import (
    BOOK,
    CLOSE,
    CREDIT,
    CUSTOMER,
    MUG,
    POST,
    SALES_JOURNAL,
    STRIPE,
    Sage,
    create,
    invoice,
    invoice_values,
    posted_invoice,
)
from tests.support.sandbox import ORGANIZATION_ID

pytestmark = pytest.mark.integration


def test_first_queries_of_the_quickstart(http: httpx.Client, sandbox_token: str) -> None:
    # Given only a token and the API key (no organisation yet)
    headers = {"Authorization": f"Bearer {sandbox_token}", "x-api-key": "sandbox-key"}
    # When the quickstart's two first queries are sent
    profile = http.post(
        "/graphql",
        json={"query": "query { userProfile { id fullName authenticationEmail } }"},
        headers=headers,
    )
    orgs = http.post(
        "/graphql",
        json={"query": "query { organizations { nodes { id socialName legislationCode } } }"},
        headers=headers,
    )
    # Then they answer without X-OrganizationId, and the seeded FR organisation is listed
    assert profile.status_code == 200
    assert set(profile.json()["data"]["userProfile"]) == {"id", "fullName", "authenticationEmail"}
    assert orgs.json() == {
        "data": {
            "organizations": {
                "nodes": [
                    {
                        "id": ORGANIZATION_ID,
                        "socialName": "Boutique Démo SAS",
                        "legislationCode": "FR",
                    }
                ]
            }
        }
    }


def test_create_sales_invoice_example(sage: Sage) -> None:
    response = sage.call(
        """mutation ($values: SalesInvoiceCreateGLDtoInput!) {
          createSalesInvoice(input: $values) {
            id
          }
        }""",
        {"values": invoice_values()},
    )
    body = response.json()
    assert response.status_code == 200
    assert list(body) == ["data"]
    assert list(body["data"]["createSalesInvoice"]) == ["id"]
    uuid.UUID(body["data"]["createSalesInvoice"]["id"])


def test_close_sales_invoice_example_assigns_the_number(sage: Sage) -> None:
    invoice_id = create(sage)
    body = sage.call(CLOSE.replace(" status", ""), {"input": {"salesInvoiceId": invoice_id}}).json()
    assert body == {"data": {"closeSalesInvoice": {"id": invoice_id, "operationalNumber": "0001"}}}


def test_post_sales_invoice_example(sage: Sage) -> None:
    invoice_id = create(sage)
    sage.data(CLOSE, {"input": {"salesInvoiceId": invoice_id}})
    body = sage.call(
        POST,
        {
            "input": {
                "salesInvoiceId": invoice_id,
                "accountingEntryDescription": "Sales Invoice No. 0007 27/06/2024",
                "journalTypeId": SALES_JOURNAL,
            }
        },
    ).json()
    posted = body["data"]["postSalesInvoice"]
    assert isinstance(posted["accountingEntryNumber"], int)
    assert posted["accountingEntries"] == [
        {
            "accountingEntryId": posted["accountingEntryId"],
            "accountingEntryNumber": posted["accountingEntryNumber"],
        }
    ]


def test_open_items_and_settlement_example(sage: Sage) -> None:
    # Given a posted invoice of 774.70 (50 x 11 at -5 % with 20 % VAT, 140 at 5.5 %)
    posted = posted_invoice(sage)
    assert Decimal(str(posted["totalLiquid"])) == Decimal("774.70")
    item = posted["openItems"][0]
    # When the reference's settlement is sent (its shape, with our open item)
    body = sage.call(
        """mutation($input: SalesOpenItemSettlementGLDtoInput!) {
          salesOpenItemSettlement(input: $input) {
            accountingEntryId
            accountingEntryNumber
          }
        }""",
        {
            "input": {
                "entryDate": "2024-01-01",
                "paymentMethodId": STRIPE,
                "description": "Full settlement of Invoice IN0022",
                "documentNumber": "IN00022",
                "thirdPartyId": CUSTOMER,
                "salesOpenItemLinkagePaidAmounts": [
                    {"openItemId": item["id"], "paidAmount": 500},
                    {"openItemId": item["id"], "paidAmount": 274.7},
                ],
            }
        },
    ).json()
    # Then the documented answer, and the invoice is collected
    assert set(body["data"]["salesOpenItemSettlement"]) == {
        "accountingEntryId",
        "accountingEntryNumber",
    }
    after = invoice(sage, posted["id"])
    assert after["status"] == "Collected"
    assert after["openItems"][0]["status"] == "COLLECTED"


def test_sales_invoice_open_items_query(sage: Sage) -> None:
    posted = posted_invoice(sage)
    data = sage.data(
        """query ($id: UUID!) { salesInvoiceOpenItems(where: { salesInvoiceId: { eq: $id } }) {
          nodes { id creationDate modificationDate amount paidAmountAccumulated dueDate status
                  isAdvanceInvoicePayment paymentMeanId salesInvoiceId }
          totalCount } }""",
        {"id": posted["id"]},
    )
    items = data["salesInvoiceOpenItems"]
    assert items["totalCount"] == 1
    assert items["nodes"][0]["status"] == "NOT_SPECIFIED"
    assert items["nodes"][0]["dueDate"].startswith("2023-12-05T00:00:00")


def test_full_credit_note_example(sage: Sage) -> None:
    posted = posted_invoice(sage)
    body = sage.call(CREDIT, {"input": {"id": posted["id"]}}).json()
    note = invoice(sage, body["data"]["generateCreditNote"]["id"])
    assert note["type"] == "CREDIT_NOTE"
    assert note["status"] == "Pending"
    assert note["sourceSalesInvoiceId"] == posted["id"]
    assert Decimal(str(note["totalLiquid"])) == Decimal("-774.70")


def test_partial_credit_note_example(sage: Sage) -> None:
    posted = posted_invoice(sage)
    body = sage.call(
        CREDIT,
        {
            "input": {
                "id": posted["id"],
                "lines": [
                    {"productId": MUG, "quantity": 1.00},
                    {"productId": BOOK, "quantity": 0.50},
                ],
            }
        },
    ).json()
    note = invoice(sage, body["data"]["generateCreditNote"]["id"])
    assert [(line["productCode"], line["totalQuantity"]) for line in note["lines"]] == [
        ("MUG-001", -1),
        ("BOOK-001", -0.5),
    ]


def test_create_customer_and_product_examples(sage: Sage) -> None:
    customer = sage.data(
        """mutation ($values: CustomerCreateGLDtoInput!) {
          createCustomer(input: $values) { id code } }""",
        {
            "values": {
                "socialName": "DUPONT SA",
                "tradeName": "Dupont",
                "documentId": "323456789",
                "vatNumber": "FR33323456789",
                "addresses": [
                    {
                        "firstLine": "72 rue Joffre",
                        "city": "PARIS",
                        "zipCode": "75001",
                        "countryIsoCodeAlpha2": "FR",
                    }
                ],
            }
        },
    )["createCustomer"]
    product = sage.data(
        """mutation ($values: ProductCreateGLDtoInput!) { createProduct(input: $values) { id } }""",
        {"values": {"code": "SILVRING", "name": "Silver Ring", "salesUnitPrice": 400}},
    )["createProduct"]
    assert customer["code"] == "1"
    assert set(product) == {"id"}


def test_concept_products_query_with_edges(sage: Sage) -> None:
    sage.data(
        """mutation { createProduct(input: {code: "ACOMPTE", name: "Advance Payment",
           category: CONCEPT}) { id } }"""
    )
    data = sage.data(
        """query { products(where: { category: { eq: CONCEPT } }) {
          edges { node { id code name } } } }"""
    )
    assert [edge["node"]["code"] for edge in data["products"]["edges"]] == ["ACOMPTE"]
