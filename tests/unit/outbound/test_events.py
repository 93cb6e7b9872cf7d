from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bridge.outbound.events import (
    ConnectionAuthFailedData,
    EInvoiceStatusData,
    EventType,
    InvoiceEventData,
    InvoiceUncollectibleData,
    PaymentSettledData,
    SyncFailedData,
    payload_model,
    validate_data,
)


def test_the_catalogue_has_the_ten_types() -> None:
    assert [t.value for t in EventType] == [
        "invoice.created",
        "invoice.posted",
        "invoice.partially_collected",
        "invoice.collected",
        "invoice.credited",
        "invoice.uncollectible",
        "payment.settled",
        "sync.failed",
        "connection.auth_failed",
        "invoice.einvoice_status_changed",
    ]
    assert payload_model(EventType.INVOICE_EINVOICE_STATUS_CHANGED) is EInvoiceStatusData
    assert payload_model(EventType.INVOICE_UNCOLLECTIBLE) is InvoiceUncollectibleData
    assert payload_model(EventType.CONNECTION_AUTH_FAILED) is ConnectionAuthFailedData
    assert payload_model(EventType.INVOICE_CREDITED) is InvoiceEventData
    assert payload_model(EventType.PAYMENT_SETTLED) is PaymentSettledData
    assert payload_model(EventType.SYNC_FAILED) is SyncFailedData


def test_money_is_written_as_exact_strings() -> None:
    data = PaymentSettledData(
        invoice_id="inv",
        provider="stripe",
        document_number="pi_1",
        amount=Decimal("1E+1"),
        currency="EUR",
        amount_due=Decimal("0.10"),
    )
    dumped = json.loads(data.model_dump_json())
    assert dumped["amount"] == "10"
    assert dumped["amount_due"] == "0.10"


def test_floats_are_refused_for_money() -> None:
    with pytest.raises(ValidationError):
        InvoiceEventData(
            invoice_id="i", status="Posted", total=12.3, currency="EUR", amount_due="0"
        )


def test_a_mapping_is_validated_into_the_payload_model() -> None:
    data = validate_data(
        EventType.SYNC_FAILED,
        {"event_ref": "evt_1", "provider": "stripe", "topic": "charge.refunded", "reason": "x"},
    )
    assert isinstance(data, SyncFailedData)
    assert data.event_ref == "evt_1"
    with pytest.raises(ValidationError):
        validate_data(EventType.SYNC_FAILED, {"event_ref": "evt_1", "surprise": 1})
