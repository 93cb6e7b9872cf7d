"""French e-invoicing through the sync steps and the poller, in-process (`run_event`,
`poll_once`), against the sandbox over HTTP and the real Redis; and `bridge einvoice retry`."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.poller.cycle import poll_once
from connectors.sage_active.models import SalesInvoice
from connectors.sage_active.sandbox import seed_id
from tests.support.pipeline import SHOP, Pipeline, payload

DUPONT = f"shopify:{SHOP}:5910000050503"
ORDER = "orders-create-050-ht-fr-b2b-einvoice-dupont-conseil"
FIELDS = (
    "shouldSendViaElectronicInvoicing eInvoicingAddressTypeCustomer eInvoicingAddressCustomer "
    "regulatoryBillingFramework eInvoicingStatus type status"
)


def _service_product(pipeline: Pipeline) -> None:
    pipeline.services.sage.client.execute(
        "mutation ($v: ProductCreateGLDtoInput!) { createProduct(input: $v) { id } }",
        {"v": {"code": "CONSEIL-JOUR", "name": "Journée de conseil", "category": "SERVICE",
               "taxGroupId": str(seed_id("taxGroup", "20"))}},
        mutation=True,
        name="createProduct",
    )  # fmt: skip


def _fields(pipeline: Pipeline, document_id: str) -> dict[str, Any]:
    data = pipeline.services.sage.client.execute(
        "query ($id: UUID) { salesInvoices(where: { id: { eq: $id } }) { nodes { "
        + FIELDS
        + " } } }",
        {"id": document_id},
        name="salesInvoices",
    )
    found: dict[str, Any] = data["salesInvoices"]["nodes"][0]
    return found


def _wait_einvoice(pipeline: Pipeline, status: str) -> SalesInvoice:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        invoice = pipeline.invoice(DUPONT)
        if invoice.e_invoicing_status == status:
            return invoice
        time.sleep(0.05)
    raise AssertionError(f"the invoice never reached {status}")


def test_the_credit_note_of_an_einvoice_is_sent_with_the_same_fields(pipeline: Pipeline) -> None:
    # given Dupont's invoice, sent electronically
    _service_product(pipeline)
    order = payload("shopify", ORDER)
    assert pipeline.deliver("shopify", "orders/create", order).status == "processed"
    link = pipeline.services.links.order(DUPONT)
    assert link is not None
    assert link.einvoice is not None
    assert (link.einvoice.address, link.einvoice.framework) == ("123456782", "S1")

    # when the order is cancelled (a full credit note)
    cancelled = copy.deepcopy(order)
    cancelled.update(
        cancelled_at="2026-04-05T09:00:00+02:00",
        cancel_reason="customer",
        financial_status="voided",
    )
    result = pipeline.deliver("shopify", "orders/cancelled", cancelled)
    assert result.status == "processed", result.detail

    # then the posted credit note carries the routing and the framework, and is submitted
    [note] = [d for d in pipeline.documents(DUPONT) if d.type == "CREDIT_NOTE"]
    fields = _fields(pipeline, note.id)
    assert fields["status"] == "Posted"
    assert fields["shouldSendViaElectronicInvoicing"] is True
    assert fields["eInvoicingAddressCustomer"] == "123456782"
    assert fields["regulatoryBillingFramework"] == "S1"
    assert fields["eInvoicingStatus"] is not None


def test_bridge_einvoice_retry_resubmits_a_rejected_invoice_once(
    pipeline: Pipeline, redis_url: str, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rejected e-invoice the poller has seen
    http = pipeline.control.http
    http.post("/_sandbox/einvoicing", json={"stepSeconds": 0.05, "next": "REJECTED"})
    _service_product(pipeline)
    assert pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER)).status == (
        "processed"
    )
    rejected = _wait_einvoice(pipeline, "REJECTED")
    services = pipeline.services
    poll_once(services, services.sage)
    [item] = services.attention.items(kind="einvoice")
    assert item.source == rejected.id

    # when a person runs `bridge einvoice retry <order>`
    for name, value in {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "BRIDGE_CONNECTION": services.settings.connection,
    }.items():
        monkeypatch.setenv(name, value)
    pipeline.control.reset_stats()
    result = CliRunner().invoke(main, ["einvoice", "retry", DUPONT])

    # then Sage got one retry, the item is resolved, and the new submission goes through
    assert result.exit_code == 0, result.output
    assert "submitted again (was REJECTED)" in result.output
    assert pipeline.control.stats()["by_operation"]["retrySalesInvoiceElectronicSubmission"] == 1
    assert services.attention.items(kind="einvoice") == []
    approved = _wait_einvoice(pipeline, "APPROVED")
    assert [e.status for e in approved.e_invoice] == ["REJECTED", "APPROVED"]
    # and an unknown order is a clear error, nothing sent
    unknown = CliRunner().invoke(main, ["einvoice", "retry", "shopify:x:1"])
    assert unknown.exit_code == 1
    assert "no order or followed Sage document" in unknown.output
