"""Stripe API reads done while processing an event, with their errors classified.

Checkout line items, an invoice's credit notes and the Checkout Session of a PaymentIntent
are not in the webhooks: the sync reads them with `STRIPE_API_KEY`
(`connectors.stripe.checkout_api`). How a failure ends (`bridge.sync.errors.classified`):

| cause                                   | becomes                                       |
| --------------------------------------- | --------------------------------------------- |
| `STRIPE_API_KEY` not set                | `PermanentError` naming it (replay once set)  |
| key refused (401 / 403)                 | `PermanentError` naming it (replay once fixed) |
| Stripe unavailable (429 / 5xx / network) | `TransientError` (the event retries)          |
| any other refusal, malformed answer     | `PermanentError` with Stripe's message        |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bridge.settings import Settings
from bridge.sync.dispatch import PermanentError
from bridge.sync.errors import classified
from connectors.stripe.checkout_api import StripeObjects

T = TypeVar("T")


KEY_HINT = (
    "check STRIPE_API_KEY (it needs read access to Checkout Sessions, Invoices, Credit Notes "
    "and Events), then replay"
)


def has_key(settings: Settings) -> bool:
    """Whether `STRIPE_API_KEY` is configured."""
    return settings.stripe_api_key is not None and bool(settings.stripe_api_key.get_secret_value())


def read(settings: Settings, what: str, call: Callable[[StripeObjects], T]) -> T:
    """`call(api)` on a Stripe reader for `settings`, errors classified (module table).

    Raises:
        PermanentError: no key, a refused key, or another refusal.
        TransientError: Stripe is unavailable.
    """
    if settings.stripe_api_key is None or not has_key(settings):
        raise PermanentError(
            f"{what}: STRIPE_API_KEY is not set; the bridge reads it from Stripe's API (a "
            "restricted key with read access to Checkout Sessions, Invoices, Credit Notes "
            "and Events is enough): set it, then replay this event"
        )
    api = StripeObjects(
        settings.stripe_api_key.get_secret_value(), base_url=settings.stripe_api_url
    )
    try:
        with classified(what, auth_hint=KEY_HINT):
            return call(api)
    finally:
        api.close()


def line_items(settings: Settings, session_id: str) -> list[dict[str, Any]]:
    """Every line item of Checkout Session `session_id`.

    Raises:
        PermanentError, TransientError: as `read`.
    """
    what = f"reading the line items of Checkout Session {session_id}"
    return read(settings, what, lambda api: api.line_items(session_id))


def credit_notes(settings: Settings, invoice_id: str) -> list[dict[str, Any]]:
    """Every credit note of Stripe invoice `invoice_id`.

    Raises:
        PermanentError, TransientError: as `read`.
    """
    what = f"reading the credit notes of Stripe invoice {invoice_id}"
    return read(settings, what, lambda api: api.credit_notes(invoice_id))


def checkout_sessions(settings: Settings, payment_intent: str) -> list[dict[str, Any]]:
    """The Checkout Sessions of PaymentIntent `payment_intent`.

    Raises:
        PermanentError, TransientError: as `read`.
    """
    what = f"looking up the Checkout Session of {payment_intent}"
    return read(settings, what, lambda api: api.checkout_sessions(payment_intent))
