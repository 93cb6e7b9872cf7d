"""The worker's side of write-back: `bridge/mark_paid` events (see `bridge.poller.writeback`).

The event is recorded by the poller; here Shopify is called, under the order's lock so
that a payment being booked for the same order at the same moment is seen first.
"""

from __future__ import annotations

import json

from bridge.poller.writeback import (
    TOPIC,
    WriteBackRefused,
    WriteBackStore,
    WriteBackUnavailable,
    mark_paid,
    shopify_order_id,
)
from bridge.services import Services
from bridge.store.events import EventRecord
from bridge.sync.dispatch import (
    Ignored,
    Outcome,
    PermanentError,
    Processed,
    TransientError,
    handler,
)
from bridge.sync.errors import classified
from bridge.sync.locks import OrderLock
from connectors.shopify.graphql import ShopifyGraphQL

RETRY_IN = 60.0  # seconds before trying an unavailable Shopify again


@handler("shopify", TOPIC, internal=True)
def handle_mark_paid(event: EventRecord, services: Services) -> Outcome:
    """Mark the event's order paid in Shopify, once.

    Raises:
        PermanentError: not configured for it, or Shopify refused (replay once fixed).
        TransientError: Shopify or the order's lock is unavailable for now.
    """
    settings = services.settings
    try:
        reference = str(json.loads(event.body)["reference"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"{event.ref}: not a write-back body: {exc}") from exc
    if not settings.shopify_write_back:
        return Ignored("write-back is off (BRIDGE_SHOPIFY_WRITE_BACK)")
    token = settings.shopify_access_token
    if shopify_order_id(reference, settings.shopify_shop_domain) is None or token is None:
        raise PermanentError(
            f"{event.ref}: marking {reference} paid needs SHOPIFY_SHOP_DOMAIN (its shop) and "
            "SHOPIFY_ACCESS_TOKEN (scope write_orders)"
        )
    api = ShopifyGraphQL(
        settings.shopify_shop_domain or "",
        token.get_secret_value(),
        api_version=settings.shopify_api_version,
        base_url=settings.shopify_api_url,
        max_attempts=3,
    )
    store = WriteBackStore(services.redis, settings)
    lock = OrderLock(services.redis, settings.key("lock", "order", reference))
    try:
        with classified(f"shopify {event.topic} {event.ref}"), lock:
            return Processed(mark_paid(services, reference, api, store))
    except WriteBackRefused as exc:
        raise PermanentError(f"{event.ref}: {exc}") from exc
    except WriteBackUnavailable as exc:
        raise TransientError(f"{event.ref}: {exc}", retry_in=RETRY_IN) from exc
    finally:
        api.close()
