"""An order's Sage invoice: created once, then closed and posted once.

Each step follows the exactly-once recipe (DESIGN.md 5), under the order's lock:
1. read the link; a recorded result means the step is done;
2. if the step's intent marker is set, an earlier attempt may have reached Sage: look
   there (`salesOrderNumber` for the invoice, the invoice's status for the post) and adopt
   what it finds; without a marker no attempt can have, so no look-up is spent;
3. set the marker, call Sage, record the result and clear the marker.
Outbound events are emitted before the result is recorded, with keys that make a repeat
harmless, so a crash between the two loses nothing.

Before it is recorded, the invoice as Sage computed it (the create's answer, or the
invoice adopted) must come to the order's total and VAT per rate (`bridge.sync.totals`):
else it is deleted while Pending and the event fails, nothing posted.

Numbering: `sage` (default) lets Sage number the invoice on close; `source` creates it with
the provider's number (Stripe's invoice number, else the order's name), which makes it
Closed at once; it is then posted.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.einvoice.routing import EInvoiceFields
from bridge.models import Order
from bridge.outbound.events import EventType
from bridge.settings import NumberingMode
from bridge.store.links import OrderLink
from bridge.sync.context import SyncContext
from bridge.sync.customers import resolve_customer
from bridge.sync.dispatch import PermanentError
from bridge.sync.einvoicing import plan_einvoice
from bridge.sync.expiry import links_may_have_expired
from bridge.sync.notify import invoice_event, observe_invoice
from bridge.sync.products import ProductPlan, resolve_products
from bridge.sync.taxes import check_foreign_taxes, fallback_products, plan_taxes
from bridge.sync.totals import Figures, enforce
from bridge.sync.walkins import home_country
from connectors.sage_active.models import SalesInvoice, SalesInvoiceInput, SalesInvoiceLineInput

CREATE = "create"
POST = "post"
POSTED_STATES = frozenset({"Posted", "PartiallyCollected", "Collected"})


def invoice_number(order: Order, numbering: NumberingMode) -> str | None:
    """The `operationalNumber` to create the invoice with; None lets Sage number it on close.

    An invoice its provider already numbered (a Stripe Billing invoice, sent to the
    customer under that number) keeps it in every mode: one sale, one invoice number.
    The `source` mode also keeps a Shopify order's number (`#1001`).
    """
    if order.source_number:
        return order.source_number[:50]
    if numbering is NumberingMode.SOURCE:
        return order.number[:50] or None
    return None


def invoice_input(
    order: Order,
    customer_id: str,
    product_ids: list[str],
    numbering: NumberingMode,
    mention: str | None = None,
    einvoice: EInvoiceFields | None = None,
) -> SalesInvoiceInput:
    """The `createSalesInvoice` values for `order` (references as DESIGN.md section 3), with
    the e-invoicing fields when it is sent electronically (`bridge.sync.einvoicing`)."""
    number = invoice_number(order, numbering)
    return SalesInvoiceInput(
        should_send_via_electronic_invoicing=True if einvoice else None,
        e_invoicing_address_type_customer=einvoice.address_type if einvoice else None,
        e_invoicing_address_customer=einvoice.address if einvoice else None,
        regulatory_billing_framework=einvoice.framework if einvoice else None,
        customer_id=customer_id,
        document_date=order.date,
        operational_number=number or None,
        sales_order_number=order.reference,
        external_reference=order.external_reference or None,
        special_mention=mention,
        lines=[
            SalesInvoiceLineInput(
                product_id=product_id,
                product_name=line.title[:2500],
                total_quantity=line.quantity,
                unit_price=line.unit_price,
                first_discount=line.discount_percent or None,
            )
            for line, product_id in zip(order.lines, product_ids, strict=True)
        ],
    )


def earlier_invoice(ctx: SyncContext, reference: str) -> SalesInvoice | None:
    """The invoice an earlier attempt created for `reference` (credit notes excluded).

    Raises:
        SageError: the look-up failed.
    """
    found = ctx.sage.invoices_by_sales_order_number(reference)
    return next((i for i in found if i.type != "CREDIT_NOTE"), None)


def order_figures(order: Order) -> Figures:
    """What the order's invoice must come to: the provider's total, VAT per rate."""
    vat: dict[Decimal, Decimal] = {}
    for line in order.lines:
        vat[line.vat_rate] = vat.get(line.vat_rate, Decimal(0)) + line.vat
    return Figures(order.total, vat)


def check_invoice(ctx: SyncContext, order: Order, document: SalesInvoice) -> None:
    """The total rule for an order's invoice (`bridge.sync.totals.enforce`).

    Raises:
        TotalMismatch: Sage's figures differ; a Pending draft was deleted.
    """
    if document.status in POSTED_STATES:
        return  # posted long ago (adopted after its link expired): nothing left to prevent
    enforce(
        ctx,
        document,
        order_figures(order),
        what=f"invoice of {order.reference}",
        order_reference=order.reference,
        source=order.provider_id,
        currency=order.currency,
    )


def _adopt(link: OrderLink, invoice: SalesInvoice) -> None:
    link.invoice_id = invoice.id
    link.status = invoice.status
    link.number = invoice.operational_number
    link.customer_id = invoice.customer_id or link.customer_id
    if invoice.lines and all(line.product_id for line in invoice.lines):
        link.line_products = [str(line.product_id) for line in invoice.lines]


def plan_lines(ctx: SyncContext, order: Order) -> tuple[ProductPlan, str | None]:
    """Each line's product by its sale kind (`bridge.sync.taxes`: OSS, intra-EU, export,
    domestic, under the organisation's legislation), and the invoice's legal mention.

    Raises:
        PermanentError: an unmapped OSS rate, a product not at its line's rate or on a
            domestic tax for a foreign rate.
        SageError: a look-up failed.
    """
    legislation = ctx.sage.legislation()
    home = home_country(legislation)
    taxes = plan_taxes(order, ctx.settings, home, legislation, ctx.links.redis)
    check_foreign_taxes(ctx.sage, taxes, ctx.settings)
    fallbacks = fallback_products(ctx.settings, legislation)
    return resolve_products(ctx, order.lines, taxes.codes, fallbacks), taxes.mention


def create_invoice(ctx: SyncContext, link: OrderLink, order: Order) -> None:
    """Create the order's invoice unless the link or Sage already has it.

    Raises:
        PermanentError: no customer or product can be used.
        SageError: a call failed (classified by the caller).
    """
    if link.invoice_id is not None:
        return
    look = link.intended(CREATE) or links_may_have_expired(ctx, order.date)
    earlier = earlier_invoice(ctx, order.reference) if look else None
    if earlier is not None:
        check_invoice(ctx, order, earlier)
        _adopt(link, earlier)
    else:
        customer_id = resolve_customer(ctx, order)
        plan, mention = plan_lines(ctx, order)
        party = order.customer
        # a BUSINESS customer of its own in Sage (not a walk-in customer: see customers.py)
        business = (
            party is not None and party.is_business and bool(party.provider_id or party.vat_number)
        )
        einvoice, note = plan_einvoice(ctx, order, business, plan.categories)
        values = invoice_input(
            order, customer_id, plan.ids, ctx.settings.numbering, mention, einvoice
        )
        link.customer_id, link.line_products = customer_id, plan.ids
        link.einvoice, link.einvoice_note = einvoice, note
        link.fallback_lines = plan.fallback_lines
        ctx.check()
        link.intend(CREATE, ctx.now())
        ctx.links.save_order(link)
        created = ctx.sage.create_invoice(values)
        status = "Closed" if values.operational_number else "Pending"
        check_invoice(ctx, order, created.as_invoice(status))
        link.invoice_id = created.id
        link.number = created.operational_number
        link.status = created.status or ("Closed" if values.operational_number else "Pending")
    invoice_event(ctx, EventType.INVOICE_CREATED, link)
    link.done(CREATE)
    ctx.links.save_order(link)


def post_invoice(ctx: SyncContext, link: OrderLink, order: Order) -> None:
    """Close and post the link's invoice (one request) unless it is posted already.

    Raises:
        PermanentError: the invoice vanished from Sage, or the sales journal is unknown.
        SageError: a call failed (classified by the caller).
    """
    invoice_id = link.invoice_id
    if invoice_id is None or link.posted:
        return
    if link.intended(POST):
        current = ctx.sage.invoice(invoice_id)
        if current is None:
            raise PermanentError(f"invoice {invoice_id} of {link.reference} is no longer in Sage")
        link.status, link.number = current.status, current.operational_number
    if not link.posted:
        journal = ctx.sage.journal_by_code(ctx.settings.sales_journal_code)
        if journal is None:
            raise PermanentError(
                f"sales journal {ctx.settings.sales_journal_code!r} is not in Sage "
                "(BRIDGE_SALES_JOURNAL)"
            )
        ctx.check()
        link.intend(POST, ctx.now())
        ctx.links.save_order(link)
        description = f"{order.external_reference or order.number} {order.reference}"[:200]
        result = ctx.sage.close_and_post(invoice_id, journal.id, description)
        link.status = "Posted"
        if result.closed is not None:
            link.number = result.closed.operational_number
        elif link.number is None:
            current = ctx.sage.invoice(invoice_id)
            link.number = current.operational_number if current else None
    invoice_event(ctx, EventType.INVOICE_POSTED, link)
    observe_invoice(ctx, link, [])
    link.done(POST)
    ctx.links.save_order(link)


def ensure_invoice(ctx: SyncContext, link: OrderLink) -> None:
    """Create and post the invoice of `link.order`, then release the events waiting for it.

    Raises:
        PermanentError: see `create_invoice` / `post_invoice`; no order snapshot.
        SageError: a call failed (classified by the caller).
    """
    order = link.order
    if order is None:
        raise PermanentError(f"order {link.reference} is not known yet")
    create_invoice(ctx, link, order)
    post_invoice(ctx, link, order)
    ctx.release_parked(link.reference)
