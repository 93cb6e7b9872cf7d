"""A Stripe Checkout sale booked once: its invoice (an Order) and its settlement (a Payment).

Under the sale's lock (`stripe:<account>:<session id>`), the Order goes through `sync_order`
(customer, products, create, close and post, each exactly once) and the Payment, keyed by
the session's PaymentIntent, through `sync_payment`: a `payment_intent.succeeded` or
`charge.succeeded` for the same money finds that settlement under the same key and books
nothing more. A second delivery of the session (a resend, or `completed` followed by
`async_payment_succeeded`) finds both done and reads nothing from Stripe.
"""

from __future__ import annotations

from typing import Any

from bridge.models import Order, Payment
from bridge.services import Services
from bridge.store.links import LinkStore
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Outcome, Processed
from bridge.sync.orders import sync_order
from bridge.sync.payments import sync_payment
from bridge.sync.stripe import reads as stripe_reads


def already_booked(links: LinkStore, reference: str, payment_id: str | None) -> bool:
    """Whether the sale `reference` is invoiced, posted and (when money moved) settled.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    link = links.order(reference)
    if link is None or not link.posted:
        return False
    if payment_id is None:
        return True
    plink = links.payment("stripe", payment_id)
    return plink is not None and plink.entry_id is not None


def _payment_intent(obj: object) -> str | None:
    fields = obj if isinstance(obj, dict) else {}
    value: Any = (
        fields.get("payment_intent") if fields.get("object") == "charge" else fields.get("id")
    )
    return value if isinstance(value, str) and value.startswith("pi_") else None


def checkout_payment(services: Services, obj: object) -> str | None:
    """Why a Stripe payment that names no order is a Checkout sale's, or None.

    `obj` is a `payment_intent.succeeded` PaymentIntent or a `charge.succeeded` Charge.
    Its PaymentIntent is either settled already by the sale (its payment link), or, with
    `STRIPE_API_KEY`, Stripe names the Checkout Session it belongs to: that session's event
    books and settles it, under the same key.

    Raises:
        PermanentError, TransientError: asking Stripe failed (`bridge.sync.stripe.reads`).
        redis.RedisError: Redis is unreachable.
    """
    payment_intent = _payment_intent(obj)
    if payment_intent is None:
        return None
    plink = services.links.payment("stripe", payment_intent)
    if plink is not None and plink.order_reference.startswith("stripe:"):
        return f"payment {payment_intent} is settled by the sale {plink.order_reference}"
    if not stripe_reads.has_key(services.settings):
        return None
    sessions = stripe_reads.checkout_sessions(services.settings, payment_intent)
    found = next((s for s in sessions if s.get("mode") == "payment"), None)
    if found is None:
        return None
    return (
        f"payment {payment_intent} belongs to Checkout Session {found.get('id')}, which is "
        "booked and settled by its own checkout.session event"
    )


def sync_checkout(
    ctx: SyncContext, order: Order, payment: Payment | None, event_ref: str, parked: int
) -> Outcome:
    """Book the sale's invoice, then settle it with its payment (each step once).

    Raises:
        PermanentError: as `sync_order` / `sync_payment` (other currency, no product...).
        SageError: a call failed (classified by the caller).
    """
    booked = sync_order(ctx, order)
    if payment is None:
        return booked
    settled = sync_payment(ctx, payment, event_ref, parked)
    if isinstance(settled, Processed) and isinstance(booked, Processed):
        return Processed(f"{booked.detail}; {settled.detail}")
    return settled
