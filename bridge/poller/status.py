"""Invoice status transitions: compare what Sage says with what was last known, emit once.

`observe(parts, invoice)` is called by the sync pipeline after its own Sage actions (with
the invoice Sage returned) and by the poller for every change it sees. It compares the
invoice's status with the last one recorded and, in one atomic Redis step, records the new
state together with the events the transition owes; then it hands them to Outbound. The
observer that sees a transition first emits it; the other one finds nothing new.

Which transitions emit what (status order: Pending < Closed < Posted < PartiallyCollected
< Collected):

- `invoice.posted`: the invoice reached Posted (or beyond) from a known Pending/Closed
  state, or is first seen as Posted; **only for invoices the bridge did not make** (their
  `salesOrderNumber` does not start with `shopify:` / `stripe:`), because the pipeline
  emits `invoice.posted` itself for its own, right after posting.
- `invoice.partially_collected`: the status became PartiallyCollected.
- `invoice.collected`: the status became Collected.
- `invoice.credited`: a credit note (type CREDIT_NOTE) of a source invoice is first seen
  Closed or beyond (a draft is not a credit yet); only for credit notes the bridge did not
  make (the pipeline's carry `<order reference>:refund:<refund id>` and are announced by it).
  The payload is the source invoice's, with the credit note's id, number and amount.

Stale news is ignored: an older `modificationDate` than the one recorded, or (without a
date) a status that goes backwards. A later date may move the status back (a settlement
removed in Sage): that is recorded and emits nothing.

Each event is emitted with a deterministic key (`event_key`), so an event queued by a
process that died before emitting it is emitted by the next observer (`flush_pending`) once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import redis

from bridge.einvoice.lifecycle import changes, merged, read_einvoice, record_emitted
from bridge.money import round_cents
from bridge.outbound.delivery import Outbound
from bridge.outbound.events import EventType, InvoiceEventData, payload_model
from bridge.settings import Settings
from bridge.store.poller import InvoiceState, PendingEvent, StatusStore, stamp
from connectors.sage_active.models import SalesInvoice

BRIDGE_REFERENCE_PREFIXES = ("shopify:", "stripe:")
BRIDGE_CREDIT_MARK = ":refund:"  # in the salesOrderNumber the pipeline gives its credit notes
CREDIT_NOTE = "CREDIT_NOTE"
RANK = {"Pending": 0, "Closed": 1, "Posted": 2, "PartiallyCollected": 3, "Collected": 4}
_UNPOSTED = ("Pending", "Closed")
_MAX_TRIES = 20  # compare-and-set retries under contention (each one means progress elsewhere)


class StatusParts(Protocol):
    """What `observe` needs: `bridge.services.Services` fits, and so does any holder."""

    @property
    def redis(self) -> redis.Redis: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def outbound(self) -> Outbound: ...


class UnknownSourceInvoice(LookupError):
    """A credit note whose source invoice was never observed: observe the source first."""


class StatusConflict(RuntimeError):
    """The state of one invoice kept changing under us; nothing was recorded by this call."""


def event_key(event_type: EventType, document_id: str, version: str = "") -> str:
    """The idempotency key an event is emitted under (see `Outbound.emit`).

    `invoice.posted:<invoice id>` and `invoice.credited:<credit note id>` have no version:
    a pipeline that emits those itself should use the same keys, so that an event the
    poller also saw is recorded once.
    """
    return f"{event_type.value}:{document_id}" + (f":{version}" if version else "")


def is_bridge_reference(reference: str | None) -> bool:
    """True when a `salesOrderNumber` is one the bridge writes on its own invoices."""
    return bool(reference) and str(reference).startswith(BRIDGE_REFERENCE_PREFIXES)


def invoice_state(invoice: SalesInvoice) -> InvoiceState:
    """What to record of `invoice`, with its amounts paid and due.

    Raises:
        ValueError: no `totalLiquid`, or a PartiallyCollected invoice without its open
            items (the amounts would be guesses).
    """
    if invoice.total_liquid is None:
        raise ValueError(f"invoice {invoice.id} has no totalLiquid: fetch it with its totals")
    total = invoice.total_liquid
    if invoice.open_items:
        paid = sum((item.paid_amount_accumulated for item in invoice.open_items), Decimal(0))
        due = sum((item.amount for item in invoice.open_items), Decimal(0)) - paid
    elif invoice.status == "Collected":
        paid, due = total, Decimal(0)
    elif invoice.status == "PartiallyCollected" and invoice.type != CREDIT_NOTE:
        raise ValueError(f"invoice {invoice.id} is PartiallyCollected: pass its openItems")
    else:
        paid, due = Decimal(0), total
    einvoice_status, einvoice_reason, submissions = read_einvoice(invoice)
    return InvoiceState(
        einvoice_status=einvoice_status,
        einvoice_reason=einvoice_reason,
        einvoice_submissions=submissions,
        invoice_id=invoice.id,
        status=invoice.status,
        modification_date=stamp(invoice.modification_date) if invoice.modification_date else "",
        operational_number=invoice.operational_number,
        order_reference=invoice.sales_order_number,
        external_reference=invoice.external_reference,
        document_type=invoice.type,
        source_invoice_id=invoice.source_sales_invoice_id,
        # Sage's amounts are to the cent; always written with two places ("12.00")
        total=round_cents(total),
        amount_paid=round_cents(paid),
        amount_due=round_cents(due),
    )


def is_news(previous: tuple[str, str], state: InvoiceState) -> bool:
    """Whether `state` should replace the recorded `(status, mod)`."""
    status, mod = previous
    if state.modification_date and mod and state.modification_date < mod:
        return False
    if not state.modification_date and status:
        return RANK.get(state.status, -1) > RANK.get(status, -1)
    if state.status == status:
        return state.modification_date > mod
    return True


def event_data(state: InvoiceState, currency: str) -> InvoiceEventData:
    """The outbound payload describing the invoice in `state`."""
    return InvoiceEventData(
        invoice_id=state.invoice_id,
        operational_number=state.operational_number,
        status=state.status,
        order_reference=state.order_reference,
        external_reference=state.external_reference,
        total=state.total,
        currency=currency,
        amount_paid=state.amount_paid,
        amount_due=state.amount_due,
        einvoicing_status=state.einvoice_status,
        einvoicing_reason=state.einvoice_reason,
    )


def _pending(kind: EventType, key: str, data: InvoiceEventData) -> PendingEvent:
    return PendingEvent(key=key, type=kind, data=data.model_dump_json())


def invoice_events(previous: str, state: InvoiceState, currency: str) -> list[PendingEvent]:
    """The events an ordinary invoice owes for going from status `previous` to `state`."""
    new = state.status
    if new == previous or new not in RANK:
        return []
    data = event_data(state, currency)
    version = state.modification_date
    events: list[PendingEvent] = []
    reached_posted = RANK[new] >= RANK["Posted"] and (
        previous in _UNPOSTED or (not previous and new == "Posted")
    )
    if reached_posted and not is_bridge_reference(state.order_reference):
        key = event_key(EventType.INVOICE_POSTED, state.invoice_id)
        events.append(_pending(EventType.INVOICE_POSTED, key, data))
    for status, kind in (
        ("PartiallyCollected", EventType.INVOICE_PARTIALLY_COLLECTED),
        ("Collected", EventType.INVOICE_COLLECTED),
    ):
        if new == status:
            events.append(_pending(kind, event_key(kind, state.invoice_id, version), data))
    return events


def credit_events(
    previous: str, note: InvoiceState, source: InvoiceState | None, currency: str
) -> list[PendingEvent]:
    """The `invoice.credited` a credit note owes when it first becomes final.

    Raises:
        UnknownSourceInvoice: the event is owed but the source invoice was never observed.
    """
    final_now = RANK.get(note.status, -1) >= RANK["Closed"] and previous in ("", "Pending")
    reference = note.order_reference or ""
    if not final_now or not note.source_invoice_id or BRIDGE_CREDIT_MARK in reference:
        return []
    if source is None:
        raise UnknownSourceInvoice(
            f"credit note {note.invoice_id}: source invoice {note.source_invoice_id} "
            "was never observed"
        )
    data = event_data(source, currency).model_copy(
        update={
            "credit_note_id": note.invoice_id,
            "credit_note_number": note.operational_number,
            "credited_amount": round_cents(abs(note.total)),
        }
    )
    key = event_key(EventType.INVOICE_CREDITED, note.invoice_id)
    return [_pending(EventType.INVOICE_CREDITED, key, data)]


def emit_events(parts: StatusParts, store: StatusStore, events: list[PendingEvent]) -> list[str]:
    """Hand queued events to Outbound (keyed: twice is once) and drop them from the queue."""
    ids: list[str] = []
    for event in events:
        data = payload_model(event.type).model_validate_json(event.data)
        ids.append(parts.outbound.emit(event.type, data, key=event.key))
        record_emitted(parts.redis, parts.settings, event)
        store.done(event.key)
    return ids


def flush_pending(parts: StatusParts) -> list[str]:
    """Emit events a previous observer queued but did not get to emit (it died)."""
    store = StatusStore(parts.redis, parts.settings)
    return emit_events(parts, store, store.pending())


def observe(parts: StatusParts, invoice: SalesInvoice) -> list[str]:
    """Record what Sage says of `invoice` and emit each transition's events exactly once.

    Returns the ids of the outbound events this call emitted (empty when nothing changed
    or another observer got there first).

    Raises:
        ValueError: see `invoice_state` (nothing is recorded).
        UnknownSourceInvoice: a credit note whose source was never observed (nothing is
            recorded; observe the source invoice, then the credit note again).
        StatusConflict: the invoice's state changed under us on every try.
        redis.RedisError: Redis is unreachable.
    """
    store = StatusStore(parts.redis, parts.settings)
    seen = invoice_state(invoice)
    currency = parts.settings.shop_currency
    for _ in range(_MAX_TRIES):
        previous = store.read(invoice.id)
        if not is_news(previous, seen):
            return []
        before = store.state(invoice.id) if previous[0] else None
        state = merged(before, seen)  # the sync's own view keeps the e-invoice's last status
        if state.document_type == CREDIT_NOTE:
            source = store.state(state.source_invoice_id) if state.source_invoice_id else None
            events = credit_events(previous[0], state, source, currency)
        else:
            events = invoice_events(previous[0], state, currency)
        events += changes(before, state)
        if store.compare_and_set(previous, state, events):
            return emit_events(parts, store, events)
    raise StatusConflict(f"invoice {invoice.id}: its recorded state kept changing")
