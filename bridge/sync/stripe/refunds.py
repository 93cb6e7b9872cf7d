"""Stripe refunds (`charge.refunded`, `refund.created`) and disputes
(`charge.dispute.created`): registered here, listed in `HANDLER_MODULES` (Billing invoices:
`bridge.sync.stripe.invoices`).
"""

from __future__ import annotations

from bridge.models import NotLinked
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.events import EventRecord
from bridge.sync.dispatch import Ignored, Outcome, Parked, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.payments import park_delay
from bridge.sync.running import (
    event_body,
    parked_before,
    run_translated,
    translation_context,
)
from bridge.sync.stripe.credit_notes import explained_refund
from bridge.sync.unlinked import unlinked_among
from bridge.translate import translate


def handle_stripe_refund(event: EventRecord, services: Services) -> Outcome:
    """`charge.refunded` / `refund.created`: the order is found through the payment link
    when the refund's metadata does not name it. A refund of a payment not booked yet (and
    naming no order) is parked, like a payment before its order, and tried again later.

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        data = body.get("data")
        obj = data.get("object") if isinstance(data, dict) else body
        reference = None
        if isinstance(obj, dict):
            for key in ("payment_intent", "charge", "id"):
                value = obj.get(key)
                link = services.links.payment("stripe", value) if isinstance(value, str) else None
                if link is not None:
                    reference = link.order_reference
                    break
        explained = explained_refund(services, obj, reference)
        if explained is not None:
            return Ignored(explained)
        context = translation_context(event, services, order_reference=reference)
        try:
            result = translate(event.provider, event.topic, body, context)
        except NotLinked as exc:
            # Stripe does not promise order: the refund may come before its payment.
            payment = _payment_named(obj)
            if reference is not None or payment is None:
                raise
            fields = obj if isinstance(obj, dict) else {}
            ids = [v for k in ("payment_intent", "charge") if isinstance(v := fields.get(k), str)]
            if (unlinked := unlinked_among(services, "stripe", ids)) is not None:
                return Ignored(f"{exc}; its payment {unlinked} was ignored as unlinked")
            why = f"{exc}; its payment {payment} is not booked yet, waiting for it"
            return Parked(park_delay(parked_before(event)), why)
        return run_translated(event, services, result)


def _payment_named(obj: object) -> str | None:
    """The PaymentIntent or Charge id a Stripe refund (or refunded charge) belongs to."""
    fields = obj if isinstance(obj, dict) else {}
    for key in ("payment_intent", "charge", "id"):
        value = fields.get(key)
        if isinstance(value, str) and value.startswith(("pi_", "ch_", "py_")):
            return value
    return None


def handle_dispute(event: EventRecord, services: Services) -> Outcome:
    """`charge.dispute.created`: an alert for a person (nothing is booked).

    Raises:
        PermanentError: the body is not JSON.
    """
    body = event_body(event)
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else {}
    obj = obj if isinstance(obj, dict) else {}
    amount = obj.get("amount")
    services.attention.add(
        AttentionItem(
            id=f"dispute:{obj.get('id') or event.provider_id}",
            kind="dispute",
            reason=f"Stripe dispute on charge {obj.get('charge')}: {obj.get('reason')} "
            f"({amount} {obj.get('currency')} in minor units)",
            source=str(obj.get("id") or event.provider_id),
        )
    )
    return Processed("dispute recorded for attention")


# payment_intent.succeeded, charge.succeeded, invoice_payment.paid: bridge.sync.stripe.payments
for _topic in ("charge.refunded", "refund.created"):
    handler("stripe", _topic)(handle_stripe_refund)
handler("stripe", "charge.dispute.created")(handle_dispute)
