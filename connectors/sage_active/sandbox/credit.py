"""Credit notes: a new Pending sales invoice of type CREDIT_NOTE with negative quantities.

Only Closed or posted invoices (Posted, PartiallyCollected, Collected) can be credited, and
never for more than each line's `availableForCreditNoteQuantity`. Each requested line
(reference 10-sales-actions: a product and a decimal quantity, the price taken from the
invoice) is a line of the credit note, rounded on its own; two requests for the same
invoice line are two lines. Deleting a credit note while it is Pending gives its
quantities back to the invoice's lines (`release`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import SalesInvoice, SalesInvoiceLine
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.inputs import CreditLineInput, CreditNoteInput
from connectors.sage_active.sandbox.invoices import get_invoice, recompute_totals
from connectors.sage_active.sandbox.money import ZERO

CREDITABLE = ("Closed", "Posted", "PartiallyCollected", "Collected")


def available(line: SalesInvoiceLine) -> Decimal:
    """What is left to credit on an invoice line (zero on credit note lines)."""
    return max(line.total_quantity - line.credited_quantity, ZERO)


def generate_credit_note(books: Books, clock: Clock, data: CreditNoteInput) -> SalesInvoice:
    """Full credit note when no lines are given, else by product and quantity.

    Raises:
        BusinessError: invoice not found, Pending, itself a credit note, a product not on
            the invoice, a quantity <= 0 or above what is available, nothing left to credit.
    """
    source = get_invoice(books, data.id)
    if source.type == "CREDIT_NOTE" or source.status not in CREDITABLE:
        raise BusinessError("salesInvoiceMustBeClosedOrPosted", status=source.status)
    if data.lines:
        takes = _partial(source, data.lines)
    else:
        takes = [(line, available(line)) for line in source.lines if available(line) > ZERO]
    if not takes:
        raise BusinessError("nothingToCredit", id=str(source.id))
    now = clock.now()
    note = _new_note(source, data, now)
    for order, (line, quantity) in enumerate(takes, start=1):
        line.credited_quantity += quantity
        note.lines.append(
            replace(
                line,
                id=uuid4(),
                sales_invoice_id=note.id,
                order=order,
                total_quantity=-quantity,
                credited_quantity=ZERO,
                source_line_id=line.id,
                creation_date=now,
                modification_date=now,
            )
        )
    recompute_totals(note)
    source.has_credit_note = True
    source.modification_date = now
    books.put_invoice(source)
    books.put_invoice(note)
    return note


def _new_note(source: SalesInvoice, data: CreditNoteInput, now: datetime) -> SalesInvoice:
    return SalesInvoice(
        id=uuid4(),
        customer_id=source.customer_id,
        social_name=source.social_name,
        country_acronym=source.country_acronym,
        document_date=data.output_document_date or source.document_date,
        creation_date=now,
        modification_date=now,
        type="CREDIT_NOTE",
        source_sales_invoice_id=source.id,
        external_reference=source.external_reference,
        sales_order_number=source.sales_order_number,
    )


def release(books: Books, note: SalesInvoice) -> None:
    """Give a Pending credit note's quantities back to its invoice's lines (it is deleted)."""
    origin_id = note.source_sales_invoice_id
    source = books.invoices.get(origin_id) if origin_id else None
    if note.type != "CREDIT_NOTE" or source is None:
        return
    by_id = {line.id: line for line in source.lines}
    for line in note.lines:
        origin = by_id.get(line.source_line_id) if line.source_line_id else None
        if origin is not None:
            origin.credited_quantity = max(origin.credited_quantity + line.total_quantity, ZERO)
    books.put_invoice(source)


def _partial(
    source: SalesInvoice, wanted: list[CreditLineInput]
) -> list[tuple[SalesInvoiceLine, Decimal]]:
    """Spread each requested quantity over the source lines of that product, in order; one
    credit-note line per request and source line."""
    takes: list[tuple[SalesInvoiceLine, Decimal]] = []
    planned: dict[int, Decimal] = {}
    for request in wanted:
        if request.quantity <= ZERO:
            raise BusinessError("quantityMustBePositive", productId=str(request.product_id))
        candidates = [
            line
            for line in source.lines
            if line.product_id == request.product_id
            and (request.unit_price is None or line.unit_price == request.unit_price)
        ]
        if not candidates:
            raise BusinessError("productNotOnInvoice", productId=str(request.product_id))
        left = request.quantity
        for line in candidates:
            room = available(line) - planned.get(line.order, ZERO)
            take = min(room, left)
            if take > ZERO:
                planned[line.order] = planned.get(line.order, ZERO) + take
                takes.append((line, take))
                left -= take
        if left > ZERO:
            raise BusinessError(
                "quantityExceedsAvailableForCreditNote", productId=str(request.product_id)
            )
    return takes
