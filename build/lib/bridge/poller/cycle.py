"""The poller: find what changed in Sage since the watermark and turn it into events.

One cycle asks Sage for the sales invoices whose `modificationDate` is at or after
`watermark - BRIDGE_POLL_OVERLAP`, oldest change first, 500 a page, walking every page. The
overlap catches changes Sage commits with a date a little older than the newest already
seen; what the overlap brings back twice is skipped by a seen-set of `(id, modificationDate)`
that forgets what falls out of the window. Each new change goes through
`bridge.poller.status.observe`, which emits the transition's events once. The watermark then moves
to the greatest `modificationDate` seen, page by page, so a cycle cut short resumes there.

Cost: an idle cycle is one request (the connector caches its token, and the query asks for
no count), as long as fewer than a page of invoices changed within the overlap window. A
change costs nothing more, except a PartiallyCollected invoice (its open items are fetched
to know the amounts) and a credit note of an invoice never seen (its source is fetched).

By default only the bridge's own invoices are watched (`salesOrderNumber` starting with
`shopify:` or `stripe:`); `BRIDGE_POLL_ALL=true` watches every invoice. On the first cycle
(no watermark yet) the poller starts from now minus the overlap: history is not replayed.

Order with the sync: while a worker holds an order's lock it is changing that order's
invoice and announcing each change itself, in order (`invoice.posted`, then
`payment.settled`, then `invoice.collected`...). A change the poller sees then is left
for the next cycle (not marked seen; the overlap brings it back): otherwise the poller
could announce `invoice.collected` before the worker's `payment.settled` for the payment
that collected it. By the next cycle the worker has recorded the status, and the poller
finds nothing new (or a change made in Sage meanwhile, which it announces).

Only one poller runs at a time: `poll_once` holds a lease lock (`SET NX PX` with a token,
renewed after each page, released only by its owner).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.poller.status import (
    BRIDGE_CREDIT_MARK,
    BRIDGE_REFERENCE_PREFIXES,
    CREDIT_NOTE,
    StatusParts,
    UnknownSourceInvoice,
    flush_pending,
    is_bridge_reference,
    observe,
)
from bridge.store.poller import PollerStore, stamp
from connectors.sage_active.models import SalesInvoice
from connectors.sage_active.operations import SageActive
from connectors.sage_active.pagination import MAX_PAGE_SIZE

log = logging.getLogger(__name__)

MIN_LEASE = 60.0  # seconds; renewed after each page, so a long cycle keeps its lock


class LockLost(RuntimeError):
    """The poller's lease expired and another poller took over: this cycle stopped."""


@dataclass
class CycleReport:
    """What one cycle did."""

    fetched: int = 0  # invoices Sage returned (overlap included)
    changes: int = 0  # of which new (not seen before)
    emitted: list[str] = field(default_factory=list)  # outbound event ids
    watermark: datetime | None = None


def watch_filter(poll_all: bool) -> dict[str, Any] | None:
    """The Sage `where` that limits polling to the bridge's invoices (None: all)."""
    if poll_all:
        return None
    return {"or": [{"salesOrderNumber": {"startsWith": p}} for p in BRIDGE_REFERENCE_PREFIXES]}


def order_reference(sales_order_number: str | None) -> str:
    """The order an invoice (or the bridge's credit note, `<order>:refund:<id>`) is of."""
    return (sales_order_number or "").split(BRIDGE_CREDIT_MARK, 1)[0]


def _pages(invoices: Iterable[SalesInvoice], size: int) -> Iterable[list[SalesInvoice]]:
    page: list[SalesInvoice] = []
    for invoice in invoices:
        page.append(invoice)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


class Poller:
    """One connection's poller over its parts and the Sage Active API."""

    def __init__(
        self,
        parts: StatusParts,
        sage: SageActive,
        *,
        clock: Callable[[], float] = time.time,
        page_size: int = MAX_PAGE_SIZE,
        on_collected: Callable[[SalesInvoice], object] | None = None,
    ) -> None:
        self.parts = parts
        self._on_collected = on_collected
        self.sage = sage
        self.store = PollerStore(parts.redis, parts.settings)
        self._clock = clock
        self._page_size = page_size
        self._overlap = timedelta(seconds=parts.settings.poll_overlap)

    def cycle(self, keep_alive: Callable[[], bool] | None = None) -> CycleReport:
        """Run one polling cycle; `keep_alive()` is called after each page (False: stop).

        Raises:
            LockLost: `keep_alive` said the lock is gone (what was done stays done).
            SageError: Sage failed (the watermark keeps what was fully handled).
            redis.RedisError: Redis is unreachable.
        """
        report = CycleReport(emitted=flush_pending(self.parts))
        watermark = self.store.watermark()
        now = datetime.fromtimestamp(self._clock(), UTC)
        since = (watermark or now) - self._overlap
        where = watch_filter(self.parts.settings.poll_all_invoices)
        changed = self.sage.invoices_changed_since(since, where=where, page_size=self._page_size)
        for page in _pages(changed, self._page_size):
            report.fetched += len(page)
            self._handle_page(page, since, report)
            if keep_alive is not None and not keep_alive():
                raise LockLost("the poller's lock expired during a cycle")
        if watermark is None:
            self.store.advance(now)  # first cycle: later ones start from here, not from now
        report.watermark = self.store.watermark()
        return report

    def _handle_page(self, page: list[SalesInvoice], since: datetime, report: CycleReport) -> None:
        keys = [(inv.id, self._mod(inv)) for inv in page]
        fresh = self.store.unseen(keys)
        busy = self._being_synced([inv for inv, new in zip(page, fresh, strict=True) if new])
        for invoice, is_new in zip(page, fresh, strict=True):
            if is_new and invoice.id not in busy:
                report.changes += 1
                report.emitted += self._observe(invoice)
        dated = [inv.modification_date for inv in page if inv.modification_date is not None]
        # scored by modificationDate: what falls below the query window is never returned
        # again, so it can be forgotten
        seen = [
            (inv.id, stamp(inv.modification_date), inv.modification_date.timestamp())
            for inv in page
            if inv.modification_date is not None and inv.id not in busy
        ]
        self.store.mark_seen(seen, floor=since.timestamp())
        if dated:
            self.store.advance(max(dated))

    def _being_synced(self, invoices: list[SalesInvoice]) -> set[str]:
        """Ids of the bridge's invoices whose order a worker is working on right now (its
        order lock is held): one pipelined round trip."""
        mine = [
            (inv.id, order_reference(inv.sales_order_number))
            for inv in invoices
            if is_bridge_reference(inv.sales_order_number)
        ]
        if not mine:
            return set()
        settings = self.parts.settings
        pipe = self.parts.redis.pipeline(transaction=False)
        for _, reference in mine:
            pipe.exists(settings.key("lock", "order", reference))
        held = pipe.execute()
        return {invoice_id for (invoice_id, _), locked in zip(mine, held, strict=True) if locked}

    @staticmethod
    def _mod(invoice: SalesInvoice) -> str:
        return stamp(invoice.modification_date) if invoice.modification_date else ""

    def _observe(self, invoice: SalesInvoice) -> list[str]:
        """Observe one changed invoice, fetching what its event needs (see module doc)."""
        if (
            invoice.status == "PartiallyCollected"
            and invoice.type != CREDIT_NOTE
            and not invoice.open_items
        ):
            items = self.sage.open_items(invoice.id)
            invoice = invoice.model_copy(update={"open_items": items})
        try:
            emitted = observe(self.parts, invoice)
            if self._on_collected is not None and invoice.status == "Collected":
                self._on_collected(invoice)  # records work for a worker: no outside call here
            return emitted
        except UnknownSourceInvoice:
            source_id = invoice.source_sales_invoice_id or ""
            source = self.sage.invoice(source_id)
            if source is None:
                log.warning("credit note %s: source %s not in Sage", invoice.id, source_id)
                return []
            return observe(self.parts, source) + observe(self.parts, invoice)


def poll_once(
    parts: StatusParts,
    sage: SageActive,
    on_collected: Callable[[SalesInvoice], object] | None = None,
) -> CycleReport | None:
    """Run one cycle under the poller's lease lock; None when another poller holds it.

    `on_collected(invoice)` is called for each newly seen Collected invoice (write-back:
    `bridge.poller.writeback.request_mark_paid`); it must be quick and idempotent.

    Raises:
        LockLost, SageError, redis.RedisError: as `Poller.cycle` (the lock is released).
    """
    poller = Poller(parts, sage, on_collected=on_collected)
    lease = max(MIN_LEASE, 3 * parts.settings.poll_interval)
    token = poller.store.acquire(lease)
    if token is None:
        return None
    try:
        return poller.cycle(keep_alive=lambda: poller.store.renew(token, lease))
    finally:
        poller.store.release(token)
