"""The sandbox's books: one dataclass per Sage Active entity, attributes in snake_case.

GraphQL fields are camelCase; `resolvers.attribute_name` maps one to the other, so a field
such as `totalLiquid` reads the attribute `total_liquid`. Amounts are Decimal, dates are
aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from connectors.sage_active.sandbox.money import ZERO


@dataclass(slots=True)
class Organization:
    id: UUID
    social_name: str
    legislation_code: str
    creation_date: datetime
    modification_date: datetime
    document_id: str | None = None
    vat_number: str | None = None
    onboarding_completed: bool = True
    # Since 2026-07: usable only when READY and onboarded (`organizations.status`).
    status: str = "READY"
    onboarding_date_completed: datetime | None = None
    vat_criterion: bool = False
    naf_ape_code: str | None = None


@dataclass(slots=True)
class TaxGroup:
    id: UUID
    name: str
    tax_group_code: str
    creation_date: datetime
    modification_date: datetime
    vat_taxation: str = "TAXABLE"
    tax_type: str = "TVA"


@dataclass(slots=True)
class Tax:
    id: UUID
    name: str
    percentage: Decimal
    group_id: UUID
    group_name: str
    creation_date: datetime
    modification_date: datetime
    effective_date: datetime | None = None
    inactive: bool = False
    tax_type: str = "TVA"
    equivalence_surcharge_percentage: Decimal = ZERO
    has_equivalence_surcharge: bool = False


@dataclass(slots=True)
class JournalType:
    id: UUID
    code: str
    name: str
    type: str
    creation_date: datetime
    modification_date: datetime
    deactivated: bool = False


@dataclass(slots=True)
class PaymentMethod:
    id: UUID
    reference_name: str
    journal_type_id: UUID
    creation_date: datetime
    modification_date: datetime
    type: str = "BANK_ACCOUNT"
    disabled: bool = False
    # The general account its settlements are booked on (`subAccountId` in the API).
    sub_account_id: UUID | None = None


@dataclass(slots=True)
class AccountingAccount:
    """A general account of the chart (`accountingAccounts`): 9-digit French codes."""

    id: UUID
    code: str
    name: str
    creation_date: datetime
    modification_date: datetime
    deactivated: bool = False


@dataclass(slots=True)
class Product:
    id: UUID
    code: str
    name: str
    tax_group_id: UUID
    creation_date: datetime
    modification_date: datetime
    category: str = "PRODUCT"
    sales_unit_price: Decimal = ZERO
    line_description: str | None = None
    comments: str | None = None
    obsolete: bool = False
    first_sales_discount: Decimal = ZERO
    # The tax treatment of its sales (`taxTreatments`): intra-community, OSS... (None: domestic)
    tax_treatment_id: UUID | None = None


@dataclass(slots=True)
class Email:
    id: UUID
    email_address: str
    usage: str = "NOT_SET"
    is_default: bool = False


@dataclass(slots=True)
class Contact:
    id: UUID
    name: str | None = None
    surname: str | None = None
    is_default_customer: bool = False
    emails: list[Email] = field(default_factory=list)


@dataclass(slots=True)
class Address:
    id: UUID
    first_line: str | None = None
    second_line: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country_iso_code_alpha2: str | None = None
    name: str | None = None
    is_main_address: bool = True


@dataclass(slots=True)
class Customer:
    id: UUID
    code: str
    social_name: str
    creation_date: datetime
    modification_date: datetime
    trade_name: str | None = None
    country_acronym: str = "FR"
    document_id: str | None = None
    vat_number: str | None = None
    customer_type: str = "BUSINESS"
    status: str = "ENABLED"
    comments: str | None = None
    source_type: str = "PUBLIC_API"
    addresses: list[Address] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    # French e-invoicing routing (2026-09): `fr.siren` ... and the directory identifier.
    e_invoicing_address_type: str | None = None
    e_invoicing_address: str | None = None
    # Identification document type (`documentTypes`), ES simplified invoices.
    document_type_id: UUID | None = None
    non_identified_customer: bool = False


@dataclass(slots=True)
class SalesInvoiceLine:
    id: UUID
    sales_invoice_id: UUID
    product_id: UUID
    product_code: str
    product_name: str
    order: int
    total_quantity: Decimal
    unit_price: Decimal
    first_discount: Decimal
    vat_percentage: Decimal
    tax_id: UUID
    creation_date: datetime
    modification_date: datetime
    total_gross: Decimal = ZERO
    total_discount: Decimal = ZERO
    total_net: Decimal = ZERO
    total_vat: Decimal = ZERO
    total_liquid: Decimal = ZERO
    credited_quantity: Decimal = ZERO
    apply_equivalence_surcharge: bool = False  # ES (2026-09); not applied by the sandbox
    source_line_id: UUID | None = None  # a credit note's line: the invoice line it credits


@dataclass(slots=True)
class PaymentTermLine:
    id: UUID
    order: int
    type: str
    value: Decimal
    condition: str = "NONE"
    day: int = 0
    payment_mean_id: UUID | None = None


@dataclass(slots=True)
class SalesInvoice:
    id: UUID
    customer_id: UUID
    social_name: str
    document_date: datetime
    creation_date: datetime
    modification_date: datetime
    status: str = "Pending"
    type: str = "NORMAL"
    operational_number: str | None = None
    operation_date: datetime | None = None
    external_reference: str | None = None
    sales_order_number: str | None = None
    comments: str | None = None
    remarks: str | None = None
    special_mention: str | None = None
    country_acronym: str | None = None
    has_credit_note: bool = False
    first_due_date: datetime | None = None
    source_sales_invoice_id: UUID | None = None
    source_type: str = "PUBLIC_API"
    lines: list[SalesInvoiceLine] = field(default_factory=list)
    payment_term_lines: list[PaymentTermLine] = field(default_factory=list)
    open_item_ids: list[UUID] = field(default_factory=list)
    total_gross: Decimal = ZERO
    total_discount: Decimal = ZERO
    total_net: Decimal = ZERO
    total_vat: Decimal = ZERO
    total_liquid: Decimal = ZERO
    has_cash_vat: bool = False  # read-only since 2026-07
    sales_invoice_template_id: UUID | None = None  # read-only since 2026-06 (recurring)
    print_name_on_pdf: bool | None = None  # ES simplified invoices (2026-05)
    # French e-invoicing (2026-09): inputs, and one `eInvoice` entry per submission.
    should_send_via_electronic_invoicing: bool = False
    e_invoicing_address_type_customer: str | None = None
    e_invoicing_address_customer: str | None = None
    regulatory_billing_framework: str | None = None
    e_invoice: list[EInvoice] = field(default_factory=list)


@dataclass(slots=True)
class EInvoice:
    """One submission of a sales invoice to the Plateforme Agréée (`salesInvoices.eInvoice`).

    `plan` is what the simulated platform will do next (one status per clock step) and
    `plan_reason` the reason the last planned status carries; `next_at` when it moves."""

    id: UUID
    sales_invoice_id: UUID
    creation_date: datetime
    status: str = "SUBMITTED"
    rejected_reason: str | None = None
    trace_parent: str | None = None
    plan: list[str] = field(default_factory=list)
    plan_reason: str | None = None
    next_at: datetime | None = None


@dataclass(slots=True)
class EInvoiceSetup:
    """`organizationEInvoiceSetupByOrgId`: the registration with the Plateforme Agréée, and
    (sandbox only) how the next submission ends (`next_outcome`, `next_reason`)."""

    id: UUID
    status: str
    status_connection_date: datetime | None = None
    connection_id: UUID | None = None
    mandate_number: str | None = None
    effective_date: datetime | None = None
    sales_invoice_effective_date: datetime | None = None
    e_reporting_start_date: datetime | None = None
    business_invoices_toggle: bool = True
    business_payments_toggle: bool = True
    individual_customer_sales_toggle: bool = True
    payments_individual_customers_toggle: bool = True
    pa_siren_number: str | None = None
    software_business_name: str | None = None
    error_code: str | None = None
    terms_and_conditions_accepted: bool = True
    next_outcome: str | None = None
    next_reason: str | None = None


@dataclass(slots=True)
class OpenItem:
    id: UUID
    sales_invoice_id: UUID
    amount: Decimal
    due_date: datetime
    creation_date: datetime
    modification_date: datetime
    paid_amount_accumulated: Decimal = ZERO
    status: str = "NOT_SPECIFIED"
    payment_mean_id: UUID | None = None
    is_advance_invoice_payment: bool = False


@dataclass(slots=True)
class AccountingEntryLine:
    id: UUID
    order: int
    account_code: str
    description: str | None
    debit_amount: Decimal
    credit_amount: Decimal
    document_number: str | None = None
    third_party_id: UUID | None = None
    accounting_entry_id: UUID | None = None  # set when the entry is stored


@dataclass(slots=True)
class AccountingEntry:
    id: UUID
    number: int
    date: datetime
    document_date: datetime
    journal_type_id: UUID
    source_type: str
    creation_date: datetime
    modification_date: datetime
    description: str | None = None
    document_number: str | None = None
    source_entity_id: UUID | None = None
    accounting_entry_lines: list[AccountingEntryLine] = field(default_factory=list)
