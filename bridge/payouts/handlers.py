"""Payout handlers (listed in `bridge.sync.dispatch.HANDLER_MODULES`).

Stripe `payout.paid` / `payout.reconciliation_completed` book the payout;
`payout.failed` / `payout.canceled` book it if it was not, then put its amount back from the
bank to the clearing account (the money returns to the Stripe balance and leaves again in a
later payout as a `payout_failure` / `payout_cancel` transaction). The payout is read again
from Stripe: the event may be old, and its transactions are only final once Stripe has
reconciled it. A payout still in transit is ignored (its `payout.paid` will come); a manual
payout (not itemised by Stripe) or a reversal payout needs attention.

Shopify Payments (`shopify_payments/payout`, fed by the reconciliation job, see
`bridge.payouts.shopify`): the payout in the body, its transactions read from Shopify.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from bridge.payouts import shopify as shopify_payouts
from bridge.payouts import stripe as stripe_payouts
from bridge.payouts.booking import PayoutJob, book_payout, fail_payout, mapping_wait
from bridge.payouts.entry import Movement
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.events import EventRecord
from bridge.sync.dispatch import (
    Ignored,
    Outcome,
    Parked,
    PermanentError,
    Processed,
    handler,
)
from bridge.sync.errors import classified
from connectors.stripe.payouts import StripePayout, StripePayouts

RECONCILING_PARK = 60.0  # seconds: Stripe is still itemising the payout
STRIPE_TOPICS = (
    "payout.paid",
    "payout.reconciliation_completed",
    "payout.failed",
    "payout.canceled",
)


def _object(event: EventRecord) -> dict[str, object]:
    try:
        body = json.loads(event.body)
    except json.JSONDecodeError as exc:
        raise PermanentError(f"{event.ref}: the body is not JSON: {exc}") from exc
    data = body.get("data") if isinstance(body, dict) else None
    obj = data.get("object") if isinstance(data, dict) else body
    if not isinstance(obj, dict) or not obj.get("id"):
        raise PermanentError(f"{event.ref}: no payout in the body")
    return obj


def _provider_errors(what: str, step: Callable[[], Outcome]) -> Outcome:
    with classified(what):
        return step()


def handle_stripe_payout(event: EventRecord, services: Services) -> Outcome:
    """Book (or un-book the bank line of) one Stripe payout.

    Raises:
        TransientError: Sage, Stripe or the lock may let it through later.
        PermanentError: no payout in the body, no API key, Sage refused the entry.
    """
    what = f"stripe {event.topic} {event.ref}"
    payout_id = str(_object(event)["id"])
    with classified(what):
        waiting = mapping_wait(services)
        if waiting is not None:
            return waiting
        try:
            api = stripe_payouts.open_payouts(services.settings)
        except ValueError as exc:
            raise PermanentError(f"{what}: {exc}") from exc
        try:
            return _provider_errors(what, lambda: _stripe_step(services, api, payout_id))
        finally:
            api.close()


def _stripe_step(services: Services, api: StripePayouts, payout_id: str) -> Outcome:
    payout = api.payout(payout_id)
    reversal = payout.original_payout is not None or payout.amount <= 0
    if reversal or (payout.status == "paid" and not payout.automatic):
        return _not_itemised(services, payout, reversal)
    if payout.status in ("pending", "in_transit"):
        return Ignored(f"payout {payout_id} is {payout.status}: booked when paid")
    if payout.status == "paid" and payout.reconciliation_status == "in_progress":
        return Parked(RECONCILING_PARK, f"payout {payout_id}: Stripe is still reconciling it")

    def moves() -> Iterator[Movement]:
        return stripe_payouts.movements(api, payout_id)

    job = PayoutJob(stripe_payouts.facts(payout), moves, stripe_payouts.OrderFinder(services.links))
    if payout.status in ("failed", "canceled"):
        return fail_payout(services, job)
    return book_payout(services, job)


def _not_itemised(services: Services, payout: StripePayout, reversal: bool) -> Outcome:
    facts = stripe_payouts.facts(payout)
    why = (
        "a payout reversal (money back from the bank to Stripe) is not booked automatically"
        if reversal
        else "a manual payout is not itemised by Stripe: book it by hand"
    )
    services.attention.add(
        AttentionItem(
            id=f"payout:stripe:{payout.id}",
            kind="payout",
            amount=facts.amount,
            currency=facts.currency,
            reason=f"payout {payout.id} ({facts.amount} {facts.currency}): {why}",
            source=payout.id,
        )
    )
    return Processed(f"payout {payout.id} needs attention: {why}")


def handle_shopify_payout(event: EventRecord, services: Services) -> Outcome:
    """Book (or un-book the bank line of) one Shopify Payments payout.

    Raises:
        TransientError, PermanentError: as `handle_stripe_payout`.
    """
    what = f"shopify {event.topic} {event.ref}"
    body = _object(event)
    with classified(what):
        waiting = mapping_wait(services)
        if waiting is not None:
            return waiting
        try:
            reader = shopify_payouts.open_reader(services.settings)
        except ValueError as exc:
            raise PermanentError(f"{what}: {exc}") from exc
        try:
            return _provider_errors(
                what, lambda: shopify_payouts.book(services, reader, body, event.headers)
            )
        finally:
            reader.close()


for _topic in STRIPE_TOPICS:
    handler("stripe", _topic)(handle_stripe_payout)
handler("shopify", shopify_payouts.TOPIC, internal=True)(handle_shopify_payout)
