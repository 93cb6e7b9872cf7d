"""Handlers of Stripe Checkout sales and Billing credit notes (listed in `HANDLER_MODULES`).

- `checkout.session.completed`, `checkout.session.async_payment_succeeded`: a paid
  one-off session is a sale (`bridge.sync.stripe.checkout`); its line items are read from
  Stripe's API (`bridge.sync.stripe.reads`). Sessions that are no sale of their own
  (subscription / setup mode, not paid yet, booked through the Stripe invoice they made)
  are `Ignored` with the reason.
- `credit_note.created`, `credit_note.voided`: `bridge.sync.stripe.credit_notes`.
"""

from __future__ import annotations

from typing import Any

from bridge.models import Order
from bridge.reports.facts import note_translated
from bridge.services import Services
from bridge.store.events import EventRecord
from bridge.sync.dispatch import Ignored, Outcome, PermanentError, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.golive import skip_follower, skip_order
from bridge.sync.running import event_body, parked_before, run_locked, translation_context
from bridge.sync.stripe import reads as stripe_reads
from bridge.sync.stripe.checkout import already_booked, sync_checkout
from bridge.sync.stripe.credit_notes import book_credit_note, mark_explained, void_credit_note
from bridge.translate import translate
from bridge.translate.stripe.checkout import payment_from_checkout_session, skip_reason
from bridge.translate.stripe.credit_note import refund_from_credit_note
from bridge.translate.stripe.objects import stripe_reference
from connectors.stripe import checkout as co

DEFAULT_ACCOUNT = "default"


def _object(event: EventRecord, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The event's `data.object` and the Stripe account it belongs to (Connect or default).

    Raises:
        PermanentError: the event carries no object.
    """
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise PermanentError(f"{event.ref}: the event has no data.object")
    account = body.get("account")
    return obj, account if isinstance(account, str) and account else DEFAULT_ACCOUNT


def handle_checkout_session(event: EventRecord, services: Services) -> Outcome:
    """A paid Checkout Session: its invoice and settlement, once each.

    Raises:
        TransientError: Sage, Stripe's API or the lock may let it through later.
        PermanentError: the payload, a missing `STRIPE_API_KEY` or Sage refuses it for good.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        obj, account = _object(event, body)
        session = co.CheckoutSession.model_validate(obj)
        reason = skip_reason(session)
        if reason is not None:
            return Ignored(reason)
        payment = payment_from_checkout_session(session, account=account)
        reference = stripe_reference(account, session.id)
        books = services.settings.shop_currency.upper()
        if (session.currency or books).upper() != books:
            raise PermanentError(
                f"order {reference} is in {session.currency}, the books in {books} "
                "(BRIDGE_SHOP_CURRENCY): amounts are not converted, so it is not booked"
            )
        if already_booked(services.links, reference, payment.provider_id if payment else None):
            return Processed(f"Checkout Session {session.id} is already booked")
        items = stripe_reads.line_items(services.settings, session.id)
        context = translation_context(event, services, checkout_line_items=items)
        order = translate(event.provider, event.topic, body, context)
        if not isinstance(order, Order):
            return Ignored(f"Checkout Session {session.id}: nothing to book")
        skipped = skip_order(services, order)
        if skipped is not None:  # before the go-live date: its payment is listed to book
            listed = skip_follower(services, payment) if payment is not None else None
            return listed or skipped
        note_translated(services.redis, services.settings, event.ref, [order, payment])
        parked = parked_before(event)
        return run_locked(
            services,
            order.reference,
            lambda ctx: sync_checkout(ctx, order, payment, event.ref, parked),
        )


def handle_credit_note_created(event: EventRecord, services: Services) -> Outcome:
    """A Billing credit note: one posted Sage credit note of its invoice.

    Raises:
        TransientError, PermanentError: as `handle_checkout_session`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        obj, account = _object(event, body)
        note = co.CreditNote.model_validate(obj)
        refund = refund_from_credit_note(note, account=account)
        mark_explained(services, note)
        skipped = skip_follower(services, refund)
        if skipped is not None:
            return skipped
        note_translated(services.redis, services.settings, event.ref, refund)
        parked = parked_before(event)
        return run_locked(
            services,
            refund.order_reference,
            lambda ctx: book_credit_note(ctx, refund, note, event.ref, parked),
        )


def handle_credit_note_voided(event: EventRecord, services: Services) -> Outcome:
    """A voided credit note: nothing if never booked, else an item for a person.

    Raises:
        TransientError, PermanentError: as `handle_checkout_session`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        obj, account = _object(event, body)
        note = co.CreditNote.model_validate(obj)
        reference = stripe_reference(account, note.invoice_id)
        return run_locked(services, reference, lambda ctx: void_credit_note(ctx, note, reference))


for _topic in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
    handler("stripe", _topic)(handle_checkout_session)
handler("stripe", "credit_note.created")(handle_credit_note_created)
handler("stripe", "credit_note.voided")(handle_credit_note_voided)
