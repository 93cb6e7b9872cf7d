"""Whether the links of a sale may have expired: then the sync looks in Sage before acting.

Links (`bridge.store.links`) expire `BRIDGE_LINK_RETENTION_DAYS` after their last write. A
link is first written when the bridge first hears of its order, payment or refund, which is
never before the day the provider dates it (`date`). So a sale dated within the retention
(less a margin of `MARGIN_DAYS` for time zones and documents dated after they were made)
cannot have lost its links: "no link" then means "never done", and no look-up is spent.
For an older one (a Shopify `orders/updated` on a two-year-old order, a very late refund),
"no link" may mean "done, then forgotten": each step looks in Sage by reference first, as
it does after an interrupted attempt, and adopts what it finds.
"""

from __future__ import annotations

import datetime as dt

from bridge.sync.context import SyncContext

MARGIN_DAYS = 30.0
# Why a payment or refund waits when its order has no link: never received, or forgotten.
UNKNOWN_ORDER = (
    "order not received yet (or unchanged for longer than BRIDGE_LINK_RETENTION_DAYS: "
    "it is booked once the order is sent again)"
)


def links_may_have_expired(ctx: SyncContext, day: dt.date) -> bool:
    """Whether a link written for something dated `day` may have expired by now (always
    True when the retention is no longer than the margin)."""
    horizon = ctx.settings.link_retention_days - MARGIN_DAYS
    if horizon <= 0:
        return True
    return day <= ctx.now().date() - dt.timedelta(days=horizon)
