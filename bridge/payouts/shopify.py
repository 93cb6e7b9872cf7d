"""Shopify Payments payouts: no webhook, so the reconciliation job reads them (through
the GraphQL Admin API: `connectors.shopify.payouts.ShopifyPaymentsGraphQL`).

`feed_payouts` (called by `tasks.backfill.reconcile`) records each payout dated within the
reconcile window that is paid, failed or cancelled as an event `shopify:backfill.payout.<id>`
(`.failed` for a failed or cancelled one), topic `shopify_payments/payout`, in the ledger:
the ledger keeps one event per id and the worker books it through the same exactly-once
path as a Stripe payout. A payout already booked is counted as known and not fed again.

Balance transaction `type` -> `Kind`: charge -> SALE; refund -> REFUND; dispute -> DISPUTE;
payout_failure, payout_cancellation -> RETURN; payout -> PAYOUT; anything else (reserve,
adjustment, ...) needs attention. A refund or dispute finds its order by `source_order_id`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from bridge.payouts.booking import PayoutJob, book_payout, fail_payout
from bridge.payouts.entry import Kind, Movement, PayoutFacts
from bridge.payouts.store import PayoutStore
from bridge.services import Services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent
from bridge.sync.dispatch import Ignored, Outcome, PermanentError
from bridge.sync.running import SHOP_HEADER, canonical_shop
from bridge.sync.shopify.handlers import shopify_reference
from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.payouts import (
    PayoutReader,
    ShopifyBalanceTransaction,
    ShopifyPaymentsGraphQL,
    parse_payout,
)

PROCESSOR = "shopify_payments"
TOPIC = "shopify_payments/payout"
BOOKABLE = frozenset({"paid", "failed", "canceled"})
TYPES: dict[str, Kind] = {
    "charge": Kind.SALE,
    "refund": Kind.REFUND,
    "dispute": Kind.DISPUTE,
    "payout_failure": Kind.RETURN,
    "payout_cancellation": Kind.RETURN,
    "payout": Kind.PAYOUT,
}


def open_reader(settings: Settings) -> PayoutReader:
    """The Shopify Payments reader of the settings.

    Raises:
        ValueError: the shop's domain or access token is not set.
    """
    shop, token = settings.shopify_shop_domain, settings.shopify_access_token
    if not shop or token is None:
        raise ValueError("SHOPIFY_SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN are needed for payouts")
    api = ShopifyGraphQL(
        shop,
        token.get_secret_value(),
        api_version=settings.shopify_api_version,
        base_url=settings.shopify_api_url,
    )
    return ShopifyPaymentsGraphQL(api)


def movement(txn: ShopifyBalanceTransaction) -> Movement:
    kind = TYPES.get(txn.type, Kind.UNKNOWN)
    hint = str(txn.source_order_id) if kind in (Kind.REFUND, Kind.DISPUTE) else None
    return Movement(
        id=str(txn.id),
        type=txn.type,
        kind=kind,
        amount=txn.amount,
        fee=txn.fee,
        net=txn.net,
        currency=txn.currency.upper(),
        hint=hint if txn.source_order_id is not None else None,
    )


def book(
    services: Services, reader: PayoutReader, raw: Mapping[str, Any], headers: Mapping[str, str]
) -> Outcome:
    """Book the payout in `raw` (its transactions read through `reader`).

    Raises:
        PermanentError: the payout cannot be read.
        ProviderApiError, SageError, ...: as `booking.book_payout`.
    """
    try:
        payout = parse_payout(dict(raw))
    except ValidationError as exc:
        raise PermanentError(f"unreadable Shopify Payments payout: {exc}") from exc
    if payout.status not in BOOKABLE:
        return Ignored(f"payout {payout.id} is {payout.status}")
    shop = canonical_shop(headers, services.settings) or reader.shop_domain.lower()
    facts = PayoutFacts(
        processor=PROCESSOR,
        payout_id=str(payout.id),
        amount=payout.amount,
        currency=payout.currency.upper(),
        date=payout.date,
    )

    def moves() -> Iterator[Movement]:
        return (movement(txn) for txn in reader.transactions(payout.id))

    def order_of(hint: str) -> str:
        return shopify_reference(shop, hint)

    job = PayoutJob(facts, moves, order_of)
    if payout.status in ("failed", "canceled"):
        return fail_payout(services, job)
    return book_payout(services, job)


def feed_payouts(services: Services, reader: PayoutReader, since: dt.date) -> tuple[int, int]:
    """Record the payouts dated since `since` that are not booked yet; (queued, known).

    Raises:
        ProviderApiError: Shopify refused or stayed unavailable (what was fed stays fed).
        redis.RedisError: Redis is unreachable.
    """
    store = PayoutStore(services.redis, services.settings)
    queued = known = 0
    for raw in reader.payouts(since):
        status = str(raw.get("status"))
        if status not in BOOKABLE or raw.get("id") is None:
            continue
        link = store.get(PROCESSOR, str(raw["id"]))
        failed = status != "paid"
        if link is not None and link.entry_id and (not failed or link.failure_entry_id):
            known += 1
            continue
        suffix = ".failed" if failed else ""
        event = NewEvent(
            provider="shopify",
            provider_id=f"backfill.payout.{raw['id']}{suffix}",
            topic=TOPIC,
            body=json.dumps(raw, ensure_ascii=False),
            headers={SHOP_HEADER: reader.shop_domain, "X-Bridge-Source": "backfill"},
            status=EventStatus.QUEUED,
        )
        if services.events.record(event):
            queued += 1
        else:
            known += 1
    return queued, known
