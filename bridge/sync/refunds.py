"""A refund or cancellation booked once as a closed and posted credit note, to the cent.

Under the order's lock. The credit note is planned from the invoice as Sage holds it
(`bridge.sync.credit_plan`: quantities, amounts credited pro rata by VAT rate, what is
left to credit); a refund that cannot be credited exactly (more than is left, a line not
on the invoice) books nothing: one attention item, the event fails with the reason.
`generateCreditNote` cannot carry a reference, so right after it (while the credit note
is still Pending) its `salesOrderNumber` is set to `<order reference>:refund:<refund id>`;
that update answers the draft as Sage computed it, which must come to the planned figures
before it is posted (`bridge.sync.totals`: else it is deleted, nothing is posted).
Recovery, when the generate step's intent marker is set: a credit note of the invoice
with that reference is adopted; failing that, a Pending one without a refund reference
that comes to the planned total (an attempt that died between the two calls; no other
worker can be crediting this order).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Refund
from bridge.store.attention import AttentionItem
from bridge.store.links import OrderLink, RefundLink
from bridge.sync.context import SyncContext
from bridge.sync.credit_plan import CreditPlan, CreditRefused, full_plan, plan_credit
from bridge.sync.dispatch import Outcome, PermanentError, Processed
from bridge.sync.expiry import UNKNOWN_ORDER, links_may_have_expired
from bridge.sync.invoices import POSTED_STATES, ensure_invoice
from bridge.sync.notify import invoice_credited
from bridge.sync.payments import park
from bridge.sync.sage_documents import credit_notes_of, delete_document, set_sales_order_number
from bridge.sync.totals import Figures, TotalMismatch, enforce
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.models import SalesInvoice

GENERATE = "generate"
POST = "post"
NOTHING_TO_CREDIT = "nothingToCredit"


def note_reference(order_reference: str, refund_id: str) -> str:
    """The `salesOrderNumber` written on a refund's credit note."""
    return f"{order_reference}:refund:{refund_id}"[:250]


def earlier_note(
    ctx: SyncContext, invoice_id: str, ref: str, planned: Decimal | None
) -> SalesInvoice | None:
    """The credit note an earlier attempt made for this refund (module docstring).

    Raises:
        SageError: the look-up failed.
    """
    notes = credit_notes_of(ctx.sage, invoice_id)
    mine = next((n for n in notes if n.sales_order_number == ref), None)
    if mine is not None or planned is None:
        return mine
    return next(
        (
            n
            for n in notes
            if n.status == "Pending"
            and ":refund:" not in (n.sales_order_number or "")
            and n.total_liquid == -planned
        ),
        None,
    )


def _adopt(rlink: RefundLink, found: SalesInvoice, ref: str) -> None:
    rlink.credit_note_id, rlink.status = found.id, found.status
    rlink.number = found.operational_number
    rlink.referenced = found.sales_order_number == ref
    if rlink.planned is None and found.total_liquid is not None:
        rlink.planned = -found.total_liquid  # posted already: what it credited


def refuse(ctx: SyncContext, link: OrderLink, refund: Refund, exc: CreditRefused) -> PermanentError:
    """One attention item for a refund that books nothing; the error to fail it with."""
    reason = f"refund {refund.provider_id} not booked: {exc}"
    ctx.needs_attention(
        AttentionItem(
            id=f"{exc.kind}:{refund.provider}:{refund.provider_id}",
            kind=exc.kind,
            order_reference=link.reference,
            amount=refund.credit_total,
            currency=refund.currency or (link.order.currency if link.order else None),
            reason=reason,
            source=refund.provider_id,
        )
    )
    return PermanentError(reason)


def _plan(ctx: SyncContext, link: OrderLink, refund: Refund) -> CreditPlan:
    """The credit note to make, from the invoice as Sage holds it.

    Raises:
        PermanentError: the invoice vanished, or the refund cannot be credited exactly.
        SageError: the read failed.
    """
    invoice = ctx.sage.invoice(link.invoice_id or "")
    if invoice is None:
        raise PermanentError(f"invoice {link.invoice_id} of {link.reference} is not in Sage")
    try:
        return full_plan(invoice) if refund.full else plan_credit(link, invoice, refund)
    except CreditRefused as exc:
        raise refuse(ctx, link, refund, exc) from exc


def _generate(
    ctx: SyncContext, link: OrderLink, rlink: RefundLink, refund: Refund, forgotten: bool
) -> str | None:
    """Make (or find) the credit note; None when done, else why nothing is credited.
    `forgotten`: the refund's link may have expired (`bridge.sync.expiry`): look first.

    Raises:
        PermanentError: as `_plan`.
        SageError: a call failed (classified by the caller).
    """
    invoice_id = link.invoice_id or ""
    ref = note_reference(link.reference, rlink.refund_id)
    look = rlink.intended(GENERATE) or forgotten
    found = earlier_note(ctx, invoice_id, ref, rlink.planned) if look else None
    if found is not None and found.status == "Pending" and rlink.planned is None:
        ctx.check()  # a draft of a forgotten attempt, whose plan is lost: start again
        delete_document(ctx.sage, found.id)
        found = None
    if found is not None:
        _adopt(rlink, found, ref)
    else:
        plan = _plan(ctx, link, refund)
        if plan.empty or plan.amount == 0:
            return "nothing to credit"
        rlink.planned, rlink.planned_vat = plan.amount, plan.vat
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
                return "nothing left to credit"
            raise
        rlink.status = "Pending"
    rlink.done(GENERATE)
    ctx.links.save_refund(rlink)
    return None


def _check(ctx: SyncContext, link: OrderLink, rlink: RefundLink, doc: SalesInvoice) -> None:
    """The draft must come to the planned figures (`bridge.sync.totals`).

    Raises:
        TotalMismatch: it does not; a Pending draft was deleted and the link forgets it.
    """
    expected = Figures(rlink.planned or Decimal(0), rlink.planned_vat).negated()
    try:
        enforce(
            ctx,
            doc,
            expected,
            what=f"credit note of refund {rlink.refund_id}",
            order_reference=link.reference,
            source=rlink.refund_id,
            currency=link.order.currency if link.order else None,
        )
    except TotalMismatch:
        if doc.status == "Pending":
            rlink.credit_note_id, rlink.status, rlink.referenced = None, None, False
            rlink.intents = {}
            ctx.links.save_refund(rlink)
        raise


def _reference_and_post(ctx: SyncContext, link: OrderLink, rlink: RefundLink) -> None:
    note_id = rlink.credit_note_id or ""
    doc: SalesInvoice | None = None
    if rlink.intended(POST):
        doc = ctx.sage.invoice(note_id)
        if doc is None:
            raise PermanentError(f"credit note {note_id} of {link.reference} is no longer in Sage")
        rlink.status, rlink.number = doc.status, doc.operational_number
    if rlink.status == "Pending" and not rlink.referenced:
        ctx.check()
        ref = note_reference(link.reference, rlink.refund_id)
        # a credit note of an e-invoice is sent electronically too, with the same fields
        extra = link.einvoice.invoice_values() if link.einvoice else None
        doc = set_sales_order_number(ctx.sage, note_id, ref, extra)
        rlink.referenced = True
        ctx.links.save_refund(rlink)
    if rlink.status in POSTED_STATES:
        return
    doc = doc or ctx.sage.invoice(note_id)
    if doc is None:
        raise PermanentError(f"credit note {note_id} of {link.reference} is no longer in Sage")
    _check(ctx, link, rlink, doc)
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
    forgotten = rlink is None and links_may_have_expired(ctx, refund.date)
    rlink = rlink or RefundLink(
        provider=refund.provider, refund_id=refund.provider_id, order_reference=link.reference
    )
    if rlink.credit_note_id is None:
        why = _generate(ctx, link, rlink, refund, forgotten)
        if why is not None:
            return Processed(f"refund {refund.provider_id}: {why}")
    _reference_and_post(ctx, link, rlink)
    return _record(ctx, link, rlink, refund, rlink.planned or Decimal(0))


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
