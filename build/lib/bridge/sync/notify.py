"""Outbound events the sync emits after acting, each keyed so that it goes out once.

Keys are `<type>:<Sage document id>`: a step redone after a crash (or the poller seeing
the same change) emits with the same key, and `Outbound.emit` records the event once.
The invoice's collected / partially collected transitions go through `bridge.poller.status`
(`ctx.observe`), shared with the poller: whoever sees a transition first emits it. The
invoice handed to it is built from what the sync knows (no extra request to Sage).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Payment
from bridge.outbound.events import EventType, InvoiceEventData, PaymentSettledData
from bridge.store.links import OrderLink
from bridge.sync.context import SyncContext
from connectors.sage_active.models import OpenItem, SalesInvoice


def invoice_data(link: OrderLink, **extra: object) -> InvoiceEventData:
    """The `InvoiceEventData` of an order's invoice as the link knows it."""
    order = link.order
    total = order.total if order else Decimal("0")
    values: dict[str, object] = {
        "invoice_id": link.invoice_id or "",
        "operational_number": link.number,
        "status": link.status or "Pending",
        "order_reference": link.reference,
        "external_reference": order.external_reference if order else None,
        "total": total,
        "currency": order.currency if order else "EUR",
        "amount_paid": link.paid,
        "amount_due": max(total - link.paid - link.credited, Decimal("0")),
        **extra,
    }
    return InvoiceEventData.model_validate(values)


def invoice_event(ctx: SyncContext, kind: EventType, link: OrderLink) -> None:
    """Emit `invoice.created` / `invoice.posted` for the link's invoice (once per invoice).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    ctx.emit(kind, invoice_data(link), f"{kind.value}:{link.invoice_id}")


def payment_settled(
    ctx: SyncContext, link: OrderLink, payment: Payment, entry_id: str, method: str
) -> None:
    """Emit `payment.settled` for one settlement entry (once per entry).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    order = link.order
    total = order.total if order else payment.amount
    data = PaymentSettledData(
        invoice_id=link.invoice_id or "",
        operational_number=link.number,
        order_reference=link.reference,
        provider=payment.provider,
        document_number=payment.provider_id,
        settlement_id=entry_id,
        amount=payment.amount,
        currency=payment.currency,
        payment_method=method,
        amount_due=max(total - link.paid - link.credited, Decimal("0")),
    )
    ctx.emit(EventType.PAYMENT_SETTLED, data, f"payment.settled:{entry_id}")


def invoice_credited(
    ctx: SyncContext, link: OrderLink, note_id: str, number: str | None, amount: Decimal
) -> None:
    """Emit `invoice.credited` for one credit note (once per credit note).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    data = invoice_data(
        link, credit_note_id=note_id, credit_note_number=number, credited_amount=amount
    )
    ctx.emit(EventType.INVOICE_CREDITED, data, f"invoice.credited:{note_id}")


def observe_invoice(ctx: SyncContext, link: OrderLink, open_items: list[OpenItem]) -> None:
    """Tell `bridge.poller.status` the invoice's status as the sync left it.

    Raises:
        StatusConflict: the recorded state kept changing (retried by the task).
        redis.RedisError: Redis is unreachable.
    """
    if ctx.observe is None or link.invoice_id is None or link.status is None:
        return
    order = link.order
    invoice = SalesInvoice(
        id=link.invoice_id,
        status=link.status,
        operational_number=link.number,
        sales_order_number=link.reference,
        external_reference=order.external_reference if order else None,
        type="NORMAL",
        customer_id=link.customer_id,
        total_liquid=link.order_total,
        open_items=open_items,
    )
    ctx.observe(invoice)
