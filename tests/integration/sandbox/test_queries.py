"""Cursor pagination, `where` operators and `order` on the list queries."""

from __future__ import annotations

import pytest

from connectors.sage_active.sandbox.legislations import OSS_RATES
from tests.integration.sandbox.helpers import Sage, close, create

pytestmark = pytest.mark.integration

PRODUCTS = """query($first: Int, $after: String, $last: Int, $before: String) {
  products(first: $first, after: $after, last: $last, before: $before, order: [{code: ASC}]) {
    nodes { code } edges { cursor node { code } } totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
ALL_CODES = sorted(
    [
        "SHIPPING",
        "ROUNDING",
        "DUTIES",
        "FEES",
        "TIP",
        "GIFT-CARD",
        "GEN-20",
        "GEN-10",
        "GEN-5.5",
        "GEN-2.1",
        "GEN-0",
        "MUG-001",
        "TSHIRT-001",
        "BOOK-001",
        "TEA-001",
        "WINE-001",
        # the FR organisation's OSS products (one per destination and rate) and 0 % products
        *(f"OSS-{c}-{r}" for c, rates in OSS_RATES.items() if c != "FR" for r in rates),
        "INTRA-EU",
        "EXPORT",
    ]
)
PAGES = -(-len(ALL_CODES) // 5)


def _codes(sage: Sage, where: str, order: str = "[{code: ASC}]") -> list[str]:
    data = sage.data(f"{{ products(where: {where}, order: {order}) {{ nodes {{ code }} }} }}")
    return [node["code"] for node in data["products"]["nodes"]]


def test_forward_pagination_walks_every_record_once(sage: Sage) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = sage.data(PRODUCTS, {"first": 5, "after": after})["products"]
        seen += [node["code"] for node in page["nodes"]]
        assert [edge["node"]["code"] for edge in page["edges"]] == [
            n["code"] for n in page["nodes"]
        ]
        assert page["totalCount"] == len(ALL_CODES)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (seen, pages) == (ALL_CODES, PAGES)


def test_backward_pagination(sage: Sage) -> None:
    last = sage.data(PRODUCTS, {"last": 5})["products"]
    before = sage.data(PRODUCTS, {"last": 5, "before": last["pageInfo"]["startCursor"]})["products"]
    assert [n["code"] for n in last["nodes"]] == ALL_CODES[-5:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    assert last["pageInfo"]["hasNextPage"] is False
    assert [n["code"] for n in before["nodes"]] == ALL_CODES[-10:-5]


def test_default_page_is_20_and_max_is_500(sage: Sage) -> None:
    for _ in range(21):
        create(sage)
    default = sage.data("{ salesInvoices { totalCount nodes { id } pageInfo { hasNextPage } } }")
    fine = sage.data("{ salesInvoices(first: 500) { nodes { id } } }")
    too_many = sage.error("{ salesInvoices(first: 501) { nodes { id } } }")
    assert (len(default["salesInvoices"]["nodes"]), default["salesInvoices"]["totalCount"]) == (
        20,
        21,
    )
    assert default["salesInvoices"]["pageInfo"]["hasNextPage"] is True
    assert len(fine["salesInvoices"]["nodes"]) == 21
    assert too_many["extensions"]["code"] == "maxPaginationSizeExceeded"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('{code: {eq: "MUG-001"}}', ["MUG-001"]),
        (
            '{code: {neq: "MUG-001"}, name: {contains: "démo"}}',
            ["BOOK-001", "TEA-001", "TSHIRT-001", "WINE-001"],
        ),
        ('{code: {in: ["TEA-001", "BOOK-001", "NOPE"]}}', ["BOOK-001", "TEA-001"]),
        (
            '{code: {nin: ["TEA-001"]}, name: {contains: "démo"}}',
            ["BOOK-001", "MUG-001", "TSHIRT-001", "WINE-001"],
        ),
        ("{salesUnitPrice: {gt: 14}}", ["BOOK-001", "TSHIRT-001"]),
        ("{salesUnitPrice: {gte: 14, lt: 20}}", ["BOOK-001", "WINE-001"]),
        ("{salesUnitPrice: {lte: 8.4, gt: 0}}", ["TEA-001"]),
        ('{code: {startsWith: "gen-2"}}', ["GEN-2.1", "GEN-20"]),
        ('{code: {endsWith: "-001"}, and: [{code: {startsWith: "T"}}]}', ["TEA-001", "TSHIRT-001"]),
        ('{or: [{code: {eq: "ROUNDING"}}, {code: {eq: "SHIPPING"}}]}', ["ROUNDING", "SHIPPING"]),
        (
            "{and: [{salesVatPercentage: {eq: 5.5}}, {category: {neq: SERVICE}}]}",
            ["BOOK-001", "GEN-5.5", "TEA-001"],
        ),
    ],
)
def test_where_operators(sage: Sage, where: str, expected: list[str]) -> None:
    assert _codes(sage, where) == expected


def test_nested_object_and_list_filters(sage: Sage) -> None:
    mine = create(sage)
    sage.data("""mutation { createCustomer(input: {code: "OTHER", socialName: "Autre"}) { id } }""")
    invoices = sage.data(
        """{ byCustomer: salesInvoices(where: {customer: {code: {eq: "WALKIN"}}}) { nodes { id } }
             none: salesInvoices(where: {customer: {code: {eq: "OTHER"}}}) { totalCount }
             byLine: salesInvoices(where: {lines: {some: {productCode: {eq: "BOOK-001"}}}}) {
               totalCount }
             noLine: salesInvoices(where: {lines: {some: {productCode: {eq: "TEA-001"}}}}) {
               totalCount }
             lines: salesInvoiceLines(where: {salesInvoice: {status: {eq: "Pending"}},
                                              productCode: {eq: "MUG-001"}}) { totalCount } }"""
    )
    assert invoices["byCustomer"]["nodes"] == [{"id": mine}]
    assert (invoices["none"]["totalCount"], invoices["byLine"]["totalCount"]) == (0, 1)
    assert (invoices["noLine"]["totalCount"], invoices["lines"]["totalCount"]) == (0, 1)


def test_order_desc_and_by_several_keys(sage: Sage) -> None:
    assert _codes(sage, '{code: {startsWith: "GEN"}}', "[{salesVatPercentage: DESC}]") == [
        "GEN-20",
        "GEN-10",
        "GEN-5.5",
        "GEN-2.1",
        "GEN-0",
    ]
    assert _codes(
        sage,
        '{category: {eq: PRODUCT}, code: {endsWith: "001"}}',
        "[{salesVatPercentage: ASC}, {code: DESC}]",
    ) == ["TEA-001", "BOOK-001", "WINE-001", "TSHIRT-001", "MUG-001"]


def test_order_by_nested_field_and_status_filter(sage: Sage) -> None:
    first, second = create(sage), create(sage)
    close(sage, second)
    closed = sage.data(
        '{ salesInvoices(where: {status: {in: ["Closed", "Posted"]}}) { nodes { id } } }'
    )
    ordered = sage.data(
        "{ salesInvoices(order: [{operationalNumber: DESC}, {customer: {code: ASC}}])"
        " { nodes { id } } }"
    )
    assert closed["salesInvoices"]["nodes"] == [{"id": second}]
    assert [n["id"] for n in ordered["salesInvoices"]["nodes"]] == [second, first]


def test_reference_lists_are_seeded(sage: Sage) -> None:
    data = sage.data(
        """{ journalTypes(order: [{code: DESC}]) { nodes { code name type } }
             paymentMethods(order: [{referenceName: ASC}]) {
               nodes { referenceName journalType { code } } }
             taxes(where: {taxType: {neq: "FOREIGN"}}, order: [{percentage: DESC}]) {
               nodes { percentage group { name } } }
             oss: taxes(where: {taxType: {eq: "FOREIGN"}}) { nodes { name percentage } }
             customers { nodes { code socialName } } }"""
    )
    assert data["journalTypes"]["nodes"] == [
        {"code": "VT", "name": "Ventes", "type": "SALES_INVOICE"},
        {"code": "HA", "name": "Achats", "type": "PURCHASE_INVOICE"},
        {"code": "BQ", "name": "Banque", "type": "FINANCIAL"},
    ]
    assert [m["referenceName"] for m in data["paymentMethods"]["nodes"]] == [
        "Bank transfer",
        "Gift cards",
        "PayPal",
        "Shopify Payments",
        "Stripe",
        "Stripe customer balance",
    ]
    assert {m["journalType"]["code"] for m in data["paymentMethods"]["nodes"]} == {"BQ"}
    assert [t["percentage"] for t in data["taxes"]["nodes"]] == [20, 10, 5.5, 2.1, 0]
    # and the other EU countries' rates, for distance sales under the OSS
    assert {"name": "DE 19 % (OSS)", "percentage": 19} in data["oss"]["nodes"]
    assert data["customers"]["nodes"] == [{"code": "WALKIN", "socialName": "Clients comptoir"}]


def test_a_filter_on_one_id_reads_that_record_and_still_applies_the_rest(sage: Sage) -> None:
    # given two invoices, one of them closed
    first, second = create(sage), create(sage)
    close(sage, second)
    query = """query($id: UUID, $status: [String]) { salesInvoices(where:
        { id: { eq: $id }, status: { in: $status } }) { nodes { id status } totalCount } }"""

    def found(invoice_id: str, statuses: list[str]) -> list[str]:
        nodes = sage.data(query, {"id": invoice_id, "status": statuses})["salesInvoices"]["nodes"]
        return [node["id"] for node in nodes]

    # then the id picks its invoice alone, the other conditions still filter it
    assert found(first, ["Pending"]) == [first]
    assert found(second, ["Pending"]) == []
    assert found(second, ["Pending", "Closed"]) == [second]
    # and an id nothing has finds nothing
    assert found("00000000-0000-4000-8000-000000000000", ["Pending"]) == []
