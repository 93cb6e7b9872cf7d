"""The /_sandbox control surface: reset, bulk seed, faults, statistics, settle by hand."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.integration.sandbox.helpers import (
    CREATE,
    Sage,
    create,
    invoice,
    invoice_values,
    posted_invoice,
)

pytestmark = pytest.mark.integration

COUNT = "{ salesInvoices { totalCount } }"


def test_reset_empties_the_books_and_keeps_seed_ids(http: httpx.Client, sage: Sage) -> None:
    create(sage)
    products = sage.data("{ products { nodes { id code } } }")
    assert http.post("/_sandbox/reset").status_code == 200
    assert sage.data(COUNT)["salesInvoices"]["totalCount"] == 0
    assert sage.data("{ products { nodes { id code } } }") == products


def test_bulk_seed_builds_invoices_in_the_requested_status(http: httpx.Client, sage: Sage) -> None:
    response = http.post("/_sandbox/seed", json={"invoices": 30, "status": "Posted"})
    data = sage.data(
        '{ salesInvoices(where: {status: {eq: "Posted"}}) { totalCount }'
        " salesInvoiceOpenItems { totalCount } }"
    )
    assert response.json()["created"] == 30
    assert data == {
        "salesInvoices": {"totalCount": 30},
        "salesInvoiceOpenItems": {"totalCount": 30},
    }
    assert (
        http.post("/_sandbox/seed", json={"invoices": 1, "status": "Collected"}).status_code == 400
    )
    assert http.post("/_sandbox/seed", json={"invoices": -1}).status_code == 400


def test_stats_count_requests_by_root_field_and_status(http: httpx.Client, sage: Sage) -> None:
    sage.data("{ a: products { totalCount } b: products { totalCount } taxes { totalCount } }")
    sage.call("{ nope }")
    Sage(http, {}).call(COUNT)
    stats = http.get("/_sandbox/stats").json()
    assert stats == {
        "requests": 3,
        "by_operation": {"products": 2, "taxes": 1},
        "by_status": {"200": 1, "400": 1, "401": 1},
        "in_flight": {},
        "requests_in_flight": 0,
    }
    http.delete("/_sandbox/stats")
    assert http.get("/_sandbox/stats").json()["requests"] == 0


def test_stats_show_the_requests_in_flight(http: httpx.Client, sage: Sage) -> None:
    http.post("/_sandbox/faults", json={"latency_ms": 1500, "operations": ["taxes"]})
    slow = threading.Thread(target=sage.data, args=("{ taxes { totalCount } }",))
    slow.start()
    deadline = time.monotonic() + 5
    while http.get("/_sandbox/stats").json()["in_flight"] != {"taxes": 1}:
        assert time.monotonic() < deadline, "the slow request never showed as in flight"
        time.sleep(0.02)
    assert http.get("/_sandbox/stats").json()["requests_in_flight"] == 1
    slow.join(10)
    http.delete("/_sandbox/faults")
    stats = http.get("/_sandbox/stats").json()
    assert (stats["in_flight"], stats["requests_in_flight"]) == ({}, 0)


def test_injected_errors_limited_by_operation_and_count(http: httpx.Client, sage: Sage) -> None:
    http.post(
        "/_sandbox/faults",
        json={
            "error_rate": 1.0,
            "error_status": 503,
            "error_count": 2,
            "operations": ["createSalesInvoice"],
        },
    )
    other = sage.call(COUNT)
    statuses = [sage.call(CREATE, {"values": invoice_values()}).status_code for _ in range(3)]
    assert other.status_code == 200
    assert statuses == [503, 503, 200]
    assert sage.data(COUNT)["salesInvoices"]["totalCount"] == 1  # the failed ones did nothing


def test_rate_limit_burst_then_normal(http: httpx.Client, sage: Sage) -> None:
    http.post("/_sandbox/faults", json={"rate_limit_burst": 2, "retry_after": 7})
    answers = [sage.call(COUNT) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"


def test_latency_is_added(http: httpx.Client, sage: Sage) -> None:
    http.post("/_sandbox/faults", json={"latency_ms": 300})
    started = time.monotonic()
    sage.data(COUNT)
    assert time.monotonic() - started >= 0.3
    http.delete("/_sandbox/faults")
    started = time.monotonic()
    sage.data(COUNT)
    assert time.monotonic() - started < 0.3


def test_hang_outlasts_the_client_timeout_and_does_nothing(http: httpx.Client, sage: Sage) -> None:
    http.post("/_sandbox/faults", json={"hang_seconds": 2, "hang_count": 1})
    with pytest.raises(httpx.ReadTimeout):
        sage.http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"values": invoice_values()}},
            headers=sage.headers,
            timeout=0.3,
        )
    http.delete("/_sandbox/faults")  # also releases the hanging request
    assert sage.data(COUNT)["salesInvoices"]["totalCount"] == 0


def test_commit_then_drop_answers_502_after_committing(http: httpx.Client, sage: Sage) -> None:
    http.post(
        "/_sandbox/faults",
        json={"drop_after_commit": {"operations": ["createSalesInvoice"], "count": 1}},
    )
    lost = sage.call(CREATE, {"values": invoice_values(salesOrderNumber="shopify:demo:1")})
    kept = sage.call(CREATE, {"values": invoice_values(salesOrderNumber="shopify:demo:2")})
    found = sage.data(
        "{ salesInvoices(order: [{salesOrderNumber: ASC}]) { nodes { salesOrderNumber } } }"
    )
    assert (lost.status_code, lost.content) == (502, b"")
    assert kept.status_code == 200
    assert found["salesInvoices"]["nodes"] == [
        {"salesOrderNumber": "shopify:demo:1"},
        {"salesOrderNumber": "shopify:demo:2"},
    ]


def test_bad_fault_body_is_400(http: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"error_rate": 2}).status_code == 400
    assert http.post("/_sandbox/faults", json={"surprise": 1}).status_code == 400
    assert http.post("/_sandbox/faults", content=b"{oops").status_code == 400


def test_settle_by_hand_as_a_person_in_the_ui(http: httpx.Client, sage: Sage) -> None:
    posted = posted_invoice(sage)
    part = http.post(
        f"/_sandbox/invoices/{posted['id']}/settle",
        json={"amount": "74.70", "paymentMethod": "Bank transfer", "documentNumber": "VIR-1"},
    )
    middle = invoice(sage, posted["id"])
    rest = http.post(f"/_sandbox/invoices/{posted['id']}/settle", json={})
    done = invoice(sage, posted["id"])
    too_much = http.post(f"/_sandbox/invoices/{posted['id']}/settle", json={"amount": "0.01"})
    assert part.status_code == 200
    assert "accountingEntryId" in part.json()
    assert (middle["status"], middle["openItems"][0]["paidAmountAccumulated"]) == (
        "PartiallyCollected",
        74.7,
    )
    assert rest.status_code == 200
    assert done["status"] == "Collected"
    assert too_much.status_code == 422
    assert too_much.json()["error"] == "global.businessErrors.paidAmountExceedsRemaining"


def test_settle_by_hand_refuses_unposted_and_unknown(http: httpx.Client, sage: Sage) -> None:
    pending = create(sage)
    assert http.post(f"/_sandbox/invoices/{pending}/settle", json={}).status_code == 422
    assert http.post("/_sandbox/invoices/not-a-uuid/settle", json={}).status_code == 422
    posted = posted_invoice(sage)
    unknown = http.post(f"/_sandbox/invoices/{posted['id']}/settle", json={"paymentMethod": "Cash"})
    assert unknown.json()["error"] == "global.businessErrors.paymentMethodNotFound"
    assert invoice(sage, posted["id"])["status"] == "Posted"


def test_poller_query_on_100k_invoices_answers_just_the_changes(
    http: httpx.Client, sage: Sage
) -> None:
    # Given 100,000 posted invoices and a watermark near the end (how fast: bench/poller.py)
    assert (
        http.post(
            "/_sandbox/seed", json={"invoices": 100_000, "status": "Posted"}, timeout=60
        ).status_code
        == 200
    )
    page = sage.data(
        "{ salesInvoices(first: 1, order: [{modificationDate: DESC}])"
        " { nodes { modificationDate } } }"
    )
    since = page["salesInvoices"]["nodes"][0]["modificationDate"]
    create(sage)
    # When the poller asks what changed since then
    data = sage.data(
        """query($since: DateTime!) { salesInvoices(where: {modificationDate: {gte: $since}},
           order: [{modificationDate: ASC}], first: 500) {
             totalCount nodes { id status modificationDate } } }""",
        {"since": since},
    )
    # Then it answers with just those
    assert data["salesInvoices"]["totalCount"] == 2
    assert [n["modificationDate"] >= since for n in data["salesInvoices"]["nodes"]] == [True] * 2
