"""A refund or cancellation booked once as a closed and posted credit note.

Under the order's lock. `generateCreditNote` cannot carry a reference, so right after it
(while the credit note is still Pending) its `salesOrderNumber` is set to
`<order reference>:refund:<refund id>`. Recovery, when the generate step's intent marker
is set: a credit note of the invoice with that reference is adopted; failing that, a
Pending one without a refund reference whose lines are the planned ones (an attempt that
died between the two calls; no other worker can be crediting this order). What the credit
note API cannot express is recorded as "needs attention" (`bridge.sync.credit_plan`).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Refund
from bridge.store.links import OrderLink, RefundLink
from bridge.sync.context import SyncContext
from bridge.sync.credit_plan import CreditPlan, plan_credit
from bridge.sync.dispatch import Outcome, PermanentError, Processed
from bridge.sync.expiry import UNKNOWN_ORDER, links_may_have_expired
from bridge.sync.invoices import POSTED_STATES, ensure_invoice
from bridge.sync.notify import invoice_credited
from bridge.sync.payments import park
from bridge.sync.sage_documents import credit_notes_of, set_sales_order_number
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.models import SalesInvoice

GENERATE = "generate"
POST = "post"
NOTHING_TO_CREDIT = "nothingToCredit"


def note_reference(order_reference: str, refund_id: str) -> str:
    """The `salesOrderNumber` written on a refund's credit note."""
    return f"{order_reference}:refund:{refund_id}"[:250]


def _same_lines(note: SalesInvoice, plan: CreditPlan) -> bool:
    if plan.full:
        return True
    wanted: dict[str, Decimal] = {}
    for line in plan.lines:
        wanted[line.product_id] = wanted.get(line.product_id, Decimal(0)) + line.quantity
    got: dict[str, Decimal] = {}
    for note_line in note.lines:
        key = str(note_line.product_id)
        got[key] = got.get(key, Decimal(0)) + abs(note_line.total_quantity)
    return wanted == got


def earlier_note(
    ctx: SyncContext, invoice_id: str, ref: str, plan: CreditPlan
) -> SalesInvoice | None:
    """The credit note an earlier attempt made for this refund (module docstring).

    Raises:
        SageError: the look-up failed.
    """
    notes = credit_notes_of(ctx.sage, invoice_id)
    mine = next((n for n in notes if n.sales_order_number == ref), None)
    if mine is not None:
        return mine
    return next(
        (
            n
            for n in notes
            if n.status == "Pending"
            and ":refund:" not in (n.sales_order_number or "")
            and _same_lines(n, plan)
        ),
        None,
    )


def _generate(
    ctx: SyncContext, link: OrderLink, rlink: RefundLink, plan: CreditPlan, forgotten: bool
) -> bool:
    """Make (or find) the credit note; False when Sage has nothing left to credit.
    `forgotten`: the refund's link may have expired (`bridge.sync.expiry`): look first.

    Raises:
        SageError: a call failed (classified by the caller).
    """
    invoice_id = link.invoice_id or ""
    ref = note_reference(link.reference, rlink.refund_id)
    look = rlink.intended(GENERATE) or forgotten
    found = earlier_note(ctx, invoice_id, ref, plan) if look else None
    if found is not None:
        rlink.credit_note_id, rlink.status = found.id, found.status
        rlink.number = found.operational_number
        rlink.referenced = found.sales_order_number == ref
    else:
        ctx.check()
        rlink.intend(GENERATE, ctx.now())
        ctx.links.save_refund(rlink)
        try:
            rlink.credit_note_id = ctx.sage.generate_credit_note(invoice_id, plan.lines or None)
        except SageBusinessError as exc:
            if plan.full and NOTHING_TO_CREDIT in " ".join([*exc.keys, exc.message]):
                rlink.nothing_to_credit = True
                rlink.done(GENERATE)
                ctx.links.save_refund(rlink)
                return False
            raise
        rlink.status = "Pending"
    rlink.done(GENERATE)
    ctx.links.save_refund(rlink)
    return True


def _reference_and_post(ctx: SyncContext, link: OrderLink, rlink: RefundLink) -> None:
    note_id = rlink.credit_note_id or ""
    if rlink.intended(POST):
        current = ctx.sage.invoice(note_id)
        if current is None:
            raise PermanentError(f"credit note {note_id} of {link.reference} is no longer in Sage")
        rlink.status, rlink.number = current.status, current.operational_number
    if rlink.status == "Pending" and not rlink.referenced:
        ctx.check()
        reference = note_reference(link.reference, rlink.refund_id)
        # a credit note of an e-invoice is sent electronically too, with the same fields
        extra = link.einvoice.invoice_values() if link.einvoice else None
        set_sales_order_number(ctx.sage, note_id, reference, extra)
        rlink.referenced = True
        ctx.links.save_refund(rlink)
    if rlink.status in POSTED_STATES:
        return
    journal = ctx.sage.journal_by_code(ctx.settings.sales_journal_code)
    if journal is None:
        raise PermanentError(f"sales journal {ctx.settings.sales_journal_code!r} is not in Sage")
    ctx.check()
    rlink.intend(POST, ctx.now())
    ctx.links.save_refund(rlink)
    text = f"Avoir {link.number or ''} {link.reference} refund {rlink.refund_id}".strip()
    result = ctx.sage.close_and_post(note_id, journal.id, text[:200])
    rlink.status = "Posted"
    if result.closed is not None:
        rlink.number = result.closed.operational_number


def sync_refund(ctx: SyncContext, refund: Refund, event_ref: str, parked: int) -> Outcome:
    """Credit `refund` on its invoice once (see the module docstring).

    Raises:
        PermanentError: the credit note vanished, the journal is unknown.
        SageError: a call failed (classified by the caller).
    """
    rlink = ctx.links.refund(refund.provider, refund.provider_id)
    if rlink is not None and (rlink.nothing_to_credit or rlink.status in POSTED_STATES):
        return Processed(f"refund {refund.provider_id} already booked")
    link = ctx.links.order(refund.order_reference)
    if link is None or link.order is None:
        return park(ctx, refund.order_reference, event_ref, parked, UNKNOWN_ORDER)
    if link.invoice_id is None:
        if refund.full:
            link.cancelled = True
            ctx.links.save_order(link)
            return Processed(f"order {link.reference} cancelled before it was invoiced")
        return park(ctx, link.reference, event_ref, parked, "order not invoiced yet")
    if refund.provider_id in link.refunds:  # its own link expired, the order's did not
        return Processed(f"refund {refund.provider_id} already credited on {link.reference}")
    ensure_invoice(ctx, link)
    plan = plan_credit(link, refund)
    for item in plan.attention:
        ctx.needs_attention(item)
    if plan.empty:
        return Processed(
            f"refund {refund.provider_id}: {len(plan.attention)} item(s) need attention"
        )
    forgotten = rlink is None and links_may_have_expired(ctx, refund.date)
    rlink = rlink or RefundLink(
        provider=refund.provider, refund_id=refund.provider_id, order_reference=link.reference
    )
    if rlink.credit_note_id is None and not _generate(ctx, link, rlink, plan, forgotten):
        return Processed(f"refund {refund.provider_id}: nothing left to credit")
    _reference_and_post(ctx, link, rlink)
    return _record(ctx, link, rlink, refund, plan.amount)


def _record(
    ctx: SyncContext, link: OrderLink, rlink: RefundLink, refund: Refund, amount: Decimal
) -> Processed:
    invoice_credited(ctx, link, rlink.credit_note_id or "", rlink.number, amount)
    if refund.provider_id not in link.refunds:
        link.refunds.append(refund.provider_id)
        link.credited += amount
        ctx.links.save_order(link)
    rlink.credited = amount
    rlink.done(POST)
    ctx.links.save_refund(rlink)
    return Processed(f"refund {refund.provider_id} credited {amount} ({rlink.number})")
