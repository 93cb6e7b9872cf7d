"""Inputs of the purchase and bank-feed mutations (camelCase aliases, as `inputs.py`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from connectors.sage_active.sandbox.inputs import AddressInput, Input


class SupplierCreate(Input):
    code: str | None = None
    social_name: str | None = None
    trade_name: str | None = None
    country_acronym: str | None = None
    document_id: str | None = None
    vat_number: str | None = None
    comments: str | None = None
    default_purchase_account_id: UUID | None = None
    addresses: list[AddressInput] | None = None


class PurchaseVatLineInput(Input):
    total_vat_base: Decimal
    total_vat: Decimal
    vat_percentage: Decimal | None = None
    tax_id: UUID | None = None
    tax_treatment_id: UUID | None = None
    purchase_accounting_account_id: UUID | None = None
    invoice_date: datetime | None = None


class PurchaseInvoiceCreate(Input):
    supplier_id: UUID
    invoice_date: datetime
    invoice_number: str | None = None
    operation_date: datetime | None = None
    total_liquid: Decimal
    has_cash_vat: bool = False
    vat_lines: list[PurchaseVatLineInput] = Field(default_factory=list)


class PostPurchaseInput(Input):
    purchase_invoice_id: UUID
    accounting_entry_description: str | None = None
    journal_type_id: UUID
    posting_date: datetime | None = None


class PurchasePaidAmount(Input):
    open_item_id: UUID
    paid_amount: Decimal


class PurchaseSettlementInput(Input):
    entry_date: datetime
    payment_method_id: UUID
    third_party_id: UUID
    description: str | None = None
    document_number: str | None = None
    purchase_open_item_linkage_paid_amounts: list[PurchasePaidAmount] = Field(default_factory=list)


class EntryRef(Input):
    accounting_entry_id: UUID


class ReconcileInput(Input):
    bank_transaction_id: UUID
    banking_rule_id: UUID | None = None
    accounting_entries: list[EntryRef] = Field(default_factory=list)


class UnreconcileInput(Input):
    bank_transaction_id: UUID
