"""Stripe Billing credit notes: booked once as posted Sage credit notes, voids, and the
refunds they explain.

- `credit_note.created` is a Refund keyed by the `cn_...` id (`bridge.translate.
  stripe_credit_note`) booked by `sync_refund`, so the credit note's `salesOrderNumber` is
  `<invoice's order reference>:refund:<cn id>` and every step follows the refunds' recipe
  (intent markers, looked up in Sage before acting again). Before booking, each refund the
  credit note made is marked as explained by it (`explained:<refund id>` link key).
- A refund (`refund.created` / `charge.refunded`) that a credit note explains is not booked
  again (`explained_refund`): known by that mark, or, when it comes first, by asking
  Stripe for the credit notes of its invoice (with `STRIPE_API_KEY`). When the refund was
  booked first anyway (no key: a credit note of its amount), the credit note does not
  book it twice: the refund's Sage credit note is adopted.
- `credit_note.voided`: a credit note never booked is remembered as void, so a late
  `credit_note.created` books nothing. A posted Sage credit note cannot be deleted, so one
  already booked becomes a needs-attention item with its amount and both numbers: the
  accountant re-invoices the amount (or reverses it) in Sage, as the books require.
"""

from __future__ import annotations

from typing import Any

from bridge.models import Refund
from bridge.money import from_minor_units
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.links import RefundLink
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Ignored, Outcome, Processed
from bridge.sync.invoices import POSTED_STATES
from bridge.sync.refunds import sync_refund
from bridge.sync.stripe import reads as stripe_reads
from connectors.stripe import checkout as co

VOIDED = "Voided"
STRIPE_INVOICE = ":in_"


def _explained_key(services: Services, refund_id: str) -> str:
    return services.settings.key("link", "explained", "stripe", refund_id)


def mark_explained(services: Services, note: co.CreditNote) -> None:
    """Record that each refund `note` made is booked through `note`.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    for refund_id in note.refund_ids:
        # kept as long as links; once gone, Stripe's credit notes are listed again
        services.redis.set(
            _explained_key(services, refund_id), note.id, ex=services.settings.link_retention
        )


def _refund_id(obj: dict[str, Any]) -> str | None:
    """The refund a `refund.created` (a Refund) or `charge.refunded` (its newest) is about."""
    if obj.get("object") == "refund":
        value = obj.get("id")
        return value if isinstance(value, str) else None
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    refunds = [r for r in data or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]
    if not refunds:
        return None
    newest = max(refunds, key=lambda r: (r.get("created") or 0, r["id"]))
    return str(newest["id"])


def _invoice_of(obj: dict[str, Any], reference: str | None) -> str | None:
    """The Stripe invoice the refunded payment paid, when the payload or its link says."""
    invoice = obj.get("invoice")
    if isinstance(invoice, str) and invoice.startswith("in_"):
        return invoice
    if reference and reference.startswith("stripe:") and STRIPE_INVOICE in reference:
        return reference.rsplit(":", 1)[-1]
    return None


def explained_refund(services: Services, obj: object, reference: str | None) -> str | None:
    """Why this Stripe refund is booked through a credit note (and not on its own), or None.

    `reference` is the order its payment is linked to, when known.

    Raises:
        PermanentError, TransientError: asking Stripe failed (`stripe_reads`).
        redis.RedisError: Redis is unreachable.
    """
    fields = obj if isinstance(obj, dict) else {}
    refund_id = _refund_id(fields)
    if refund_id is None:
        return None
    raw = services.redis.get(_explained_key(services, refund_id))
    note_id = str(raw) if raw is not None else None
    invoice = _invoice_of(fields, reference)
    if note_id is None and invoice is not None and stripe_reads.has_key(services.settings):
        for listed in stripe_reads.credit_notes(services.settings, invoice):
            note = co.CreditNote.model_validate(listed)
            if note.status != "void" and refund_id in note.refund_ids:
                mark_explained(services, note)
                note_id = note.id
                break
    if note_id is None:
        return None
    return f"refund {refund_id} was made by credit note {note_id}, which books it"


def _booked_refunds(ctx: SyncContext, note: co.CreditNote) -> list[RefundLink]:
    found = [ctx.links.refund("stripe", refund_id) for refund_id in note.refund_ids]
    return [r for r in found if r is not None and r.status in POSTED_STATES]


def book_credit_note(
    ctx: SyncContext, refund: Refund, note: co.CreditNote, event_ref: str, parked: int
) -> Outcome:
    """Book `note` (translated as `refund`) once (module docstring).

    Raises:
        PermanentError: as `sync_refund`.
        SageError: a call failed (classified by the caller).
    """
    own = ctx.links.refund("stripe", note.id)
    if own is not None and own.status == VOIDED:
        return Ignored(f"credit note {note.id} was voided before it was booked")
    booked = _booked_refunds(ctx, note)
    if booked and own is None:
        first = booked[0]
        ctx.links.save_refund(
            first.model_copy(update={"refund_id": note.id, "intents": {}, "updated_at": None})
        )
        return Processed(
            f"credit note {note.id}: its refund {first.refund_id} is already booked as Sage "
            f"credit note {first.number or first.credit_note_id}"
        )
    outcome = sync_refund(ctx, refund, event_ref, parked)
    if isinstance(outcome, Processed):
        for refund_id in note.refund_ids:
            # the refund alone could only ask a person to book it: the credit note did
            ctx.attention.resolve(f"refund_adjustment:stripe:{refund_id}:0")
    return outcome


def void_credit_note(ctx: SyncContext, note: co.CreditNote, reference: str) -> Outcome:
    """Record that `note` was voided (module docstring).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    own = ctx.links.refund("stripe", note.id)
    if own is not None and own.status == VOIDED:
        return Processed(f"credit note {note.id} already known as voided")
    if own is None or (own.credit_note_id is None and not own.intents):
        void = RefundLink(
            provider="stripe",
            refund_id=note.id,
            order_reference=reference,
            status=VOIDED,
            nothing_to_credit=True,
        )
        ctx.links.save_refund(void)
        # what it asked a person to book by hand (amounts without a line) is void too
        for item in ctx.attention.for_order(reference):
            if item.source == note.id:
                ctx.attention.resolve(item.id)
        return Processed(f"credit note {note.id} voided before it was booked: nothing to book")
    amount = own.credited
    if amount is None:
        amount = from_minor_units(note.total, note.currency)
    ctx.needs_attention(
        AttentionItem(
            id=f"credit_note_voided:stripe:{note.id}",
            kind="credit_note_voided",
            order_reference=reference,
            amount=amount,
            currency=note.currency.upper(),
            reason=f"Stripe voided credit note {note.number or note.id} after it was booked as "
            f"Sage credit note {own.number or own.credit_note_id} ({own.status}); a posted "
            "credit note cannot be deleted: re-invoice the credited amount in Sage by hand",
            source=note.id,
        )
    )
    return Processed(f"credit note {note.id} voided after booking: recorded for attention")
