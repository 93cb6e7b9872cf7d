"""The documents of one order, oldest first: its invoice, then the supplementary invoices
its edits added (`bridge.sync.order_edits`). A payment settles their open items in that
order (`bridge.sync.payments`), so an order edited after it was invoiced ends Collected
once it is paid in full.
"""

from __future__ import annotations

from bridge.store.links import OrderLink
from bridge.sync.context import SyncContext
from bridge.sync.notify import observe_invoice
from connectors.sage_active.models import OpenItem

Groups = list[tuple[OrderLink, list[OpenItem]]]


def chain_open_items(ctx: SyncContext, link: OrderLink) -> Groups:
    """The open items of the order's invoice, then of its supplementary invoices, oldest
    first (what a payment settles).

    Raises:
        SageError: a look-up failed.
    """
    groups = [(link, ctx.sage.open_items(link.invoice_id or ""))]
    for doc in link.chain:
        if doc.kind != "edit_invoice":
            continue
        edit = ctx.links.order(doc.reference)
        if edit is not None and edit.invoice_id is not None:
            groups.append((edit, ctx.sage.open_items(edit.invoice_id)))
    return groups


def record_chain_status(ctx: SyncContext, groups: Groups) -> None:
    """Give each supplementary invoice's link the status its open items show, and tell the
    poller's status machine (the order's own invoice is the caller's).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    for doc, items in groups[1:]:
        paid = [i.outstanding <= 0 for i in items if i.amount > 0]
        if not paid:
            continue
        doc.status = "Collected" if all(paid) else doc.status
        if not all(paid) and any(i.paid_amount_accumulated > 0 for i in items):
            doc.status = "PartiallyCollected"
        observe_invoice(ctx, doc, items)
        ctx.links.save_order(doc)
