"""Backfill: what the providers say happened in a window, fed through the webhook path.

Webhooks are not the only source of truth (DESIGN.md 4): Shopify may deliver a day late or
never, Stripe keeps undelivered events for 30 days. The backfill reads the providers' APIs
and records what is missing as ordinary events in the ledger (`EventStore.record`, one
atomic call that records and queues), so the workers book them exactly as if the webhook
had come: same handlers, same idempotency, same exactly-once effects on Sage.

- Stripe: its event log lists the very objects webhooks deliver, under the same `evt_` ids,
  so each is recorded under its own id and the ledger recognises those already received.
- Shopify: read through the GraphQL Admin API (`connectors.shopify.orders`: paged, or a
  bulk operation for a large window), converted to the webhook bodies the workers read.
  The API has no delivery ids, so the backfill asks the bridge what is already
  booked instead. For each order updated in the window it feeds, under ids of its own
  (`backfill.order.<id>.<updated_at>`, `backfill.transaction.<id>`, `backfill.refund.<id>`,
  `backfill.cancel.<order id>`): the order (`orders/updated`) unless its invoice is
  posted, each successful sale or capture (`order_transactions/create`) not yet settled,
  each refund (`refunds/create`) without a credit note, and the cancellation
  (`orders/cancelled`) of a cancelled order not yet credited. The handlers are idempotent,
  so an event that was also delivered by webhook in the meantime changes nothing twice.

With `dry_run`, nothing is written: the counts say what would be queued.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bridge.services import Services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent, Provider
from bridge.sync.shopify.handlers import shopify_reference
from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.orders import OrderRecord, ShopifyOrders
from connectors.stripe import webhook as stripe_webhook
from connectors.stripe.api import StripeEvents

SOURCE_HEADER = "X-Bridge-Source"  # kept with each event the backfill records
PAYMENT_KINDS = frozenset({"sale", "capture"})
UNPAID = frozenset({"pending", "authorized", "voided", "expired"})  # no money was taken


@dataclass
class Tally:
    """What one provider's backfill saw and did."""

    pages: int = 0
    read: int = 0  # provider objects looked at (Stripe events; Shopify orders)
    queued: int = 0  # events recorded and queued (or that would be, in a dry run)
    known: int = 0  # already in the ledger, or already booked in Sage
    skipped: int = 0  # not identifiable (kept out of the ledger); see `problems`
    problems: list[str] = field(default_factory=list)  # why each skipped one was skipped

    def problem(self, text: str) -> None:
        self.skipped += 1
        self.problems.append(text)

    def line(self, provider: str) -> str:
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return (
            f"{provider}: page {self.pages}, {self.read} read, {self.queued} queued, "
            f"{self.known} already known{skipped}"
        )


Progress = Callable[[str], None]


class Backfill:
    """Feeds missing provider events into the ledger (see the module docstring)."""

    def __init__(
        self, services: Services, *, dry_run: bool = False, progress: Progress | None = None
    ) -> None:
        self._services = services
        self._events = services.events
        self._links = services.links
        self._dry_run = dry_run
        self._progress = progress or (lambda _: None)

    def stripe(self, api: StripeEvents, since: dt.datetime, until: dt.datetime) -> Tally:
        """Record every event of a type the bridge acts on, created in [since, until).

        Raises:
            ProviderApiError: Stripe refused or stayed unavailable (what was fed stays fed).
            redis.RedisError: Redis is unreachable.
        """
        tally = Tally()
        for page in api.pages(since, until, stripe_webhook.TOPICS):
            tally.pages += 1
            for event in page:
                tally.read += 1
                try:
                    envelope = stripe_webhook.parse_envelope(event)
                except ValueError as exc:
                    tally.problem(f"stripe event {event.get('id')!r}: {exc}")
                    continue
                body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
                self._feed(tally, "stripe", envelope.id, envelope.type, body, {})
            self._progress(tally.line("stripe"))
        return tally

    def shopify(self, api: ShopifyOrders, since: dt.datetime, until: dt.datetime) -> Tally:
        """Feed what is missing of every order updated in [since, until].

        Raises:
            ProviderApiError: Shopify refused or stayed unavailable (what was fed stays fed).
            redis.RedisError: Redis is unreachable.
        """
        tally = Tally()
        for page in api.pages(since, until):
            tally.pages += 1
            for record in page:
                tally.read += 1
                for topic, provider_id, payload in self._shopify_missing(api, record, tally):
                    headers = {
                        "X-Shopify-Topic": topic,
                        "X-Shopify-Shop-Domain": api.shop_domain,
                        "X-Shopify-API-Version": api.api_version,
                    }
                    body = json.dumps(payload, ensure_ascii=False)
                    self._feed(tally, "shopify", provider_id, topic, body, headers)
            self._progress(tally.line("shopify"))
        return tally

    def read(self, reader: Reader, since: dt.datetime, until: dt.datetime) -> Tally:
        """Backfill from one provider's reader (see `stripe` and `shopify`)."""
        if isinstance(reader, StripeEvents):
            return self.stripe(reader, since, until)
        return self.shopify(reader, since, until)

    def _shopify_missing(
        self, api: ShopifyOrders, record: OrderRecord, tally: Tally
    ) -> Iterator[tuple[str, str, Any]]:
        """(topic, provider id, payload) of each part of the order not booked yet.

        A part counts as booked (and in `tally.known`) once its link holds its result: a
        posted invoice, a settlement entry, a credit note (or nothing to credit). A refund
        is read from Shopify only when it is not booked.

        Raises:
            ProviderApiError: reading a refund failed.
        """
        order, order_id, links = record.order, record.id, self._links
        link = links.order(shopify_reference(api.shop_domain, order_id))
        if link is None or not link.posted:
            stamp = "".join(c for c in str(order.get("updated_at", "")) if c.isdigit())
            yield "orders/updated", f"backfill.order.{order_id}.{stamp or 0}", order
        else:
            tally.known += 1
        if order.get("financial_status") not in UNPAID:
            for tx in record.transactions:
                if tx.get("kind") in PAYMENT_KINDS and tx.get("status") == "success":
                    tx_id = str(tx.get("id"))
                    payment = links.payment("shopify", tx_id)
                    if payment is None or payment.entry_id is None:
                        yield "order_transactions/create", f"backfill.transaction.{tx_id}", tx
                    else:
                        tally.known += 1
        for refund_id, refund_gid in record.refunds:
            if self._credited(str(refund_id)):
                tally.known += 1
            else:
                body = api.refund(refund_gid, order_id)
                yield "refunds/create", f"backfill.refund.{refund_id}", body
        if order.get("cancelled_at"):
            if self._credited(f"cancel:{order_id}"):
                tally.known += 1
            else:
                yield "orders/cancelled", f"backfill.cancel.{order_id}", order

    def _credited(self, refund_id: str) -> bool:
        refund = self._links.refund("shopify", refund_id)
        return refund is not None and bool(refund.credit_note_id or refund.nothing_to_credit)

    def _feed(
        self,
        tally: Tally,
        provider: Provider,
        provider_id: str,
        topic: str,
        body: str,
        headers: dict[str, str],
    ) -> None:
        """Record one event (unless it is known); count what happened."""
        try:
            event = NewEvent(
                provider=provider,
                provider_id=provider_id,
                topic=topic,
                body=body,
                headers={**headers, SOURCE_HEADER: "backfill"},
                status=EventStatus.QUEUED,
            )
        except ValueError as exc:  # pydantic: an id the ledger cannot key
            tally.problem(f"{provider} {topic} {provider_id!r}: {exc}")
            return
        if self._dry_run:
            new = not self._services.redis.exists(self._events.event_key(event.ref))
        else:
            new = self._events.record(event)
        if new:
            tally.queued += 1
        else:
            tally.known += 1


Reader = StripeEvents | ShopifyOrders


def open_readers(settings: Settings, which: str = "all") -> dict[str, Reader]:
    """The API readers of `which` provider ("stripe", "shopify", or "all" configured ones).

    Raises:
        ValueError: the provider asked for (or, for "all", every one) lacks credentials;
            the message names the settings to set.
    """
    needs = {
        "stripe": "STRIPE_API_KEY",
        "shopify": "SHOPIFY_SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN",
    }
    readers: dict[str, Reader] = {}
    if which in ("all", "stripe") and settings.stripe_api_key:
        key = settings.stripe_api_key.get_secret_value()
        readers["stripe"] = StripeEvents(key, base_url=settings.stripe_api_url)
    shop, token = settings.shopify_shop_domain, settings.shopify_access_token
    if which in ("all", "shopify") and shop and token:
        api = ShopifyGraphQL(
            shop,
            token.get_secret_value(),
            api_version=settings.shopify_api_version,
            base_url=settings.shopify_api_url,
        )
        readers["shopify"] = ShopifyOrders(api, bulk_threshold=settings.shopify_bulk_threshold)
    if which != "all" and which not in readers:
        raise ValueError(f"backfilling {which} needs {needs[which]}")
    if not readers:
        stripe, shopify = needs["stripe"], needs["shopify"]
        raise ValueError(f"no provider API is configured: set {stripe}, or {shopify}")
    return readers


def parse_moment(text: str, now: dt.datetime) -> dt.datetime:
    """A window bound: an ISO 8601 date or date-time (UTC unless it says), or an age like
    `90m`, `48h`, `7d` (that long before `now`).

    Raises:
        ValueError: neither; the message shows the accepted forms.
    """
    text = text.strip()
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - dt.timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an ISO date or date-time (2026-11-20, "
            "2026-11-20T08:00:00+01:00) or an age (90m, 48h, 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
