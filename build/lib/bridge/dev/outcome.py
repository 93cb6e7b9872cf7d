"""What a `bridge demo` run produced: the bridge's links, Sage's own view of the documents,
and what the subscriber received; whether that is the expected outcome; the timeline.

Sage is asked directly (through the connector) for each document's status: the demo shows
what an accountant would see in Sage, not only what the bridge believes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.dev.subscriber import Received
from bridge.services import Services
from connectors.sage_active.errors import SageError

POSTED = ("Posted", "PartiallyCollected", "Collected")


@dataclass
class Document:
    """One Sage document as Sage reports it now."""

    kind: str  # invoice, credit note, settlement
    number: str
    status: str
    amount: Decimal | None
    detail: str = ""


@dataclass
class InvoiceView:
    """A provider order/invoice and the Sage documents the bridge made for it."""

    label: str
    reference: str
    invoice: Document | None = None
    settlements: list[Document] = field(default_factory=list)
    credit_notes: list[Document] = field(default_factory=list)


@dataclass
class EventView:
    """An inbound event as the admin API reports it."""

    label: str
    ref: str
    topic: str
    status: str
    received_at: str | None
    error: str | None


def _sage_document(services: Services, kind: str, doc_id: str, fallback: str) -> Document:
    try:
        found = services.sage.invoice(doc_id)
    except SageError as exc:
        return Document(kind, fallback, "unknown", None, f"Sage did not answer: {exc}")
    if found is None:
        return Document(kind, fallback, "missing in Sage", None)
    number = found.operational_number or fallback
    return Document(kind, number, found.status, found.total_liquid)


def invoice_view(services: Services, label: str, reference: str) -> InvoiceView:
    """The documents of order `reference`, statuses from Sage.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    view = InvoiceView(label, reference)
    link = services.links.order(reference)
    if link is None or link.invoice_id is None:
        return view
    view.invoice = _sage_document(services, "invoice", link.invoice_id, link.number or "-")
    provider = reference.partition(":")[0]
    for payment_id in link.payments:
        payment = services.links.payment(provider, payment_id)
        if payment is not None and payment.entry_id is not None:
            number = str(payment.entry_number or payment.entry_id)
            view.settlements.append(
                Document("settlement", number, "booked", payment.amount, payment_id)
            )
    for refund_id in link.refunds:
        refund = services.links.refund(provider, refund_id)
        if refund is not None and refund.credit_note_id is not None:
            note = _sage_document(
                services, "credit note", refund.credit_note_id, refund.number or "-"
            )
            view.credit_notes.append(note)
    return view


@dataclass
class Outcome:
    """Everything the demo looks at, gathered in one pass."""

    events: list[EventView]
    invoices: list[InvoiceView]
    received: list[Received]

    def types_received(self) -> list[str]:
        return [item.type for item in self.received]

    def missing(self) -> list[str]:
        """What the expected outcome still lacks (empty when it is complete)."""
        gaps = [f"event {e.label} is {e.status}" for e in self.events if e.status != "processed"]
        for view in self.invoices:
            status = view.invoice.status if view.invoice else "not created"
            if status not in POSTED:
                gaps.append(f"{view.label}: invoice {status}, expected Posted or Collected")
            elif status != "Collected":
                gaps.append(f"{view.label}: invoice {status}, expected Collected once paid")
            if not view.settlements:
                gaps.append(f"{view.label}: no settlement of its payment")
        if not self.invoices[0].credit_notes:
            gaps.append(f"{self.invoices[0].label}: no credit note for its refund")
        types = self.types_received()
        wanted_counts = (("invoice.posted", 2), ("payment.settled", 2), ("invoice.collected", 2))
        for wanted, count in wanted_counts:
            if types.count(wanted) < count:
                gaps.append(f"outbound: {types.count(wanted)} {wanted} received, {count} expected")
        if "invoice.credited" not in types:
            gaps.append("outbound: no invoice.credited received")
        return gaps

    def failed(self) -> bool:
        """An event was dead-lettered: waiting longer will not help."""
        return any(e.status == "failed" for e in self.events)


def _clock(moment: float | str | None) -> str:
    if moment is None:
        return "--:--:--"
    if isinstance(moment, str):
        return dt.datetime.fromisoformat(moment).astimezone().strftime("%H:%M:%S")
    return dt.datetime.fromtimestamp(moment).strftime("%H:%M:%S")


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f} EUR"


def render(outcome: Outcome, subscriber_url: str) -> str:
    """The readable timeline: events in, Sage documents, events out."""
    lines = ["", "Events received by the bridge"]
    for event in outcome.events:
        note = f"  ({event.error})" if event.error else ""
        lines.append(
            f"  {_clock(event.received_at)}  {event.label:<38} {event.topic:<26} "
            f"{event.status}{note}"
        )
    lines += ["", "Documents in Sage Active"]
    for view in outcome.invoices:
        lines.append(f"  {view.label}  [{view.reference}]")
        if view.invoice is None:
            lines.append("    no invoice yet")
            continue
        docs = [view.invoice, *view.settlements, *view.credit_notes]
        for doc in docs:
            extra = f"  {doc.detail}" if doc.detail else ""
            lines.append(
                f"    {doc.kind:<12} {doc.number:<20} {doc.status:<20} {_money(doc.amount)}{extra}"
            )
    lines += ["", f"Outbound events delivered to {subscriber_url} (signatures verified)"]
    for item in outcome.received:
        data = item.data
        what = data.get("operational_number") or data.get("external_reference")
        what = what or data.get("invoice_id") or data.get("event_ref")
        status = data.get("status") or data.get("amount") or data.get("reason") or ""
        lines.append(f"  {_clock(item.received_at)}  {item.type:<28} {what!s:<20} {status}")
    if not outcome.received:
        lines.append("  none yet")
    return "\n".join(lines) + "\n"
