"""An order (or a Stripe Billing invoice): its snapshot recorded, its invoice made when due.

The snapshot is what later steps work from: invoicing on payment or on fulfilment, and
mapping refunds to lines. It follows the order's updates until the invoice is made, and
is frozen after: a posted invoice is not changed. An update after it is kept as the
order's `current` state, which books its edits (`orders/edited`) as supplementary
invoices and credit notes (`bridge.sync.order_edits`); a change that no edit explains and
that makes the order's documents differ from its total is recorded for attention.
"""

from __future__ import annotations

from bridge.models import Order
from bridge.settings import InvoiceMoment
from bridge.store.links import OrderLink
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Outcome, PermanentError, Processed
from bridge.sync.invoices import ensure_invoice
from bridge.sync.order_edits import apply_edits, chain_total, changed_item


def _due(ctx: SyncContext, link: OrderLink, order: Order) -> str | None:
    """Why the invoice is not due yet, or None when it is (a credit document, of negative
    total, is due at once: no payment or fulfilment will come for it)."""
    if order.total < 0:
        return None
    moment = ctx.settings.invoice_on
    if moment is InvoiceMoment.PAYMENT:
        return "the invoice is made when a payment arrives (BRIDGE_INVOICE_ON=payment)"
    if moment is InvoiceMoment.FULFILMENT and not order.fulfilled:
        return "the invoice is made on fulfilment (BRIDGE_INVOICE_ON=fulfilment)"
    return None


def _changed_after_invoicing(ctx: SyncContext, link: OrderLink, order: Order) -> str:
    """Keep the update as the order's current state and book the edits it completes;
    what was done (or "")."""
    if link.order is None:
        return ""
    if link.current != order and order != link.order:
        link.current = order
        ctx.links.save_order(link)
    done = apply_edits(ctx, link) if link.current is not None else ""
    booked = chain_total(link)
    if booked == order.total or done:
        return done
    reason = (
        f"order total changed from {booked} to {order.total} after invoice "
        f"{link.number or link.invoice_id} was made, and no order edit explains it (yet)"
    )
    ctx.needs_attention(changed_item(link, order.total, reason, order.provider_id))
    return ""


def _learn_presentment(ctx: SyncContext, link: OrderLink, order: Order) -> None:
    """Give an invoiced order's snapshot the presentment money it was recorded without (an
    order booked before the bridge kept it), so its Markets payments and refunds can be
    converted; only when the invoiced total is the same order's."""
    invoiced = link.order
    if invoiced is None or invoiced.presentment is not None or order.presentment is None:
        return
    if invoiced.total == order.total and invoiced.currency == order.currency:
        link.order = invoiced.model_copy(update={"presentment": order.presentment})
        ctx.links.save_order(link)


def sync_order(ctx: SyncContext, order: Order) -> Outcome:
    """Record the order and make its invoice when the configured moment has come.

    Raises:
        PermanentError: the order is not in the books' currency; no customer / product /
            journal can be used.
        SageError: a call failed (classified by the caller).
    """
    books = ctx.settings.shop_currency.upper()
    if order.currency.upper() != books:
        raise PermanentError(
            f"order {order.reference} is in {order.currency}, the books in {books} "
            "(BRIDGE_SHOP_CURRENCY): amounts are not converted, so it is not booked"
        )
    link = ctx.links.order(order.reference) or OrderLink(reference=order.reference)
    if link.invoice_id is not None:
        ensure_invoice(ctx, link)  # finishes a post an earlier attempt left undone
        edits = _changed_after_invoicing(ctx, link, order)
        link = ctx.links.order(order.reference) or link
        _learn_presentment(ctx, link, order)
        done = f"invoice {link.number or link.invoice_id} is {link.status}"
        return Processed(f"{done}; {edits}" if edits else done)
    link.order = order
    link.cancelled = link.cancelled or order.cancelled
    ctx.links.save_order(link)
    if link.cancelled:
        return Processed(f"order {order.reference} is cancelled: no invoice")
    waiting = _due(ctx, link, order)
    if waiting is not None:
        if ctx.settings.invoice_on is InvoiceMoment.PAYMENT:
            ctx.release_parked(order.reference)  # a payment that came first makes it now
        return Processed(waiting)
    ensure_invoice(ctx, link)
    return Processed(f"invoice {link.number or link.invoice_id} is {link.status}")
