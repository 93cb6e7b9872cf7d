"""Mutation inputs as pydantic models, built from the GraphQL arguments (camelCase aliases).

The schema has already checked types and required fields; these models give the rules
typed values (Decimal, UUID, datetime) instead of dicts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class EmailInput(Input):
    email_address: str
    usage: str = "NOT_SET"
    is_default: bool = False


class ContactInput(Input):
    name: str | None = None
    surname: str | None = None
    is_default_customer: bool = False
    emails: list[EmailInput] = []


class AddressInput(Input):
    name: str | None = None
    first_line: str | None = None
    second_line: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country_iso_code_alpha2: str | None = None
    is_main_address: bool = True


class CustomerFields(Input):
    code: str | None = None
    social_name: str | None = None
    trade_name: str | None = None
    country_acronym: str | None = None
    document_id: str | None = None
    vat_number: str | None = None
    customer_type: str | None = None
    comments: str | None = None
    addresses: list[AddressInput] | None = None
    contacts: list[ContactInput] | None = None
    e_invoicing_address_type: str | None = None
    e_invoicing_address: str | None = None
    document_type_id: UUID | None = None
    non_identified_customer: bool | None = None


class CustomerUpdate(CustomerFields):
    id: UUID
    replace_all: list[str] = []


class ProductCreate(Input):
    code: str
    name: str
    category: str = "PRODUCT"
    tax_group_id: UUID | None = None
    sales_unit_price: Decimal = Decimal(0)
    line_description: str | None = None
    comments: str | None = None
    first_sales_discount: Decimal = Decimal(0)


class LineInput(Input):
    id: UUID | None = None
    requested_action: str | None = None
    product_id: UUID | None = None
    product_name: str | None = None
    total_quantity: Decimal | None = None
    unit_price: Decimal | None = None
    first_discount: Decimal | None = None
    apply_equivalence_surcharge: bool | None = None


class PaymentTermLineInput(Input):
    order: int = 0
    type: str = "REMAINING_AMOUNT"
    value: Decimal = Decimal(0)
    condition: str = "NONE"
    day: int = 0
    payment_mean_id: UUID | None = None


class InvoiceFields(Input):
    document_date: datetime | None = None
    operation_date: datetime | None = None
    external_reference: str | None = None
    sales_order_number: str | None = None
    comments: str | None = None
    remarks: str | None = None
    special_mention: str | None = None
    lines: list[LineInput] | None = None
    payment_term_lines: list[PaymentTermLineInput] | None = None
    print_name_on_pdf: bool | None = None
    should_send_via_electronic_invoicing: bool | None = None
    e_invoicing_address_type_customer: str | None = None
    e_invoicing_address_customer: str | None = None
    regulatory_billing_framework: str | None = None


class InvoiceCreate(InvoiceFields):
    customer_id: UUID
    operational_number: str | None = None


class InvoiceUpdate(InvoiceFields):
    id: UUID
    customer_id: UUID | None = None
    replace_all: list[str] = []


class InvoiceDelete(Input):
    id: UUID


class InvoiceRef(Input):
    sales_invoice_id: UUID


class RetryInput(Input):
    sales_invoice_id: UUID


class PostInput(Input):
    sales_invoice_id: UUID
    accounting_entry_description: str
    journal_type_id: UUID


class PaidAmountInput(Input):
    open_item_id: UUID
    paid_amount: Decimal


class SettlementInput(Input):
    entry_date: datetime
    payment_method_id: UUID
    third_party_id: UUID
    description: str | None = None
    document_number: str | None = None
    sales_open_item_linkage_paid_amounts: list[PaidAmountInput]


class CreditLineInput(Input):
    product_id: UUID
    quantity: Decimal
    unit_price: Decimal | None = None


class CreditNoteInput(Input):
    id: UUID
    lines: list[CreditLineInput] | None = None
    output_document_date: datetime | None = None


class EntryLineByCodes(Input):
    sub_account_code: str
    third_code: str | None = None
    description: str | None = None
    debit_amount: Decimal
    credit_amount: Decimal


class EntryByCodes(Input):
    date: datetime
    journal_type_code: str
    document_date: datetime | None = None
    document_number: str | None = None
    description: str | None = None
    accounting_entry_lines: list[EntryLineByCodes]


class EntryLineByIds(Input):
    sub_account_id: UUID
    third_id: UUID | None = None
    description: str | None = None
    debit_amount: Decimal
    credit_amount: Decimal


class EntryByIds(Input):
    date: datetime
    journal_type_id: UUID
    document_date: datetime | None = None
    document_number: str | None = None
    description: str | None = None
    accounting_entry_lines: list[EntryLineByIds]
