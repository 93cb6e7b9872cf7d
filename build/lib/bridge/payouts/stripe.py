"""Stripe payouts: the payout as Stripe has it now, its balance transactions as movements.

Balance transaction `type` -> `Kind` (anything else is not booked: needs attention):
charge, payment -> SALE; refund, payment_refund, refund_failure, payment_failure_refund ->
REFUND; adjustment whose `reporting_category` is dispute / dispute_reversal (or whose source
is a `du_` dispute) -> DISPUTE; stripe_fee, tax_fee, application_fee, application_fee_refund
-> FEE; payout_failure, payout_cancel -> RETURN; payout -> PAYOUT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from bridge.money import from_minor_units
from bridge.payouts.entry import Kind, Movement, PayoutFacts
from bridge.settings import Settings
from bridge.store.links import LinkStore
from connectors.stripe.payouts import BalanceTransaction, StripePayout, StripePayouts

PROCESSOR = "stripe"
TYPES: dict[str, Kind] = {
    "charge": Kind.SALE,
    "payment": Kind.SALE,
    "refund": Kind.REFUND,
    "payment_refund": Kind.REFUND,
    "refund_failure": Kind.REFUND,
    "payment_failure_refund": Kind.REFUND,
    "stripe_fee": Kind.FEE,
    "tax_fee": Kind.FEE,
    "application_fee": Kind.FEE,
    "application_fee_refund": Kind.FEE,
    "payout_failure": Kind.RETURN,
    "payout_cancel": Kind.RETURN,
    "payout": Kind.PAYOUT,
}
DISPUTE_CATEGORIES = frozenset({"dispute", "dispute_reversal"})


def open_payouts(settings: Settings) -> StripePayouts:
    """The Stripe payouts reader of the settings.

    Raises:
        ValueError: `STRIPE_API_KEY` is not set.
    """
    if settings.stripe_api_key is None:
        raise ValueError("STRIPE_API_KEY is needed to read a payout's balance transactions")
    return StripePayouts(
        settings.stripe_api_key.get_secret_value(), base_url=settings.stripe_api_url
    )


def facts(payout: StripePayout) -> PayoutFacts:
    moment = payout.arrival_date or payout.created or 0
    return PayoutFacts(
        processor=PROCESSOR,
        payout_id=payout.id,
        amount=from_minor_units(payout.amount, payout.currency),
        currency=payout.currency.upper(),
        date=dt.datetime.fromtimestamp(moment, dt.UTC).date(),
    )


def kind_of(txn: BalanceTransaction) -> Kind:
    if txn.type == "adjustment" and (
        txn.reporting_category in DISPUTE_CATEGORIES or (txn.source_id or "").startswith("du_")
    ):
        return Kind.DISPUTE
    return TYPES.get(txn.type, Kind.UNKNOWN)


def movement(txn: BalanceTransaction) -> Movement:
    """One balance transaction in major units; refunds and disputes carry the payment ids
    of their charge (`pi_... ch_...`) as the hint to their order."""
    kind = kind_of(txn)
    hint = None
    if kind in (Kind.REFUND, Kind.DISPUTE):
        ids = [txn.source_field("payment_intent"), txn.source_field("charge")]
        hint = " ".join(i for i in ids if i) or None
    return Movement(
        id=txn.id,
        type=txn.type,
        kind=kind,
        amount=from_minor_units(txn.amount, txn.currency),
        fee=from_minor_units(txn.fee, txn.currency),
        net=from_minor_units(txn.net, txn.currency),
        currency=txn.currency.upper(),
        converted=txn.exchange_rate is not None,
        hint=hint,
    )


def movements(api: StripePayouts, payout_id: str) -> Iterator[Movement]:
    """Streams the payout's transactions (all pages) as movements."""
    for txn in api.transactions(payout_id):
        yield movement(txn)


def order_finder(links: LinkStore) -> OrderFinder:
    return OrderFinder(links)


class OrderFinder:
    """hint (`pi_... ch_...`) -> the reference of the order whose payment it was."""

    def __init__(self, links: LinkStore) -> None:
        self._links = links

    def __call__(self, hint: str) -> str | None:
        for payment_id in hint.split():
            link = self._links.payment(PROCESSOR, payment_id)
            if link is not None:
                return link.order_reference
        return None
