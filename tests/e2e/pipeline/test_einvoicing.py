"""French e-invoicing end to end: signed Shopify webhooks into the ingress, a real worker and
beat (the poller), the sandbox's simulated e-invoicing platform, a subscriber over HTTP."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from bridge.einvoice.lifecycle import ATTENTION_KIND
from bridge.ops.doctor import Level, diagnose
from bridge.outbound.delivery import Outbound
from connectors.sage_active.sandbox import seed_id
from tests.support.pipeline import SHOP, payload
from tests.support.rig import ADMIN_TOKEN, Rig
from tests.support.servers import serve_wsgi

DUPONT = f"shopify:{SHOP}:5910000050503"
DUPONT_ORDER = "orders-create-050-ht-fr-b2b-einvoice-dupont-conseil"
CONSUMER = f"shopify:{SHOP}:5910000001013"
CONSUMER_ORDER = "orders-create-001-ttc-single-mug"
TX = "order-transactions-create-001-sale-shopify-payments"
HAPPY = ["SUBMITTED", "ISSUE_BY_THE_PLATFORM", "MADE_AVAILABLE", "APPROVED", "PAYMENT_RECEIVED"]
TYPES = [
    "invoice.posted",
    "invoice.einvoice_status_changed",
    "payment.settled",
    "invoice.collected",
]
EINVOICE_FIELDS = (
    "shouldSendViaElectronicInvoicing eInvoicingAddressTypeCustomer eInvoicingAddressCustomer "
    "regulatoryBillingFramework eInvoicingStatus eInvoice { status rejectedReason } "
    "customer { customerType eInvoicingAddressType eInvoicingAddress }"
)


class Subscriber:
    """Records every delivery (type and data), in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = json.loads(Request(environ).get_data())
        with self.lock:
            self.received.append((body["type"], body["data"]))
        return Response(status=204)(environ, start_response)

    def of(self, kind: str, invoice_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                data
                for k, data in self.received
                if k == kind and (invoice_id is None or data.get("invoice_id") == invoice_id)
            ]

    def einvoice_statuses(self, invoice_id: str) -> list[str]:
        return [d["status"] for d in self.of("invoice.einvoice_status_changed", invoice_id)]


@pytest.fixture
def subscriber() -> Iterator[tuple[Subscriber, str]]:
    sub = Subscriber()
    with serve_wsgi(sub) as url:
        yield sub, url


def _service_product(rig: Rig) -> None:
    """The merchant's consulting day in its Sage catalogue: a SERVICE at 20 %."""
    rig.services.sage.client.execute(
        "mutation ($v: ProductCreateGLDtoInput!) { createProduct(input: $v) { id } }",
        {"v": {"code": "CONSEIL-JOUR", "name": "Journée de conseil", "category": "SERVICE",
               "taxGroupId": str(seed_id("taxGroup", "20")), "salesUnitPrice": 650}},
        mutation=True,
        name="createProduct",
    )  # fmt: skip


def _start(rig: Rig, start_beat: Callable[..., None], url: str | None = None) -> None:
    _service_product(rig)
    env = {**rig.worker_env, "BRIDGE_OUTBOUND_ALLOW_PRIVATE": "true", "BRIDGE_POLL_INTERVAL": "1"}
    if url is not None:
        settings = rig.services.settings.model_copy(update={"outbound_allow_private": True})
        Outbound(rig.services.redis, settings).create_subscription(f"{url}/hooks", TYPES)
    rig.start_worker(pool="threads", concurrency=4, **env)
    start_beat(**env)


def _sage_invoice(rig: Rig, reference: str) -> dict[str, Any]:
    """The order's invoice as Sage has it, with its e-invoicing fields."""
    link = rig.services.links.order(reference)
    assert link is not None
    assert link.invoice_id is not None
    data = rig.services.sage.client.execute(
        "query ($id: UUID) { salesInvoices(where: { id: { eq: $id } }) { nodes { "
        + EINVOICE_FIELDS
        + " } } }",
        {"id": link.invoice_id},
        name="salesInvoices",
    )
    [node] = data["salesInvoices"]["nodes"]
    result: dict[str, Any] = node
    return result


def _payment(order_id: int, amount: str) -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", TX))
    body.update(id=950001, order_id=order_id, amount=amount)
    body.pop("amount_set", None)
    return body


def _admin(rig: Rig, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return rig.client.open(path, method=method, json=body, headers=headers)


def test_dupont_conseil_is_sent_electronically_and_its_lifecycle_arrives_in_order(
    rig: Rig, start_beat: Callable[..., None], subscriber: tuple[Subscriber, str]
) -> None:
    # given the seeded French organisation, registered (Accepted), on a fast platform clock
    sub, url = subscriber
    assert rig.control.einvoicing(stepSeconds=1.0)["status"] == "Accepted"
    _start(rig, start_beat, url)

    # when a French company with its SIRET and a consumer order, in the same run
    rig.send("orders/create", payload("shopify", DUPONT_ORDER))
    rig.send("orders/create", payload("shopify", CONSUMER_ORDER))
    rig.wait_status(DUPONT, "Posted")
    rig.wait_status(CONSUMER, "Posted")

    # then Dupont's invoice is marked for the platform, routed to its SIREN, services (S1)
    dupont = _sage_invoice(rig, DUPONT)
    assert dupont["shouldSendViaElectronicInvoicing"] is True
    assert dupont["eInvoicingAddressTypeCustomer"] == "fr.siren"
    assert dupont["eInvoicingAddressCustomer"] == "123456782"
    assert dupont["regulatoryBillingFramework"] == "S1"
    assert dupont["customer"] == {
        "customerType": "BUSINESS",
        "eInvoicingAddressType": "fr.siren",
        "eInvoicingAddress": "123456782",
    }
    # and the consumer's is not sent (e-reporting counts it in Sage)
    consumer = _sage_invoice(rig, CONSUMER)
    assert consumer["shouldSendViaElectronicInvoicing"] is False
    assert consumer["eInvoicingAddressCustomer"] is None
    assert consumer["regulatoryBillingFramework"] is None
    assert consumer["eInvoice"] == []
    assert consumer["customer"]["customerType"] == "INDIVIDUAL"

    # when the platform approves it and the customer pays
    link = rig.services.links.order(DUPONT)
    assert link is not None
    assert link.invoice_id is not None
    invoice_id = link.invoice_id
    rig.wait_for(
        lambda: "APPROVED" in sub.einvoice_statuses(invoice_id), timeout=60, what="APPROVED"
    )
    rig.send("order_transactions/create", _payment(5910000050503, "1560.00"))
    rig.wait_for(
        lambda: "PAYMENT_RECEIVED" in sub.einvoice_statuses(invoice_id),
        timeout=60,
        what="PAYMENT_RECEIVED",
    )

    # then the statuses arrived in the platform's order, after invoice.posted, each once
    seen = sub.einvoice_statuses(invoice_id)
    assert seen == [s for s in HAPPY if s in seen]
    assert "APPROVED" in seen  # a poll may see two steps at once: some can be skipped
    with sub.lock:
        kinds = [k for k, d in sub.received if d.get("invoice_id") == invoice_id]
    assert kinds.index("invoice.posted") < kinds.index("invoice.einvoice_status_changed")
    # and invoice.collected carries the e-invoicing status beside it
    [collected] = sub.of("invoice.collected", invoice_id)
    assert collected["einvoicing_status"] in ("APPROVED", "PAYMENT_RECEIVED")
    # and nothing of the consumer's invoice went to the platform
    consumer_link = rig.services.links.order(CONSUMER)
    assert consumer_link is not None
    assert consumer_link.invoice_id is not None
    assert sub.einvoice_statuses(consumer_link.invoice_id) == []

    # and the order's page shows it
    page = _admin(rig, "GET", f"/admin/orders/{DUPONT}").get_json()
    assert page["einvoicing"]["sent"] is True
    assert page["einvoicing"]["regulatory_billing_framework"] == "S1"
    assert page["einvoicing"]["status"] == "PAYMENT_RECEIVED"
    assert [h["status"] for h in page["einvoicing"]["history"]] == seen
    assert _admin(rig, "GET", f"/admin/orders/{CONSUMER}").get_json()["einvoicing"] is None


def test_a_rejected_einvoice_opens_attention_and_a_retry_resubmits_it_once(
    rig: Rig, start_beat: Callable[..., None], subscriber: tuple[Subscriber, str]
) -> None:
    # given the platform will reject the next submission
    sub, url = subscriber
    reason = "SIREN 123456782 absent de l'annuaire"
    rig.control.einvoicing(stepSeconds=0.3, next="REJECTED", reason=reason)
    _start(rig, start_beat, url)

    # when Dupont's order is booked
    rig.send("orders/create", payload("shopify", DUPONT_ORDER))
    rig.wait_status(DUPONT, "Posted")
    link = rig.services.links.order(DUPONT)
    assert link is not None
    assert link.invoice_id is not None
    invoice_id = link.invoice_id

    # then the rejection arrives with its reason and opens an attention item
    rig.wait_for(
        lambda: "REJECTED" in sub.einvoice_statuses(invoice_id), timeout=60, what="REJECTED"
    )
    [rejected] = [
        d
        for d in sub.of("invoice.einvoice_status_changed", invoice_id)
        if d["status"] == "REJECTED"
    ]
    assert rejected["reason"] == reason
    assert rejected["needs_attention"] is True
    [item] = rig.services.attention.items(kind=ATTENTION_KIND)
    assert item.order_reference == DUPONT
    assert reason in item.reason
    page = _admin(rig, "GET", f"/admin/orders/{DUPONT}").get_json()
    assert page["einvoicing"]["status"] == "REJECTED"
    assert page["einvoicing"]["needs_attention"] is True

    # when a person retries it through the admin API
    rig.control.reset_stats()
    answer = _admin(rig, "POST", "/admin/einvoice/retry", {"ref": DUPONT})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["previous_status"] == "REJECTED"

    # then Sage got exactly one retry, the item is resolved, and the new submission goes on
    stats = rig.control.stats()
    assert stats["by_operation"]["retrySalesInvoiceElectronicSubmission"] == 1
    assert rig.services.attention.items(kind=ATTENTION_KIND) == []
    rig.wait_for(
        lambda: "APPROVED" in sub.einvoice_statuses(invoice_id), timeout=60, what="APPROVED"
    )
    second = [
        d["submission"]
        for d in sub.of("invoice.einvoice_status_changed", invoice_id)
        if d["status"] == "APPROVED"
    ]
    assert second == [2]
    # and a retry of an approved invoice is refused by Sage, with its reason
    refused = _admin(rig, "POST", "/admin/einvoice/retry", {"ref": DUPONT})
    assert refused.status_code == 409
    assert "eInvoiceSubmissionNotRetryable" in refused.get_json()["detail"]


def test_an_organisation_not_registered_books_b2b_as_today_and_the_doctor_says_why(
    rig: Rig,
) -> None:
    # given the organisation's registration with the platform is still in progress
    rig.control.einvoicing(status="InProgress")

    # then the doctor names why nothing will be sent electronically
    report = diagnose(rig.services)
    [finding] = [f for f in report.findings if f.check == "E-invoicing"]
    assert finding.level is Level.WARNING
    assert "InProgress" in finding.detail
    assert "booked as today" in finding.detail

    # when Dupont's order is booked
    _service_product(rig)
    rig.worker()
    rig.send("orders/create", payload("shopify", DUPONT_ORDER))
    rig.wait_status(DUPONT, "Posted")

    # then its invoice is booked as before: a business customer, no e-invoicing fields
    dupont = _sage_invoice(rig, DUPONT)
    assert dupont["shouldSendViaElectronicInvoicing"] is False
    assert dupont["eInvoicingAddressCustomer"] is None
    assert dupont["regulatoryBillingFramework"] is None
    assert dupont["customer"]["customerType"] == "BUSINESS"
    assert dupont["eInvoice"] == []


def test_a_pending_organisation_is_refused_by_name_and_works_again_once_ready(
    rig: Rig,
) -> None:
    from tasks.doctor import check_and_store

    # given the only organisation is still being provisioned
    rig.control.organization(status="PENDING", onboardingCompleted=False)

    # then the doctor refuses it, naming it, and holds processing
    report = check_and_store(rig.services)
    [finding] = [f for f in report.findings if f.check == "Organisation"]
    assert finding.level is Level.ERROR
    assert finding.holds
    assert "Boutique Démo SAS" in finding.detail
    assert "PENDING" in finding.detail
    assert "onboarding is not completed" in finding.detail

    # when an order arrives meanwhile, it waits
    ref = rig.send("orders/create", payload("shopify", CONSUMER_ORDER))
    rig.worker()
    assert rig.event_status(ref) in ("queued", "received")

    # and once the organisation is READY, the next check lifts the hold and it is booked
    rig.control.organization(status="READY", onboardingCompleted=True)
    after = check_and_store(rig.services)
    assert not after.holding
    rig.wait_status(CONSUMER, "Posted")
