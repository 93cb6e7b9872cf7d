"""Sales invoice rules: create, update, delete, close, and the totals an accountant expects.

Line net = quantity x unit price x (1 - discount %), VAT from the product's tax, each
rounded to the cent half-up; invoice totals are the sums of the line totals.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import PaymentTermLine, SalesInvoice, SalesInvoiceLine
from connectors.sage_active.sandbox.errors import BusinessError, check_length
from connectors.sage_active.sandbox.inputs import (
    InvoiceCreate,
    InvoiceFields,
    InvoiceUpdate,
    LineInput,
    PaymentTermLineInput,
)
from connectors.sage_active.sandbox.money import HUNDRED, ZERO, cents

_LIMITS = {
    "operationalNumber": 50,
    "externalReference": 20,
    "salesOrderNumber": 250,
    "comments": 1000,
    "remarks": 1000,
    "specialMention": 1000,
}
_TERM_TYPES = {"NONE", "FIXED_AMOUNT", "PERCENTAGE", "REMAINING_AMOUNT"}


def get_invoice(books: Books, invoice_id: UUID) -> SalesInvoice:
    """Raises: BusinessError `salesInvoiceNotFound`."""
    invoice = books.invoices.get(invoice_id)
    if invoice is None:
        raise BusinessError("salesInvoiceNotFound", id=str(invoice_id))
    return invoice


def recompute_totals(invoice: SalesInvoice) -> None:
    """Set every line's and the invoice's totals from quantities, prices and rates."""
    for line in invoice.lines:
        gross = line.total_quantity * line.unit_price
        line.total_gross = cents(gross)
        line.total_net = cents(gross * (HUNDRED - line.first_discount) / HUNDRED)
        line.total_discount = line.total_gross - line.total_net
        line.total_vat = cents(line.total_net * line.vat_percentage / HUNDRED)
        line.total_liquid = line.total_net + line.total_vat
    invoice.total_gross = sum((line.total_gross for line in invoice.lines), ZERO)
    invoice.total_discount = sum((line.total_discount for line in invoice.lines), ZERO)
    invoice.total_net = sum((line.total_net for line in invoice.lines), ZERO)
    invoice.total_vat = sum((line.total_vat for line in invoice.lines), ZERO)
    invoice.total_liquid = invoice.total_net + invoice.total_vat


def create_invoice(books: Books, clock: Clock, data: InvoiceCreate) -> SalesInvoice:
    """A new invoice, Pending, or Closed at once when it brings its own operationalNumber.

    Raises:
        BusinessError: unknown customer or product, a field too long, no lines, a bad
            discount or payment term, or an operationalNumber already used.
    """
    _check_fields(data)
    check_length("operationalNumber", data.operational_number, _LIMITS["operationalNumber"])
    customer = books.customers.get(data.customer_id)
    if customer is None:
        raise BusinessError("customerNotFound", id=str(data.customer_id))
    if not data.lines:
        raise BusinessError("linesRequired", field="lines")
    number = (data.operational_number or "").strip()
    if number and any(inv.operational_number == number for inv in books.invoices.values()):
        raise BusinessError("operationalNumberAlreadyExists", operationalNumber=number)
    now = clock.now()
    invoice = SalesInvoice(
        id=uuid4(),
        customer_id=customer.id,
        social_name=customer.social_name,
        country_acronym=customer.country_acronym,
        document_date=data.document_date or now.replace(hour=0, minute=0, second=0, microsecond=0),
        creation_date=now,
        modification_date=now,
    )
    _apply_fields(invoice, data)
    invoice.lines = [_new_line(books, invoice, line, now) for line in data.lines]
    _renumber(invoice)
    invoice.payment_term_lines = _terms(data.payment_term_lines or [])
    recompute_totals(invoice)
    if number:
        invoice.operational_number = number
        invoice.status = "Closed"
    books.put_invoice(invoice)
    return invoice


def update_invoice(books: Books, clock: Clock, data: InvoiceUpdate) -> SalesInvoice:
    """Patch a Pending invoice: header fields, and lines by `requestedAction`.

    Raises:
        BusinessError: not found, not Pending, customer changed, unknown line or product.
    """
    invoice = get_invoice(books, data.id)
    _require_pending(invoice)
    _check_fields(data)
    if data.customer_id is not None and data.customer_id != invoice.customer_id:
        raise BusinessError("fieldNotModifiable", field="customerId")
    now = clock.now()
    # Work on copies so that a refused change leaves the invoice exactly as it was.
    lines = [] if "LINES" in data.replace_all else [replace(line) for line in invoice.lines]
    for change in data.lines or []:
        lines = _change_line(books, invoice, lines, change, now)
    if not lines:
        raise BusinessError("linesRequired", field="lines")
    _apply_fields(invoice, data)
    if data.payment_term_lines is not None:
        invoice.payment_term_lines = _terms(data.payment_term_lines)
    invoice.lines = lines
    _renumber(invoice)
    recompute_totals(invoice)
    invoice.modification_date = now
    books.put_invoice(invoice)
    return invoice


def delete_invoice(books: Books, invoice_id: UUID) -> None:
    """Raises: BusinessError when not found or not Pending."""
    _require_pending(get_invoice(books, invoice_id))
    books.drop_invoice(invoice_id)


def close_invoice(books: Books, clock: Clock, invoice_id: UUID) -> SalesInvoice:
    """Pending -> Closed with the next sequential operationalNumber.

    Raises:
        BusinessError: not found, or not Pending (`salesInvoiceNotPending`).
    """
    invoice = get_invoice(books, invoice_id)
    _require_pending(invoice)
    invoice.operational_number = books.next_invoice_number()
    invoice.status = "Closed"
    invoice.modification_date = clock.now()
    books.put_invoice(invoice)
    return invoice


def _require_pending(invoice: SalesInvoice) -> None:
    if invoice.status != "Pending":
        raise BusinessError("salesInvoiceNotPending", status=invoice.status)


def _check_fields(data: InvoiceFields) -> None:
    for name, limit in _LIMITS.items():
        if name != "operationalNumber":
            check_length(name, getattr(data, _snake(name)), limit)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _apply_fields(invoice: SalesInvoice, data: InvoiceFields) -> None:
    for name in (
        "document_date",
        "operation_date",
        "external_reference",
        "sales_order_number",
        "comments",
        "remarks",
        "special_mention",
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(invoice, name, value)


def _new_line(
    books: Books, invoice: SalesInvoice, data: LineInput, now: datetime
) -> SalesInvoiceLine:
    if data.product_id is None:
        raise BusinessError("requiredField", field="productId")
    product = books.products.get(data.product_id)
    if product is None:
        raise BusinessError("productNotFound", id=str(data.product_id))
    tax = books.tax_of_group(product.tax_group_id)
    if tax is None:
        raise BusinessError("taxNotFound", productId=str(product.id))
    line = SalesInvoiceLine(
        id=uuid4(),
        sales_invoice_id=invoice.id,
        product_id=product.id,
        product_code=product.code,
        product_name=data.product_name or product.name,
        order=0,
        total_quantity=ZERO,
        unit_price=ZERO,
        first_discount=ZERO,
        vat_percentage=tax.percentage,
        tax_id=tax.id,
        creation_date=now,
        modification_date=now,
    )
    _patch_line(line, data, quantity_default=True)
    return line


def _patch_line(line: SalesInvoiceLine, data: LineInput, quantity_default: bool) -> None:
    check_length("productName", data.product_name, 2500)
    if data.product_name is not None:
        line.product_name = data.product_name
    if data.total_quantity is not None:
        line.total_quantity = data.total_quantity
    elif quantity_default:
        line.total_quantity = Decimal(1)
    if data.unit_price is not None:
        line.unit_price = data.unit_price
    if data.apply_equivalence_surcharge is not None:  # ES, 2026-09: recorded, not computed
        line.apply_equivalence_surcharge = data.apply_equivalence_surcharge
    if data.first_discount is not None:
        if not ZERO <= data.first_discount <= HUNDRED:
            raise BusinessError("invalidDiscount", field="firstDiscount")
        line.first_discount = data.first_discount


def _change_line(
    books: Books,
    invoice: SalesInvoice,
    lines: list[SalesInvoiceLine],
    change: LineInput,
    now: datetime,
) -> list[SalesInvoiceLine]:
    action = (change.requested_action or ("MODIFY" if change.id else "CREATE")).upper()
    if action == "CREATE":
        return [*lines, _new_line(books, invoice, change, now)]
    existing = next((line for line in lines if line.id == change.id), None)
    if existing is None:
        raise BusinessError("salesInvoiceLineNotFound", id=str(change.id))
    if action in ("DELETE", "DELETED"):
        return [line for line in lines if line.id != change.id]
    if change.product_id is not None and change.product_id != existing.product_id:
        replacement = _new_line(books, invoice, change, now)
        return [replacement if line.id == existing.id else line for line in lines]
    _patch_line(existing, change, quantity_default=False)
    existing.modification_date = now
    return lines


def _renumber(invoice: SalesInvoice) -> None:
    for position, line in enumerate(invoice.lines, start=1):
        line.order = position


def _terms(items: list[PaymentTermLineInput]) -> list[PaymentTermLine]:
    for position, item in enumerate(items):
        if item.type not in _TERM_TYPES:
            raise BusinessError("invalidPaymentTermType", type=item.type)
        if item.type == "REMAINING_AMOUNT" and position != len(items) - 1:
            raise BusinessError("remainingAmountMustBeLast", field="paymentTermLines")
        if item.type == "PERCENTAGE" and not ZERO <= item.value <= HUNDRED:
            raise BusinessError("invalidPercentage", field="paymentTermLines")
    return [
        PaymentTermLine(
            id=uuid4(),
            order=item.order,
            type=item.type,
            value=item.value,
            condition=item.condition,
            day=item.day,
            payment_mean_id=item.payment_mean_id,
        )
        for item in items
    ]


def today() -> datetime:
    """Midnight UTC today (document dates are dates)."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
