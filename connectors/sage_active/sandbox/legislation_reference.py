"""Sandbox reference data of the legislations: identification document types, tax
treatments, and the fields the resolvers compute from them (see `legislations`).

`documentTypes` lists the identification documents of the organisation's legislation
(15-reference-data.md: `01` domestic id, `02` intra-community VAT, `06` other...); a
customer without `documentTypeId` gets Sage's default by country. `taxTreatments` lists
the sales treatments (domestic, intra-community supply, export, OSS distance sale); a
line's `taxTreatment` is its product's (domestic when the product names none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.entities import Customer, Product, SalesInvoiceLine, Tax
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.ids import seed_id
from connectors.sage_active.sandbox.legislations import EU, legislation_of, treatment_id
from connectors.sage_active.sandbox.purchase_entities import TaxTreatment


@dataclass(slots=True)
class DocumentType:
    id: UUID
    code: str
    name: str
    creation_date: datetime
    modification_date: datetime


def document_types(books: Books) -> list[DocumentType]:
    """The identification document types of the organisation's legislation."""
    law, when = legislation_of(books), books.organization.creation_date
    return [
        DocumentType(seed_id("documentType", f"{law.code}:{code}"), code, name, when, when)
        for code, name in law.document_types
    ]


def tax_treatments(books: Books) -> list[TaxTreatment]:
    """Sales treatments (registerType ISSUED): domestic, intra-community supply, export,
    OSS distance sale; `taxTreatments` lists them after the purchase ones."""
    law, when = legislation_of(books), books.organization.creation_date
    rows = (
        ("DOM", f"Ventes {law.tax_label} / domestic sales", False, law.tax_type),
        ("IC", law.intra_eu, True, law.tax_type),
        ("EXP", law.export, False, law.tax_type),
        ("OSS", "OSS - ventes à distance UE / EU distance sales", False, "FOREIGN"),
    )
    return [
        TaxTreatment(
            id=treatment_id(law.code, code),
            tax_code=code,
            description=text,
            creation_date=when,
            modification_date=when,
            register_type="ISSUED",
            is_intracomunity=intra,
            tax_type=kind,
            output_account_code=law.vat_account,
        )
        for code, text, intra, kind in rows
    ]


def all_tax_treatments(books: Books) -> list[TaxTreatment]:
    """The purchase treatments (`purchases_seed`) and the sales ones of the legislation."""
    return [*books.purchases.tax_treatments.values(), *tax_treatments(books)]


def default_document_type(books: Books, customer: Customer) -> UUID:
    """Sage's default by legislation and country: `01` at home, `02` VIES, else `06`."""
    law = legislation_of(books)
    country = (customer.country_acronym or law.code).upper()
    code = "01" if country == law.code else "02" if country in EU else "06"
    return seed_id("documentType", f"{law.code}:{code}")


def _treatment(books: Books, treatment_id: UUID | None) -> TaxTreatment | None:
    return next((t for t in tax_treatments(books) if t.id == treatment_id), None)


def _line_treatment(books: Books, product_id: UUID) -> UUID:
    product = books.products.get(product_id)
    found = product.tax_treatment_id if product is not None else None
    return found or treatment_id(legislation_of(books).code, "DOM")


def _vies_code(customer: Customer) -> str | None:
    country = (customer.country_acronym or "").upper()
    return ("EL" if country == "GR" else country) if country in EU else None


def computed_fields() -> dict[tuple[type, str], Callable[[Any, Any], Any]]:
    """Fields the resolvers compute for this module (`ctx.require_books()` gives the books)."""

    def tax(ctx: Any, product: Product) -> Tax | None:
        books: Books = ctx.require_books()
        return books.tax_of_group(product.tax_group_id)

    def line_tax(ctx: Any, line: SalesInvoiceLine) -> Tax | None:
        books: Books = ctx.require_books()
        return books.taxes.get(line.tax_id)

    def document_type_id(ctx: Any, customer: Customer) -> UUID:
        return customer.document_type_id or default_document_type(ctx.require_books(), customer)

    def document_type(ctx: Any, customer: Customer) -> DocumentType | None:
        wanted = document_type_id(ctx, customer)
        return next((d for d in document_types(ctx.require_books()) if d.id == wanted), None)

    return {
        (Product, "tax"): tax,
        (Product, "taxId"): lambda c, p: found.id if (found := tax(c, p)) else None,
        (Product, "taxTreatment"): lambda c, p: _treatment(c.require_books(), p.tax_treatment_id),
        (Customer, "documentTypeId"): document_type_id,
        (Customer, "documentType"): document_type,
        (Customer, "viesCode"): lambda _c, customer: _vies_code(customer),
        (SalesInvoiceLine, "tax"): line_tax,
        (SalesInvoiceLine, "taxTreatmentId"): lambda c, line: _line_treatment(
            c.require_books(), line.product_id
        ),
        (SalesInvoiceLine, "taxTreatment"): lambda c, line: _treatment(
            c.require_books(), _line_treatment(c.require_books(), line.product_id)
        ),
    }


def check_customer_identity(
    books: Books, document_type_id: UUID | None, non_identified: bool | None, kind: str | None
) -> None:
    """Raises: BusinessError for a document type of another legislation, or a
    non-identified customer outside ES or not INDIVIDUAL (18-legislation-rules.md)."""
    if document_type_id is not None and all(
        d.id != document_type_id for d in document_types(books)
    ):
        raise BusinessError("documentTypeNotFound", id=str(document_type_id))
    if non_identified:
        if legislation_of(books).code != "ES":
            raise BusinessError(
                "nonIdentifiedCustomerNotAllowed", legislation=books.organization.legislation_code
            )
        if kind != "INDIVIDUAL":
            raise BusinessError("nonIdentifiedCustomerMustBeIndividual", customerType=kind)


# DE: customer codes are numbered by Sage, 10000-69999 (18-legislation-rules.md).
DE_CUSTOMER_CODES = range(10000, 70000)


def check_vies_vat_number(
    books: Books, kind: str | None, country: str | None, vat: str | None
) -> None:
    """Raises: BusinessError `vatNumberRequired` for a BUSINESS customer in another VIES
    country without a VAT number (mandatory in every legislation, 18-legislation-rules.md)."""
    home = legislation_of(books).code
    country = (country or home).upper()
    if kind == "BUSINESS" and country in EU and country != home and not (vat or "").strip():
        raise BusinessError("vatNumberRequired", countryAcronym=country)


def check_customer_code(books: Books, code: str | None) -> None:
    """Raises: BusinessError when a German organisation is given a customer code (its
    customers are numbered automatically; a number in the range is accepted)."""
    if code is None or legislation_of(books).code != "DE":
        return
    if not (code.isdigit() and int(code) in DE_CUSTOMER_CODES):
        raise BusinessError("customerCodeMustBeAutomatic", customerCode=code, range="10000-69999")


def customer_number(books: Books) -> str | None:
    """The next automatic customer number of a German organisation (None elsewhere)."""
    if legislation_of(books).code != "DE":
        return None
    taken = [int(c.code) for c in books.customers.values() if c.code.isdigit()]
    numbers = [n for n in taken if n in DE_CUSTOMER_CODES]
    return str(max(numbers, default=DE_CUSTOMER_CODES.start - 1) + 1)
