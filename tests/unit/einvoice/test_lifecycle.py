"""What an e-invoice's status change owes, and what the sync's own view keeps of it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bridge.einvoice.lifecycle import changes, merged, read_einvoice
from bridge.outbound.events import EventType
from bridge.store.poller import InvoiceState
from connectors.sage_active.models import SalesInvoice


def state(**values: Any) -> InvoiceState:
    base: dict[str, Any] = {
        "invoice_id": "inv-1",
        "status": "Posted",
        "modification_date": "2026-09-02T10:00:00.000000Z",
        "total": Decimal("1560.00"),
        "amount_due": Decimal("1560.00"),
    }
    return InvoiceState(**{**base, **values})


def test_the_latest_submission_gives_status_reason_and_count() -> None:
    invoice = SalesInvoice.model_validate(
        {
            "id": "inv-1",
            "status": "Posted",
            "eInvoicingStatus": "REJECTED",
            "eInvoice": [{"status": "REJECTED", "rejectedReason": "SIREN inconnu"}],
        }
    )
    assert read_einvoice(invoice) == ("REJECTED", "SIREN inconnu", 1)
    assert read_einvoice(SalesInvoice(id="x", status="Posted")) == (None, None, 0)


def test_a_change_owes_one_keyed_event_with_its_reason() -> None:
    before = state(einvoice_status="SUBMITTED", einvoice_submissions=1)
    after = state(
        einvoice_status="REJECTED",
        einvoice_reason="SIREN inconnu",
        einvoice_submissions=1,
        modification_date="2026-09-02T10:01:00.000000Z",
    )
    [event] = changes(before, after)
    assert event.type is EventType.INVOICE_EINVOICE_STATUS_CHANGED
    assert event.key == "invoice.einvoice_status_changed:inv-1:1:REJECTED"
    data = json.loads(event.data)
    assert (data["status"], data["previous_status"], data["reason"]) == (
        "REJECTED",
        "SUBMITTED",
        "SIREN inconnu",
    )
    assert data["needs_attention"] is True
    assert changes(after, after) == []
    # a retry that ends the same way again is a new submission: a new event
    again = after.model_copy(update={"einvoice_submissions": 2})
    assert changes(after, again)[0].key.endswith(":2:REJECTED")


def test_the_syncs_own_view_keeps_the_last_status_and_owes_nothing() -> None:
    seen = state(einvoice_status="REJECTED", einvoice_reason="r", einvoice_submissions=1)
    own = state(status="Collected", modification_date="")
    kept = merged(seen, own)
    assert (kept.status, kept.einvoice_status, kept.einvoice_reason) == (
        "Collected",
        "REJECTED",
        "r",
    )
    assert changes(seen, kept) == []
    assert merged(None, own) == own
