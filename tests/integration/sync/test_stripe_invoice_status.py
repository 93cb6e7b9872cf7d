"""Stripe invoices voided or marked uncollectible, through the sync and the sandbox over
HTTP (real Redis): a full credit note once, nothing for an invoice never booked, an
attention item and an outbound event for an uncollectible one."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from bridge.outbound.delivery import Outbound
from tests.support.outbound import PUBLIC_DNS
from tests.support.pipeline import Pipeline, payload

pytestmark = pytest.mark.integration

D = Decimal
INVOICE = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"
REFERENCE = "stripe:default:in_1TDemoEndive0101"


def _as(topic: str, status: str, **values: Any) -> dict[str, Any]:
    """The recorded invoice event, as Stripe sends it when the invoice moves to `status`."""
    body = copy.deepcopy(payload("stripe", INVOICE))
    body.update(id=f"{body['id']}-{status}", type=topic)
    body["data"]["object"].update(status=status, **values)
    return body


def _credit_notes(pipeline: Pipeline) -> list[tuple[str, Decimal | None]]:
    return [
        (d.status, d.total_liquid) for d in pipeline.documents(REFERENCE) if d.type == "CREDIT_NOTE"
    ]


def test_a_booked_invoice_voided_gets_one_full_credit_note(pipeline: Pipeline) -> None:
    assert pipeline.deliver("stripe", "invoice.paid", payload("stripe", INVOICE)).status == (
        "processed"
    )
    voided = _as("invoice.voided", "void", amount_remaining=0)

    first = pipeline.deliver("stripe", "invoice.voided", voided)
    again = pipeline.deliver("stripe", "invoice.voided", {**voided, "id": "evt_again"})

    assert first.status == "processed", first.detail
    assert again.status == "processed", again.detail
    assert _credit_notes(pipeline) == [("Posted", D("-120.00"))]
    assert pipeline.services.attention.items() == []


def test_an_invoice_voided_before_it_was_booked_books_nothing(pipeline: Pipeline) -> None:
    voided = _as("invoice.voided", "void")

    result = pipeline.deliver("stripe", "invoice.voided", voided)
    late = pipeline.deliver("stripe", "invoice.finalized", payload("stripe", INVOICE))

    assert result.status == "ignored"
    assert "voided before it was booked" in (result.detail or "")
    assert late.status == "processed"
    assert "cancelled" in (late.detail or "")
    assert pipeline.documents(REFERENCE) == []


def test_an_uncollectible_invoice_is_an_attention_item_and_an_outbound_event(
    pipeline: Pipeline,
) -> None:
    subscriber = Outbound(pipeline.services.redis, pipeline.services.settings, resolver=PUBLIC_DNS)
    subscriber.create_subscription("https://hooks.example.com/in", ["invoice.uncollectible"])
    finalized = _as("invoice.finalized", "open", amount_paid=0, amount_remaining=12000)
    assert pipeline.deliver("stripe", "invoice.finalized", finalized).status == "processed"

    event = _as("invoice.marked_uncollectible", "uncollectible", amount_remaining=12000)
    result = pipeline.deliver("stripe", "invoice.marked_uncollectible", event)

    assert result.status == "processed", result.detail
    [item] = pipeline.services.attention.items()
    assert (item.kind, item.amount, item.order_reference) == (
        "invoice_uncollectible",
        D("120.00"),
        REFERENCE,
    )
    assert "decide the write-off" in item.reason
    [delivery] = pipeline.services.outbound.deliveries()
    body = json.loads(pipeline.services.outbound.event(delivery.event_id).body)
    assert body["type"] == "invoice.uncollectible"
    assert body["data"]["amount_due"] == "120.00"
    assert body["data"]["provider_invoice_id"] == "in_1TDemoEndive0101"
    assert body["data"]["invoice_id"] == pipeline.invoice(REFERENCE).id
    assert _credit_notes(pipeline) == []  # nothing booked: the accountant decides
