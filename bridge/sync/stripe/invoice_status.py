"""Stripe invoices voided or marked uncollectible after they were sent.

- `invoice.voided`: an invoice the bridge booked is cancelled by a full credit note of what
  is left on it (once: the credit note's refund key is `void:<invoice id>`, booked by
  `sync_refund` like any refund, total-checked and posted). One voided before it was
  booked books nothing: the event is `ignored` with the reason, and the order is
  remembered as cancelled, so an `invoice.finalized` delivered late books nothing either.
- `invoice.marked_uncollectible`: nothing is booked (the customer still owes the amount
  in the books; writing it off is the accountant's decision): one attention item, and an
  outbound `invoice.uncollectible` event for subscribers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bridge.models import Refund
from bridge.money import from_minor_units
from bridge.outbound.events import EventType, InvoiceUncollectibleData
from bridge.reports.facts import note_translated
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.events import EventRecord
from bridge.store.links import OrderLink
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Ignored, Outcome, PermanentError, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.refunds import sync_refund
from bridge.sync.running import event_body, parked_before, run_locked
from bridge.translate.stripe.objects import stripe_reference

VOID_PREFIX = "void:"


class _Transitions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    voided_at: int | None = None
    marked_uncollectible_at: int | None = None


class _Invoice(BaseModel):
    """The fields of a Stripe Invoice these two events need (both API versions)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    number: str | None = None
    currency: str
    created: int
    amount_due: int = 0
    amount_paid: int = 0
    amount_remaining: int | None = None
    status_transitions: _Transitions | None = None

    @property
    def remaining(self) -> int:
        if self.amount_remaining is not None:
            return self.amount_remaining
        return max(self.amount_due - self.amount_paid, 0)


def _read(event: EventRecord) -> tuple[_Invoice, str]:
    """The invoice in the event and its Stripe account ("default" unless Connect).

    Raises:
        PermanentError: the body is not an event with an invoice.
        ValidationError: the invoice lacks a field it must have (classified by the caller).
    """
    body = event_body(event)
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or obj.get("object") != "invoice":
        raise PermanentError(f"stripe {event.topic} {event.ref}: the event carries no invoice")
    account = body.get("account")
    named = account if isinstance(account, str) and account else "default"
    return _Invoice.model_validate(obj), named


def _day(timestamp: int) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date()


def handle_voided(event: EventRecord, services: Services) -> Outcome:
    """`invoice.voided` (module docstring).

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        invoice, account = _read(event)
        reference = stripe_reference(account, invoice.id)
        voided = (invoice.status_transitions or _Transitions()).voided_at or invoice.created
        refund = Refund(
            provider="stripe",
            account=account,
            provider_id=f"{VOID_PREFIX}{invoice.id}",
            order_reference=reference,
            full=True,
            date=_day(voided),
            gateways=["stripe"],
            currency=invoice.currency.upper(),
        )
        note_translated(services.redis, services.settings, event.ref, refund)
        parked = parked_before(event)

        def step(ctx: SyncContext) -> Outcome:
            link = ctx.links.order(reference)
            if link is None or link.invoice_id is None:
                link = link or OrderLink(reference=reference)
                link.cancelled = True
                ctx.links.save_order(link)
                return Ignored(
                    f"Stripe invoice {invoice.number or invoice.id} was voided before it was "
                    "booked: nothing to book (a later invoice event for it books nothing)"
                )
            return sync_refund(ctx, refund, event.ref, parked)

        return run_locked(services, reference, step)


def handle_uncollectible(event: EventRecord, services: Services) -> Outcome:
    """`invoice.marked_uncollectible` (module docstring).

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        invoice, account = _read(event)
        reference = stripe_reference(account, invoice.id)
        amount = from_minor_units(invoice.remaining, invoice.currency)

        def step(ctx: SyncContext) -> Outcome:
            link = ctx.links.order(reference)
            booked = link is not None and link.invoice_id is not None
            sage = f"Sage invoice {link.number or link.invoice_id}" if link and booked else None
            ctx.needs_attention(
                AttentionItem(
                    id=f"invoice_uncollectible:{reference}",
                    kind="invoice_uncollectible",
                    order_reference=reference,
                    amount=amount,
                    currency=invoice.currency.upper(),
                    reason=f"Stripe marked invoice {invoice.number or invoice.id} "
                    f"uncollectible: {amount} {invoice.currency.upper()} will not be "
                    f"collected; {sage or 'it is not booked in Sage'}"
                    f"{' stays open' if sage else ''}: decide the write-off",
                    source=invoice.id,
                )
            )
            _emit_uncollectible(ctx, link if booked else None, invoice, reference, amount)
            return Processed(f"invoice {invoice.id} uncollectible: recorded for attention")

        return run_locked(services, reference, step)


def _emit_uncollectible(
    ctx: SyncContext,
    link: OrderLink | None,
    invoice: _Invoice,
    reference: str,
    amount: Decimal,
) -> None:
    data = InvoiceUncollectibleData(
        order_reference=reference,
        provider="stripe",
        provider_invoice_id=invoice.id,
        provider_number=invoice.number,
        invoice_id=link.invoice_id if link else None,
        operational_number=link.number if link else None,
        amount_due=amount,
        currency=invoice.currency.upper(),
    )
    ctx.emit(EventType.INVOICE_UNCOLLECTIBLE, data, f"invoice.uncollectible:{reference}")


handler("stripe", "invoice.voided")(handle_voided)
handler("stripe", "invoice.marked_uncollectible")(handle_uncollectible)
