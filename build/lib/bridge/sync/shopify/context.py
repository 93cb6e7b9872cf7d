"""What the Shopify handlers add to a translation besides the body: the webhook's API
version, and for a refund the booked order's flags, currencies and totals.

Every Shopify webhook names the API version it was built for (`X-Shopify-API-Version`).
The bridge reads every supported version's payloads alike (unknown fields are ignored), so
a version is never a reason to refuse an event; one outside the supported window is logged
as a warning, so a subscription left on an old version is noticed before Shopify retires it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bridge.models import Order
from bridge.store.events import EventRecord
from connectors.shopify.versions import VERSION_HEADER, version_status

log = logging.getLogger(__name__)


def shopify_api_version(event: EventRecord, today: dt.date | None = None) -> str | None:
    """The API version a Shopify event was sent in (None for other providers or when absent),
    logged at debug level, or as a warning when Shopify no longer (or not yet) supports it."""
    if event.provider != "shopify":
        return None
    version = event.headers.get(VERSION_HEADER)
    if version is None:
        return None
    status = version_status(version, today or dt.datetime.now(dt.UTC).date())
    level = logging.DEBUG if status == "supported" else logging.WARNING
    log.log(level, "shopify webhook %s sent in API version %s (%s)", event.ref, version, status)
    return version


def refund_context(order: Order) -> dict[str, Any]:
    """Translation context values for a refund of the booked `order`."""
    shown = order.presentment
    return {
        "taxes_included": order.taxes_included,
        "order_currency": order.currency,
        "order_total": order.total,
        "presentment_currency": shown.currency if shown else None,
        "presentment_total": shown.total if shown else None,
    }
