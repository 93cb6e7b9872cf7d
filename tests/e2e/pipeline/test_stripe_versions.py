"""Stripe Billing through the real ingress, a real Celery worker and the sandbox over HTTP,
with events in the shapes of API version `2026-10-28.endive` and of `2024-06-20` (one
account may send both: each webhook endpoint keeps the version it was created with)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.support.pipeline import payload
from tests.support.rig import ADMIN_TOKEN, Rig
from tests.support.webhooks import stripe_headers

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Version:
    """One API version's recorded events for one invoice, and what Sage must show."""

    name: str
    invoice: str  # invoice.paid fixture
    payment_topic: str
    payment: str  # its payment's fixture
    total: Decimal
    vat: Decimal

    @property
    def reference(self) -> str:
        return f"stripe:default:{self.obj(self.invoice, 'invoice.paid')['id']}"

    def obj(self, name: str, topic: str) -> dict[str, Any]:
        body = payload("stripe", name)
        assert body["type"] == topic
        assert body["api_version"] == self.name
        return body["data"]["object"]  # type: ignore[no-any-return]

    def payments(self, *amounts: int) -> list[tuple[dict[str, Any], str]]:
        """Events paying the invoice in parts of `amounts` (minor units), with their keys."""
        found = []
        for n, amount in enumerate(amounts):
            body = copy.deepcopy(payload("stripe", self.payment))
            body["id"] = f"{body['id']}p{n}"
            obj = body["data"]["object"]
            key = f"pi_3TDemoPart{n}{self.name[:4]}"
            if self.payment_topic == "invoice_payment.paid":
                obj.update(id=f"inpay_part{n}", amount_paid=amount, amount_requested=amount)
                obj["payment"] = {"type": "payment_intent", "payment_intent": key}
            else:
                obj.update(id=f"ch_part{n}", amount=amount, amount_captured=amount)
                obj["payment_intent"] = key
            found.append((body, key))
        return found


ENDIVE = Version(
    "2026-10-28.endive",
    "invoice-paid-101-endive-one-line-20-vat-rate-id-only",
    "invoice_payment.paid",
    "invoice-payment-paid-101-endive-payment-intent",
    Decimal("120.00"),
    Decimal("20.00"),
)
OLD = Version(
    "2024-06-20",
    "invoice-paid-001-several-lines-exclusive-tax",
    "charge.succeeded",
    "charge-succeeded-002-invoice-payment",
    Decimal("282.00"),
    Decimal("47.00"),
)
VERSIONS = pytest.mark.parametrize("version", [ENDIVE, OLD], ids=lambda v: v.name)


def send(rig: Rig, body: dict[str, Any]) -> str:
    """POST a signed Stripe event to the ingress; returns its ref."""
    raw = json.dumps(body).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json is not None
    assert response.json["status"] == "queued"
    return f"stripe:{body['id']}"


def entries(rig: Rig, key: str) -> int:
    return len(rig.services.sage.accounting_entries_by_document_number(key))


@VERSIONS
def test_invoice_posted_with_its_vat_then_collected(rig: Rig, version: Version) -> None:
    rig.worker()
    send(rig, payload("stripe", version.invoice))
    posted = rig.wait_status(version.reference, "Posted")
    assert (posted.total_liquid, posted.total_vat) == (version.total, version.vat)

    send(rig, payload("stripe", version.payment))

    rig.wait_status(version.reference, "Collected")
    intent = "pi_3TDemoEndive0101" if version is ENDIVE else "pi_3QmG1aBDemoPI0001"
    assert entries(rig, intent) == 1
    if version is ENDIVE:
        # its charge names no invoice: recognised as the same money, not a second settlement
        charge = send(
            rig, payload("stripe", "charge-succeeded-101-endive-no-invoice-linked-by-caller")
        )
        rig.wait_for(lambda: rig.event_status(charge) == "processed", what="the charge")
        assert entries(rig, intent) == 1


@VERSIONS
def test_payment_before_its_invoice_ends_collected(rig: Rig, version: Version) -> None:
    rig.worker()
    paid = send(rig, payload("stripe", version.payment))
    rig.wait_for(lambda: rig.event_status(paid) == "parked", what="the payment parked")

    send(rig, payload("stripe", version.invoice))

    invoice = rig.wait_status(version.reference, "Collected")
    assert (invoice.total_liquid, invoice.total_vat) == (version.total, version.vat)
    rig.wait_for(lambda: rig.event_status(paid) == "processed", what="the payment processed")


@VERSIONS
def test_two_partial_payments_are_two_settlements(rig: Rig, version: Version) -> None:
    rig.worker()
    send(rig, payload("stripe", version.invoice))
    rig.wait_status(version.reference, "Posted")
    cents = int(version.total * 100)
    (first, first_key), (second, second_key) = version.payments(cents - 3000, 3000)

    send(rig, first)
    partial = rig.wait_status(version.reference, "PartiallyCollected")
    assert sum(i.outstanding for i in partial.open_items) == Decimal("30.00")
    send(rig, second)

    rig.wait_status(version.reference, "Collected")
    assert (entries(rig, first_key), entries(rig, second_key)) == (1, 1)


def test_unrelated_payments_are_ignored_and_listed_not_failed(
    rig: Rig, start_beat: Callable[..., None]
) -> None:
    # parked once (its invoice payment might be coming), then ignored when the sweep
    # (beat, every 15 s) brings it back
    env = {**rig.worker_env, "BRIDGE_STRIPE_UNLINKED_PARKS": "1"}
    start_beat(**env)
    rig.start_worker(pool="threads", concurrency=2, **env)
    endive = payload("stripe", "payment-intent-succeeded-101-endive-unlinked")
    old = copy.deepcopy(payload("stripe", OLD.payment))
    old["id"] = "evt_3QmOtherProduct01"
    old["data"]["object"].update(id="ch_3QmOtherProduct01", invoice=None, payment_intent=None)
    refs = [send(rig, endive), send(rig, old)]

    rig.wait_for(
        lambda: all(rig.event_status(r) == "ignored" for r in refs),
        timeout=120,
        what="both payments ignored",
    )
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    listed = rig.client.get("/admin/attention?kind=unlinked_payment", headers=auth).json
    assert listed is not None
    assert sorted(i["source"] for i in listed["items"]) == [
        "ch_3QmOtherProduct01",
        "pi_3TDemoEndive0901",
    ]
    for ref in refs:
        record = rig.services.events.get(ref)
        assert record is not None
        assert [a.outcome for a in record.attempts] == ["parked", "ignored"]
        assert "belongs to nothing the bridge books" in (record.error or "")
    metrics = rig.client.get("/metrics").get_data(as_text=True)
    assert 'bridge_unlinked_payments_total{provider="stripe"} 2' in metrics
