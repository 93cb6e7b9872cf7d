"""Payments that belong to nothing the bridge books, kept for a person and counted.

A Stripe account often takes money for more than the shop: another product, a manual
charge in the dashboard. Such a payment links to no order (no metadata, no invoice, no
invoice payment that booked it). It is not an error of the bridge: its event ends
`ignored` with the reason, an attention item of kind `unlinked_payment` lists it once
(`GET /admin/attention?kind=unlinked_payment`, the console), and
`bridge_unlinked_payments_total{provider}` counts it. It is not dead-lettered, not reported
to Sentry and not announced as `sync.failed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from bridge.services import Services
from bridge.store.attention import AttentionItem

KIND = "unlinked_payment"
METRIC = "bridge_unlinked_payments_total"


def item_id(provider: str, payment_id: str) -> str:
    """The attention item id of an unlinked payment (one item per payment)."""
    return f"{KIND}:{provider}:{payment_id}"


def record_unlinked(
    services: Services,
    *,
    provider: str,
    payment_id: str,
    amount: Decimal | None,
    currency: str | None,
    reason: str,
) -> bool:
    """List the payment for attention and count it (once per payment); True when new.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    new = services.attention.add(
        AttentionItem(
            id=item_id(provider, payment_id),
            kind=KIND,
            amount=amount,
            currency=currency,
            reason=reason,
            source=payment_id,
        )
    )
    if new:
        services.metrics.incr(METRIC, {"provider": provider})
    return new


def unlinked_among(services: Services, provider: str, payment_ids: Iterable[str]) -> str | None:
    """The first of `payment_ids` that was ignored as unlinked, or None.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    for payment_id in payment_ids:
        if services.attention.get(item_id(provider, payment_id)) is not None:
            return payment_id
    return None
