"""Stripe payments in every API version: `invoice_payment.paid`, `payment_intent.succeeded`,
`charge.succeeded`.

Each becomes one settlement keyed by the PaymentIntent's id (else the Charge's), so the
three events for the same money settle it once, whichever comes first.

- `invoice_payment.paid` (from `2025-03-31.basil`) names its invoice: a payment of that
  invoice's order, parked until the invoice is booked if it comes first. An invoice paid in
  parts sends one per part, each its own settlement.
- A Charge / PaymentIntent is linked by its metadata, or by its `invoice` up to
  `2025-02-24.acacia`. From `basil` on it names no invoice: when the payment was already
  booked through its `invoice_payment.paid` (the payment link), it is that order's.
  Otherwise it may be an invoice's payment whose `invoice_payment.paid` is still on its
  way (Stripe does not promise order): it is parked, at most
  `BRIDGE_STRIPE_UNLINKED_PARKS` times (5 s, 15 s, 1 min...). Still linked to nothing
  after that, it belongs to nothing the bridge books (`bridge.sync.unlinked`): `ignored`.
  Should its `invoice_payment.paid` come later still, that books it (and resolves the
  attention item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.models import NotLinked
from bridge.money import from_minor_units
from bridge.services import Services
from bridge.store.events import EventRecord
from bridge.sync.dispatch import Ignored, Outcome, Parked, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.payments import park_delay
from bridge.sync.running import (
    event_body,
    handle,
    parked_before,
    run_translated,
    translation_context,
)
from bridge.sync.stripe.checkout import checkout_payment
from bridge.sync.unlinked import KIND, item_id, record_unlinked
from bridge.translate import translate


def _object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("data") if body.get("object") == "event" else None
    obj = data.get("object") if isinstance(data, Mapping) else body
    return obj if isinstance(obj, Mapping) else {}


def payment_key(obj: Mapping[str, Any]) -> str | None:
    """The settlement key of a PaymentIntent or Charge: the PaymentIntent's id, else the
    Charge's (as `bridge.translate.stripe.payment_from_stripe` gives)."""
    intent = obj.get("payment_intent") if obj.get("object") == "charge" else None
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    key = intent or obj.get("id")
    return key if isinstance(key, str) and key else None


def handle_stripe_payment(event: EventRecord, services: Services) -> Outcome:
    """`payment_intent.succeeded` / `charge.succeeded` (see the module docstring).

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = event_body(event)
        obj = _object(body)
        key = payment_key(obj)
        link = services.links.payment("stripe", key) if key else None
        found = link.order_reference if link is not None else None
        context = translation_context(event, services, order_reference=found)
        try:
            result = translate(event.provider, event.topic, body, context)
        except NotLinked as exc:
            sale = checkout_payment(services, obj)  # a Checkout sale's: its session books it
            if sale is not None:
                return Ignored(sale)
            return _unlinked(event, services, obj, key, str(exc))
        return run_translated(event, services, result)


def _unlinked(
    event: EventRecord,
    services: Services,
    obj: Mapping[str, Any],
    key: str | None,
    why: str,
) -> Outcome:
    parked = parked_before(event)
    if parked < services.settings.stripe_unlinked_parks:
        return Parked(
            park_delay(parked),
            f"{why}; it may be the payment of a Stripe invoice whose invoice_payment.paid is "
            f"still coming: waiting for it ({parked + 1} of "
            f"{services.settings.stripe_unlinked_parks})",
        )
    received = obj.get("amount_received" if obj.get("object") == "payment_intent" else "amount")
    currency = obj.get("currency")
    amount = None
    if isinstance(received, int) and isinstance(currency, str):
        amount = from_minor_units(received, currency)
    reason = f"{why}; no invoice payment claimed it: it belongs to nothing the bridge books"
    record_unlinked(
        services,
        provider="stripe",
        payment_id=key or event.provider_id,
        amount=amount,
        currency=currency.upper() if isinstance(currency, str) else None,
        reason=reason,
    )
    return Ignored(f"{reason} (listed as {KIND})")


def handle_invoice_payment(event: EventRecord, services: Services) -> Outcome:
    """`invoice_payment.paid`: a payment of the invoice it names (see the module docstring).
    When it books a payment that was ignored as unlinked (its invoice payment came after
    the parks ran out), that attention item is resolved: the money is booked after all.

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    outcome = handle(event, services)
    if isinstance(outcome, Processed):
        money = _object(event_body(event)).get("payment")
        money = money if isinstance(money, Mapping) else {}
        for field in ("payment_intent", "charge"):
            value = money.get(field)
            value = value.get("id") if isinstance(value, Mapping) else value
            if isinstance(value, str) and value:
                services.attention.resolve(item_id("stripe", value))
    return outcome


handler("stripe", "invoice_payment.paid")(handle_invoice_payment)
for _topic in ("payment_intent.succeeded", "charge.succeeded"):
    handler("stripe", _topic)(handle_stripe_payment)
