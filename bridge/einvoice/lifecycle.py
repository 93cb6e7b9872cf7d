"""An e-invoice's lifecycle as the poller reads it: what changed, what it owes, its history.

The poller reads `eInvoicingStatus` and `eInvoice[]` (status, rejectedReason) in the same
query as the invoice statuses, so following the lifecycle costs no request of its own.
`bridge.poller.status.observe` records them in the invoice's state and asks `changes` for
the events a change owes: one `invoice.einvoice_status_changed` per (submission, status),
keyed so it goes out once. When such an event is emitted (`record_emitted`), the change is
added to the invoice's history (shown on its order's page) and a status that needs a person
(REJECTED, REFUSED, FAILED_TO_SEND, SUSPENDED, DISPUTED) opens an attention item with the
reason, resolved by a retry.

A state the sync builds from what it knows (no `modificationDate`) says nothing about the
e-invoice: it keeps the last status the poller saw, so an `invoice.collected` the sync
announces carries the e-invoicing status beside it.
"""

from __future__ import annotations

import datetime as dt

import redis
from pydantic import BaseModel, ConfigDict

from bridge.outbound.events import EInvoiceStatusData, EventType
from bridge.settings import Settings
from bridge.store.attention import AttentionItem, AttentionStore
from bridge.store.poller import InvoiceState, PendingEvent
from connectors.sage_active.models import SalesInvoice

TROUBLE = frozenset({"REJECTED", "REFUSED", "FAILED_TO_SEND", "SUSPENDED", "DISPUTED"})
ATTENTION_KIND = "einvoice"
CREDIT_MARK = ":refund:"


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    reason: str | None = None
    submission: int = 1
    at: str  # ISO 8601 UTC, when the bridge saw it


def read_einvoice(invoice: SalesInvoice) -> tuple[str | None, str | None, int]:
    """(status, reason of the latest submission, number of submissions) of `invoice`."""
    entries = invoice.e_invoice
    latest = entries[-1] if entries else None
    status = invoice.e_invoicing_status or (latest.status if latest else None)
    reason = latest.rejected_reason if latest else None
    return status, reason if status in TROUBLE else None, len(entries) or (1 if status else 0)


def merged(previous: InvoiceState | None, state: InvoiceState) -> InvoiceState:
    """`state` with the e-invoice as last seen when `state` does not come from Sage itself."""
    if state.modification_date or previous is None or previous.einvoice_status is None:
        return state
    return state.model_copy(
        update={
            "einvoice_status": previous.einvoice_status,
            "einvoice_reason": previous.einvoice_reason,
            "einvoice_submissions": previous.einvoice_submissions,
        }
    )


def attention_id(invoice_id: str, submission: int) -> str:
    return f"{ATTENTION_KIND}:{invoice_id}:{submission}"


def changes(previous: InvoiceState | None, state: InvoiceState) -> list[PendingEvent]:
    """The `invoice.einvoice_status_changed` event `state` owes after `previous`, if any."""
    status = state.einvoice_status
    if status is None or not state.modification_date:
        return []
    before = (previous.einvoice_status, previous.einvoice_submissions) if previous else (None, 0)
    if (status, state.einvoice_submissions) == before:
        return []
    data = EInvoiceStatusData(
        invoice_id=state.invoice_id,
        operational_number=state.operational_number,
        document_type=state.document_type,
        order_reference=state.order_reference,
        external_reference=state.external_reference,
        status=status,
        previous_status=before[0],
        reason=state.einvoice_reason,
        submission=max(state.einvoice_submissions, 1),
        needs_attention=status in TROUBLE,
    )
    kind = EventType.INVOICE_EINVOICE_STATUS_CHANGED
    key = f"{kind.value}:{state.invoice_id}:{data.submission}:{status}"
    return [PendingEvent(key=key, type=kind, data=data.model_dump_json())]


class EInvoiceHistory:
    """The statuses an invoice's e-invoice went through (hash `einvoice:<invoice id>`,
    field per event key, so recording an event twice keeps one entry)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings

    def _key(self, invoice_id: str) -> str:
        return self._settings.key("einvoice", invoice_id)

    def add(self, key: str, data: EInvoiceStatusData) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        now = dt.datetime.now(dt.UTC).isoformat()
        entry = HistoryEntry(
            status=data.status, reason=data.reason, submission=data.submission, at=now
        )
        name = self._key(data.invoice_id)
        if self._redis.hsetnx(name, key, entry.model_dump_json()):
            self._redis.expire(name, self._settings.link_retention)

    def entries(self, invoice_id: str) -> list[HistoryEntry]:
        """Oldest first. Raises: redis.RedisError when Redis is unreachable."""
        raws = self._redis.hvals(self._key(invoice_id))
        found = [HistoryEntry.model_validate_json(raw) for raw in raws]
        return sorted(found, key=lambda entry: (entry.at, entry.submission))


def record_emitted(client: redis.Redis, settings: Settings, event: PendingEvent) -> None:
    """After an e-invoicing event is emitted: its history entry, and an attention item
    when the status needs a person.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    if event.type is not EventType.INVOICE_EINVOICE_STATUS_CHANGED:
        return
    data = EInvoiceStatusData.model_validate_json(event.data)
    EInvoiceHistory(client, settings).add(event.key, data)
    if data.status not in TROUBLE:
        return
    reference = (data.order_reference or "").split(CREDIT_MARK, 1)[0] or None
    what = "credit note" if data.document_type == "CREDIT_NOTE" else "invoice"
    number = data.operational_number or data.invoice_id
    AttentionStore(client, settings).add(
        AttentionItem(
            id=attention_id(data.invoice_id, data.submission),
            kind=ATTENTION_KIND,
            order_reference=reference,
            reason=f"e-{what} {number} {data.status} on Sage's e-invoicing platform: "
            f"{data.reason or 'no reason given'}. Fix the cause in Sage, then retry "
            f"(console, `bridge einvoice retry {reference or data.invoice_id}`, or "
            f"POST /admin/einvoice/retry)",
            source=data.invoice_id,
        )
    )
