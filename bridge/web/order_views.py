"""What the console shows about orders: words instead of keys, search and paging, and each
order's state (booked, failed, held, waiting) with the event that says why.

The order page is made of panels (`ORDER_PANELS`, templates included in order) fed by
context providers (`ORDER_CONTEXT`, each `(services, link) -> dict` merged into the page's
context): a feature adds a panel by appending one of each, without touching the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.models import Order
from bridge.ops.attention_guide import guidance, kind_label
from bridge.reports.facts import order_label
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.event_models import EventStatus, EventSummary
from bridge.store.links import LinkStore, OrderLink, PaymentLink, RefundLink
from bridge.store.order_events import OrderEvents

SCAN_PAGE = 500  # order links read per round trip while searching
SCAN_MAX = 20_000  # links a search looks through before offering "search older orders"
PROVIDERS = ("shopify", "stripe")

ContextProvider = Callable[[Services, OrderLink], dict[str, Any]]
ORDER_PANELS: list[str] = [
    "console/order/summary.html",
    "console/order/documents.html",
    "console/order/attention.html",
    "console/order/lines.html",
    "console/order/events.html",
]
ORDER_CONTEXT: list[ContextProvider] = []


@dataclass
class Problem:
    """The event that explains a failed or waiting order, and what to do about it."""

    event: EventSummary
    state: str  # failed / held / waiting
    todo: str


@dataclass
class OrderView:
    """One order in words: `#1007 · Jane Doe`, its date, amounts, Sage documents, state."""

    link: OrderLink
    label: str
    number: str
    customer: str | None
    date: dt.date | None
    currency: str
    due: Decimal  # still to pay on the invoice (its credit notes are documents of their own)
    state: str
    problem: Problem | None = None
    attention: list[AttentionItem] = field(default_factory=list)


def label_of(link: OrderLink | None, reference: str) -> str:
    """`#1007 · Jane Doe` for a known order, else the reference itself."""
    if link is None or link.order is None:
        return reference
    return order_label(link.order)


def matches(link: OrderLink, query: str) -> bool:
    """Whether `query` (lower case) is in the order's number, customer, references or
    Sage invoice number."""
    order: Order | None = link.order
    texts = [link.reference, link.number or "", link.invoice_id or ""]
    if order is not None:
        texts += [
            order.number,
            order.external_reference,
            order.source_number or "",
            order.provider_id,
        ]
        if order.customer is not None:
            c = order.customer
            texts += [c.name, c.email or "", c.company or ""]
    return any(query in text.lower() for text in texts)


def search_page(
    links: LinkStore, query: str, before: float | None, limit: int
) -> tuple[list[OrderLink], float | None]:
    """Orders newest change first (matching `query` when given), older than `before`; and
    the cursor of the next page (None on the last).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    wanted = query.strip().lower()
    if not wanted:
        page = links.order_page(before, limit)
        found = links.orders([ref for ref, _ in page])
        return found, (page[-1][1] if len(page) == limit else None)
    found, scanned, cursor = [], 0, before
    while scanned < SCAN_MAX:
        page = links.order_page(cursor, SCAN_PAGE)
        if not page:
            return found, None
        by_ref = {link.reference: link for link in links.orders([ref for ref, _ in page])}
        for ref, score in page:
            scanned, cursor = scanned + 1, score
            link = by_ref.get(ref)
            if link is not None and matches(link, wanted):
                found.append(link)
                if len(found) == limit:
                    return found, score
        if len(page) < SCAN_PAGE:
            return found, None
    return found, cursor


def _problem(summaries: list[EventSummary]) -> Problem | None:
    for event in summaries:
        if event.status is EventStatus.FAILED:
            todo = (
                "Fix what the error names (a mapping, a product or customer in Sage, "
                "a setting), then press Replay: the event is booked once."
            )
            return Problem(event, "failed", todo)
    for event in summaries:
        if event.status is EventStatus.PARKED:
            held = "Sage" in (event.error or "") or "circuit" in (event.error or "")
            todo = (
                "Nothing to do here: it goes on by itself when what it waits for "
                "arrives (see the banner or the error)."
            )
            return Problem(event, "held" if held else "waiting", todo)
    for event in summaries:
        if event.status in (EventStatus.QUEUED, EventStatus.PROCESSING):
            todo = (
                "It is being processed. If it stays queued, see the overview: the "
                "doctor holds processing while the mapping names something Sage lacks."
            )
            return Problem(event, "waiting", todo)
    return None


def _state(link: OrderLink, problem: Problem | None, attention: list[AttentionItem]) -> str:
    if problem is not None:
        return problem.state
    if link.cancelled and link.invoice_id is None:
        return "cancelled"
    if link.invoice_id is None:
        return "not invoiced"
    return "attention" if attention else "booked"


def summaries(services: Services, refs: list[str]) -> dict[str, EventSummary]:
    """The ledger summaries of `refs` that still exist, one round trip.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    fields = (
        "ref",
        "provider",
        "provider_id",
        "topic",
        "status",
        "received_at",
        "updated_at",
        "error",
    )
    with services.redis.pipeline(transaction=False) as pipe:
        for ref in refs:
            pipe.hmget(services.events.event_key(ref), fields)
        rows = pipe.execute()
    found = {}
    for ref, row in zip(refs, rows, strict=True):
        if row[0] is not None:
            found[ref] = EventSummary.model_validate(dict(zip(fields, row, strict=True)))
    return found


def views_of(services: Services, found: list[OrderLink]) -> dict[str, OrderView]:
    """The view of each order of a page (three round trips for the whole page).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    refs = OrderEvents(services.redis, services.settings).refs_of_many(
        [link.reference for link in found]
    )
    events = summaries(services, sorted({r for page in refs.values() for r in page}))
    open_items: dict[str, list[AttentionItem]] = {}
    for item in services.attention.items(limit=10_000):
        if item.order_reference:
            open_items.setdefault(item.order_reference, []).append(item)
    views = {}
    for link in found:
        listed = [events[r] for r in refs[link.reference] if r in events]
        views[link.reference] = _view(link, listed, open_items.get(link.reference, []))
    return views


def _view(link: OrderLink, events: list[EventSummary], items: list[AttentionItem]) -> OrderView:
    order = link.order
    problem = _problem(events)
    total = link.order_total
    return OrderView(
        link=link,
        label=label_of(link, link.reference),
        number=(order.external_reference or order.number) if order else link.reference,
        customer=order.customer.name if order and order.customer else None,
        date=order.date if order else None,
        currency=order.currency if order else "",
        due=max(total - link.paid, Decimal(0)),
        state=_state(link, problem, items),
        problem=problem,
        attention=items,
    )


def _first(read: Callable[[str, str], Any], item_id: str) -> Any:
    return next((found for p in PROVIDERS if (found := read(p, item_id)) is not None), None)


def order_context(services: Services, link: OrderLink) -> dict[str, Any]:
    """Everything the order page's own panels show.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    refs = OrderEvents(services.redis, services.settings).refs(link.reference)
    events = summaries(services, refs)
    listed = [events[r] for r in refs if r in events]
    store = services.attention
    items = [
        i
        for i in store.items(limit=10_000, include_resolved=True)
        if i.order_reference == link.reference
    ]
    ids = [i.id for i in items]
    payments: list[PaymentLink] = [
        p for p in (_first(services.links.payment, x) for x in link.payments) if p
    ]
    refunds: list[RefundLink] = [
        r for r in (_first(services.links.refund, x) for x in link.refunds) if r
    ]
    resolved = store.resolved_at(ids)
    open_items = [i for i in items if i.id not in resolved]
    return {
        "view": _view(link, listed, open_items),
        "events": listed,
        "payments": payments,
        "refunds": refunds,
        "items": items,
        "resolved": resolved,
        "notes": store.notes(ids),
        "guides": {i.id: guidance(i, link, services.settings) for i in items},
        "kind_label": kind_label,
    }
