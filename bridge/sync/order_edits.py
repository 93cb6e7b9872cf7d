"""Order edits after the invoice: supplementary invoices and credit notes, exactly once.

Under the order's lock. An edit before the invoice exists needs nothing here: the order's
update changes the snapshot, and so what is invoiced. After it, the invoice stays as
posted and each edit adds documents to the order's chain (`bridge.sync.edit_plan`):

1. `orders/edited` records the edit on the order's link; `orders/updated` records the
   order as it now is (`OrderLink.current`). Whichever comes second books the edit.
2. Every pending edit is planned; the one rule is checked before anything is posted: the
   documents (invoice + supplementary invoices - their credit notes) must add up to the
   order's current total to the cent. When they do not, nothing is posted and an
   `order_changed` item names both amounts (a change the bridge cannot express: a new
   discount, a price changed); it is resolved when a later edit makes the chain add up.
3. The supplementary invoice is an order link of its own (`<ref>:edit:<edit id>`), made
   and posted by `ensure_invoice` (its intent markers and reference make it once); the
   removals are credited by `sync_refund` under the refund id `edit:<edit id>`.
4. Payments then settle the chain's open items oldest first (`bridge.sync.chain`).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import OrderEdit, Refund
from bridge.store.attention import AttentionItem
from bridge.store.links import ChainDocument, OrderLink
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Outcome, PermanentError, Processed
from bridge.sync.edit_plan import EditNotPlanned, EditPlan, plan_edit
from bridge.sync.expiry import UNKNOWN_ORDER
from bridge.sync.invoices import ensure_invoice
from bridge.sync.payments import park
from bridge.sync.refunds import sync_refund

CHANGED = "order_changed"


def chain_total(link: OrderLink) -> Decimal:
    """What the order's booked documents add up to (its invoice and the booked edits')."""
    booked = link.order_total
    done = set(link.edits_booked)
    return booked + sum((d.total for d in link.chain if d.edit_id in done), Decimal(0))


def changed_item(link: OrderLink, total: Decimal, reason: str, source: str) -> AttentionItem:
    """The attention item of an order whose documents do not add up to its total."""
    order = link.current or link.order
    return AttentionItem(
        id=f"{CHANGED}:{link.reference}:{total}",
        kind=CHANGED,
        order_reference=link.reference,
        amount=total - chain_total(link),
        currency=order.currency if order else None,
        reason=reason,
        source=source,
    )


def _resolve_changed(ctx: SyncContext, link: OrderLink) -> None:
    for item in ctx.attention.for_order(link.reference):
        if item.kind == CHANGED:
            ctx.attention.resolve(item.id)


def _book(ctx: SyncContext, link: OrderLink, plan: EditPlan) -> OrderLink:
    """Post the plan's documents and mark the edit booked; returns the fresh order link.

    Raises:
        PermanentError, SageError: as `ensure_invoice` / `sync_refund`.
    """
    edit_id = plan.edit.provider_id
    if plan.invoice is not None:
        ref = plan.invoice.reference
        doc = ctx.links.order(ref) or OrderLink(reference=ref, order=plan.invoice)
        ensure_invoice(ctx, doc)
        if not any(d.reference == ref for d in link.chain):
            link.chain.append(ChainDocument(kind="edit_invoice", edit_id=edit_id, reference=ref,
                                            total=plan.invoice.total))  # fmt: skip
            ctx.links.save_order(link)
    if plan.credit is not None:
        outcome = sync_refund(ctx, plan.credit, "", 0)
        if not isinstance(outcome, Processed):
            raise PermanentError(f"edit {edit_id}: its credit note waits: {outcome}")
        link = ctx.links.order(link.reference) or link  # sync_refund saved it
        if not any(d.reference == plan.credit.provider_id for d in link.chain):
            link.chain.append(ChainDocument(kind="edit_credit_note", edit_id=edit_id,
                                            reference=plan.credit.provider_id,
                                            total=-plan.credited))  # fmt: skip
    link.edits_booked.append(edit_id)
    ctx.links.save_order(link)
    return link


def apply_edits(ctx: SyncContext, link: OrderLink) -> str:
    """Book the pending edits of an invoiced order (module docstring); what it did, or
    why it waits ("" when nothing is pending).

    Raises:
        PermanentError: an edit cannot be expressed (a removed line not on the invoice).
        SageError: a call failed (classified by the caller).
    """
    pending = [e for e in link.edits if e.provider_id not in link.edits_booked]
    invoiced, current = link.order, link.current
    if not pending or invoiced is None:
        return ""
    if current is None:
        return f"edit {pending[0].provider_id} recorded; waiting for the order's update"
    try:
        plans = [plan_edit(invoiced, current, e, link.reference) for e in pending]
    except EditNotPlanned as exc:
        if exc.waiting:
            return exc.reason
        raise PermanentError(exc.reason) from exc
    planned = chain_total(link) + sum((p.change for p in plans), Decimal(0))
    if planned != current.total:
        reason = (
            f"order {link.reference}: its edits would make its documents add up to {planned} "
            f"{current.currency}, but its total is {current.total}: nothing posted (a change "
            "of discount or price the bridge cannot express); book the difference by hand"
        )
        ctx.needs_attention(changed_item(link, current.total, reason, pending[-1].provider_id))
        return reason
    for plan in plans:
        link = _book(ctx, link, plan)
    _resolve_changed(ctx, link)
    return f"edits {', '.join(p.edit.provider_id for p in plans)} booked"


def sync_order_edit(ctx: SyncContext, edit: OrderEdit, event_ref: str, parked: int) -> Outcome:
    """Record `edit` on its order and book it when it can be (module docstring).

    Raises:
        PermanentError, SageError: as `apply_edits`.
    """
    link = ctx.links.order(edit.order_reference)
    if link is None or link.order is None:
        return park(ctx, edit.order_reference, event_ref, parked, UNKNOWN_ORDER)
    if link.invoice_id is None:
        return Processed(f"edit {edit.provider_id} before the invoice: the order's update "
                         "changes what is invoiced")  # fmt: skip
    if not any(e.provider_id == edit.provider_id for e in link.edits):
        link.edits.append(edit)
        ctx.links.save_order(link)
    done = apply_edits(ctx, link)
    return Processed(done or f"edit {edit.provider_id} already booked")


def refund_target(ctx: SyncContext, refund: Refund) -> Refund:
    """`refund` addressed to the supplementary invoice that holds its lines, when every
    line it names was added by one edit (a returned item added after the invoice); else
    unchanged (the order's invoice is credited, or the refund refused with its reason).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    link = ctx.links.order(refund.order_reference)
    wanted = {x.provider_line_id for x in refund.lines}
    if link is None or not link.chain or not wanted or None in wanted:
        return refund
    invoiced = {x.provider_line_id for x in link.order.lines} if link.order else set()
    if wanted & invoiced:
        return refund
    for doc in link.chain:
        edit = ctx.links.order(doc.reference) if doc.kind == "edit_invoice" else None
        lines = {x.provider_line_id for x in edit.order.lines} if edit and edit.order else set()
        if wanted <= lines:
            return refund.model_copy(update={"order_reference": doc.reference})
    return refund
