"""French e-invoicing (2026-09, reference 20-einvoice-fr.md) and a simulated platform.

The organisation's registration with the Plateforme Agréée (`organizationEInvoiceSetupByOrgId`)
gates everything: the e-invoicing fields of customers and invoices are refused unless it is
`Accepted` and the organisation French. With it, a BUSINESS customer's routing address
(`eInvoicingAddressType` / `eInvoicingAddress`) is copied onto its invoices, which are sent
electronically by default; `postSalesInvoice` then submits an invoice whose three fields are
filled. A credit note generated from such an invoice carries the same fields.

The simulated platform moves each submission on a clock (`SandboxState.einvoice_step`
seconds a step, applied when a request comes in): SUBMITTED -> ISSUE_BY_THE_PLATFORM ->
MADE_AVAILABLE -> APPROVED, and PAYMENT_RECEIVED once the invoice is Collected. Every
change moves the invoice's `modificationDate`. `set_next` (control surface) makes the next
submission end REJECTED (by the platform), REFUSED (by the buyer) or FAILED_TO_SEND, with a
reason; `retrySalesInvoiceElectronicSubmission` submits a failed one again.
"""

from __future__ import annotations

import re

from connectors.sage_active.sandbox import catalog, credit, invoices
from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import (
    Customer,
    SalesInvoice,
)
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.inputs import (
    CreditNoteInput,
    CustomerFields,
    CustomerUpdate,
    InvoiceCreate,
    InvoiceFields,
    InvoiceUpdate,
)

SETUP_STATUSES = ("Accepted", "InProgress", "Failed")
FRAMEWORKS = ("B1", "S1", "M1", "B4", "M4", "S4")
_ADDRESS_FORMATS = {
    "fr.siren": re.compile(r"^(\d{9})$"),
    "fr.siren_suffix": re.compile(r"^(\d{9})_\S+$"),
    "fr.sirensiret": re.compile(r"^(\d{9})_(\d{14})$"),
    "fr.sirensiret_routing": re.compile(r"^(\d{9})_(\d{14})_\S+$"),
}
ADDRESS_TYPES = tuple(_ADDRESS_FORMATS)


def accepted(books: Books) -> bool:
    setup = books.einvoice_setup
    return (
        books.organization.legislation_code == "FR"
        and setup is not None
        and setup.status == "Accepted"
    )


def require_accepted(books: Books, field: str) -> None:
    if not accepted(books):
        raise BusinessError("eInvoicingNotAvailable", field=field)


def check_address(kind: str, address: str, field: str) -> None:
    """Raises: BusinessError for an unknown type or an address not in that type's format."""
    pattern = _ADDRESS_FORMATS.get(kind)
    if pattern is None:
        raise BusinessError("invalidEInvoicingAddressType", field=field, value=kind)
    match = pattern.match(address)
    if match is None or (match.lastindex == 2 and not match.group(2).startswith(match.group(1))):
        raise BusinessError("invalidEInvoicingAddress", field=field, type=kind, value=address)


# -- customers --------------------------------------------------------------------------


def _customer_routing(books: Books, data: CustomerFields, customer_type: str) -> None:
    kind, address = data.e_invoicing_address_type, data.e_invoicing_address
    if kind is None and address is None:
        return
    require_accepted(books, "eInvoicingAddressType")
    if customer_type != "BUSINESS":
        raise BusinessError("eInvoicingAddressRequiresBusiness", field="eInvoicingAddressType")
    if not kind or not address:
        raise BusinessError(
            "requiredField", field="eInvoicingAddress" if kind else "eInvoicingAddressType"
        )
    check_address(kind, address, "eInvoicingAddress")


def _set_routing(customer: Customer, data: CustomerFields) -> Customer:
    if data.e_invoicing_address_type is not None:
        customer.e_invoicing_address_type = data.e_invoicing_address_type
    if data.e_invoicing_address is not None:
        customer.e_invoicing_address = data.e_invoicing_address
    return customer


def create_customer(books: Books, clock: Clock, data: CustomerFields) -> Customer:
    """`createCustomer` with the routing fields. Raises: BusinessError (see catalog)."""
    _customer_routing(books, data, data.customer_type or "BUSINESS")
    return _set_routing(catalog.create_customer(books, clock, data), data)


def update_customer(books: Books, clock: Clock, data: CustomerUpdate) -> Customer:
    """`updateCustomer` with the routing fields. Raises: BusinessError (see catalog)."""
    current = books.customers.get(data.id)
    kind = data.customer_type or (current.customer_type if current else "BUSINESS")
    _customer_routing(books, data, kind)
    return _set_routing(catalog.update_customer(books, clock, data), data)


# -- invoices ---------------------------------------------------------------------------


def _check_invoice_fields(books: Books, data: InvoiceFields) -> None:
    given = (
        data.should_send_via_electronic_invoicing,
        data.e_invoicing_address_type_customer,
        data.e_invoicing_address_customer,
        data.regulatory_billing_framework,
    )
    if all(value is None for value in given):
        return
    require_accepted(books, "shouldSendViaElectronicInvoicing")
    framework = data.regulatory_billing_framework
    if framework is not None and framework not in FRAMEWORKS:
        raise BusinessError("invalidRegulatoryBillingFramework", value=framework)
    kind, address = data.e_invoicing_address_type_customer, data.e_invoicing_address_customer
    if kind is not None or address is not None:
        check_address(kind or "", address or "", "eInvoicingAddressCustomer")


def _apply_invoice_fields(books: Books, invoice: SalesInvoice, data: InvoiceFields) -> None:
    if data.print_name_on_pdf is not None:
        invoice.print_name_on_pdf = data.print_name_on_pdf
    for name in (
        "e_invoicing_address_type_customer",
        "e_invoicing_address_customer",
        "regulatory_billing_framework",
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(invoice, name, value)
    if data.should_send_via_electronic_invoicing is not None:
        invoice.should_send_via_electronic_invoicing = data.should_send_via_electronic_invoicing


def create_invoice(books: Books, clock: Clock, data: InvoiceCreate) -> SalesInvoice:
    """`createSalesInvoice`; with a registered organisation the customer's routing address
    is copied and electronic sending is on when both its fields are filled.

    Raises:
        BusinessError: see `invoices.create_invoice`; e-invoicing fields without an
            Accepted registration, an unknown framework or a malformed address.
    """
    _check_invoice_fields(books, data)
    invoice = invoices.create_invoice(books, clock, data)
    customer = books.customers.get(invoice.customer_id)
    if accepted(books) and customer is not None and customer.customer_type == "BUSINESS":
        invoice.e_invoicing_address_type_customer = customer.e_invoicing_address_type
        invoice.e_invoicing_address_customer = customer.e_invoicing_address
        invoice.should_send_via_electronic_invoicing = bool(
            customer.e_invoicing_address_type and customer.e_invoicing_address
        )
    _apply_invoice_fields(books, invoice, data)
    return invoice


def update_invoice(books: Books, clock: Clock, data: InvoiceUpdate) -> SalesInvoice:
    """`updateSalesInvoice` with the e-invoicing fields. Raises: BusinessError."""
    _check_invoice_fields(books, data)
    invoice = invoices.update_invoice(books, clock, data)
    _apply_invoice_fields(books, invoice, data)
    return invoice


def generate_credit_note(books: Books, clock: Clock, data: CreditNoteInput) -> SalesInvoice:
    """`generateCreditNote`: the note keeps its invoice's e-invoicing fields."""
    note = credit.generate_credit_note(books, clock, data)
    source = books.invoices.get(data.id)
    if source is not None and accepted(books):
        note.should_send_via_electronic_invoicing = source.should_send_via_electronic_invoicing
        note.e_invoicing_address_type_customer = source.e_invoicing_address_type_customer
        note.e_invoicing_address_customer = source.e_invoicing_address_customer
        note.regulatory_billing_framework = source.regulatory_billing_framework
    return note


def submittable(books: Books, invoice: SalesInvoice) -> bool:
    return (
        accepted(books)
        and invoice.should_send_via_electronic_invoicing
        and bool(invoice.e_invoicing_address_type_customer)
        and bool(invoice.e_invoicing_address_customer)
        and bool(invoice.regulatory_billing_framework)
    )
