"""Typed inputs and results of the Sage Active operations (money is `Decimal`).

Results tolerate fields they do not know; inputs refuse unknown fields and check Sage's
documented lengths, so a bad value fails here with a clear message instead of in Sage.
Field names are snake_case in Python and camelCase on the wire (`by_alias`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SageModel(BaseModel):
    """A result read from Sage."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SageInput(BaseModel):
    """An input sent to Sage; `to_graphql()` gives the variables (Decimals kept exact)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_graphql(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="python")


# -- reference data -------------------------------------------------------------------


class Organization(SageModel):
    """A row of `organizations` (selection fields, 2026-07)."""

    id: str
    social_name: str | None = None
    legislation_code: str | None = None
    status: str | None = None
    onboarding_completed: bool | None = None


class OrganizationDetail(SageModel):
    """`organizationDetail`: the configuration of the organisation of `X-OrganizationId`."""

    id: str
    social_name: str | None = None
    legislation_code: str | None = None
    document_id: str | None = None
    vat_number: str | None = None


class EInvoiceSetup(SageModel):
    """`organizationEInvoiceSetupByOrgId`: the registration with the Plateforme Agréée."""

    id: str | None = None
    status: str | None = None
    error_code: str | None = None
    effective_date: datetime | None = None
    sales_invoice_effective_date: datetime | None = None


class PaymentMethod(SageModel):
    id: str
    reference_name: str
    type: str | None = None
    disabled: bool = False
    journal_type_id: str | None = None


class JournalType(SageModel):
    id: str
    code: str
    name: str | None = None
    type: str | None = None
    deactivated: bool = False


class Tax(SageModel):
    id: str
    name: str | None = None
    percentage: Decimal
    group_id: str | None = None
    inactive: bool = False


# -- customers and products -----------------------------------------------------------


class Customer(SageModel):
    id: str
    code: str | None = None
    social_name: str | None = None


class AddressInput(SageInput):
    first_line: str | None = Field(default=None, max_length=35)
    second_line: str | None = Field(default=None, max_length=35)
    city: str | None = Field(default=None, max_length=35)
    zip_code: str | None = Field(default=None, max_length=9)
    country_iso_code_alpha2: str | None = Field(default=None, min_length=2, max_length=2)


class CustomerInput(SageInput):
    """A customer to create; `email` becomes the default contact's default e-mail."""

    code: str | None = Field(default=None, min_length=1, max_length=17)
    social_name: str = Field(min_length=1, max_length=70)
    trade_name: str | None = Field(default=None, max_length=70)
    customer_type: str | None = Field(default=None, pattern="^(BUSINESS|INDIVIDUAL)$")
    vat_number: str | None = Field(default=None, max_length=25)
    email: str | None = Field(default=None, max_length=70)
    address: AddressInput | None = None
    e_invoicing_address_type: str | None = None  # FR business customers (2026-09)
    e_invoicing_address: str | None = None
    # Identification (02-customers.md): the document type by legislation and country
    # (`documentTypes`), its number (FR: SIREN/SIRET), and ES simplified invoices.
    document_type_id: str | None = None
    document_id: str | None = Field(default=None, max_length=25)
    non_identified_customer: bool | None = None
    comments: str | None = Field(default=None, max_length=2000)

    def to_graphql(self) -> dict[str, Any]:
        values = self.model_dump(
            by_alias=True, exclude_none=True, exclude={"email", "address"}, mode="python"
        )
        if self.address is not None:
            values["addresses"] = [self.address.to_graphql()]
        if self.email:
            email = {"emailAddress": self.email, "isDefault": True}
            values["contacts"] = [
                {"name": self.social_name[:35], "isDefaultCustomer": True, "emails": [email]}
            ]
        return values


class Product(SageModel):
    id: str
    code: str
    name: str | None = None
    sales_vat_percentage: Decimal | None = None
    category: str | None = None  # PRODUCT, SERVICE, FEE... (the e-invoicing framework)


class ProductInput(SageInput):
    code: str = Field(min_length=1, max_length=15)
    name: str = Field(min_length=1, max_length=50)
    category: str | None = None
    tax_group_id: str | None = None
    sales_unit_price: Decimal | None = None


# -- sales invoices -------------------------------------------------------------------


class OpenItem(SageModel):
    id: str
    amount: Decimal
    paid_amount_accumulated: Decimal = Decimal(0)
    status: str | None = None
    due_date: datetime | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount_accumulated


class SalesInvoiceLine(SageModel):
    id: str | None = None
    product_id: str | None = None
    product_code: str | None = None
    total_quantity: Decimal = Decimal(0)
    unit_price: Decimal = Decimal(0)
    total_net: Decimal | None = None
    total_liquid: Decimal | None = None
    vat_percentage: Decimal | None = None
    first_discount: Decimal | None = None
    available_for_credit_note_quantity: Decimal | None = None


class EInvoiceEntry(SageModel):
    """One submission of an invoice to the e-invoicing platform (`salesInvoices.eInvoice`)."""

    id: str | None = None
    status: str | None = None
    rejected_reason: str | None = None
    creation_date: datetime | None = None


class SalesInvoice(SageModel):
    id: str
    status: str
    operational_number: str | None = None
    sales_order_number: str | None = None
    external_reference: str | None = None
    type: str | None = None
    customer_id: str | None = None
    source_sales_invoice_id: str | None = None
    document_date: datetime | None = None
    modification_date: datetime | None = None
    total_net: Decimal | None = None
    total_vat: Decimal | None = None
    total_liquid: Decimal | None = None
    lines: list[SalesInvoiceLine] = []
    open_items: list[OpenItem] = []
    # French e-invoicing (2026-09): the lifecycle status and every submission.
    e_invoicing_status: str | None = None
    e_invoice: list[EInvoiceEntry] = []


class SalesInvoiceLineInput(SageInput):
    product_id: str
    product_name: str | None = Field(default=None, max_length=2500)
    total_quantity: Decimal
    unit_price: Decimal
    first_discount: Decimal | None = None


class SalesInvoiceInput(SageInput):
    customer_id: str
    document_date: date
    operation_date: date | None = None
    operational_number: str | None = Field(default=None, max_length=50)
    sales_order_number: str | None = Field(default=None, max_length=250)
    external_reference: str | None = Field(default=None, max_length=20)
    comments: str | None = Field(default=None, max_length=1000)
    # A legal mention printed on the invoice (e.g. intra-EU reverse charge).
    special_mention: str | None = Field(default=None, max_length=1000)
    lines: list[SalesInvoiceLineInput] = Field(min_length=1)
    # French e-invoicing (2026-09), only while the organisation's registration is Accepted.
    should_send_via_electronic_invoicing: bool | None = None
    e_invoicing_address_type_customer: str | None = None
    e_invoicing_address_customer: str | None = None
    regulatory_billing_framework: str | None = Field(default=None, pattern="^(B1|S1|M1|B4|M4|S4)$")


class CreatedInvoice(SageModel):
    id: str
    status: str | None = None
    operational_number: str | None = None
    total_liquid: Decimal | None = None
    lines: list[SalesInvoiceLine] = []

    def as_invoice(self, status: str) -> SalesInvoice:
        """The created document as a `SalesInvoice` (its figures, for the total check)."""
        return SalesInvoice(
            id=self.id,
            status=self.status or status,
            operational_number=self.operational_number,
            total_liquid=self.total_liquid,
            lines=self.lines,
        )


class ClosedInvoice(SageModel):
    id: str
    operational_number: str | None = None


class PostedInvoice(SageModel):
    accounting_entry_id: str
    accounting_entry_number: int | None = None


class PostInvoiceInput(SageInput):
    sales_invoice_id: str
    journal_type_id: str
    accounting_entry_description: str = Field(min_length=1, max_length=200)


class CloseAndPost(SageModel):
    """`closed` is None when the invoice was already closed (an earlier attempt)."""

    closed: ClosedInvoice | None
    posted: PostedInvoice


# -- settlements, credit notes, ledger -------------------------------------------------


class SettlementLine(SageInput):
    open_item_id: str
    paid_amount: Decimal = Field(gt=0)


class SettlementInput(SageInput):
    entry_date: date
    payment_method_id: str
    third_party_id: str
    description: str | None = Field(default=None, max_length=200)
    document_number: str | None = Field(default=None, max_length=50)
    lines: list[SettlementLine] = Field(
        min_length=1, serialization_alias="salesOpenItemLinkagePaidAmounts"
    )


class Settlement(SageModel):
    accounting_entry_id: str
    accounting_entry_number: int | None = None


class CreditNoteLineInput(SageInput):
    product_id: str
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal | None = None


class AccountingEntry(SageModel):
    id: str
    number: int | None = None
    document_number: str | None = None
    description: str | None = None
    date: datetime | None = None
    journal_type_id: str | None = None
    source_entity_id: str | None = None


class Page(SageModel):
    """One page of a connection."""

    nodes: list[dict[str, Any]]
    end_cursor: str | None = None
    has_next_page: bool = False
    total_count: int | None = None
