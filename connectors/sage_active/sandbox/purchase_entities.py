"""The sandbox's purchase side and bank feed: suppliers, tax treatments, purchase invoices
with their open items, and bank movements (15-reference-data.md "Bank movements").

They live in one `Purchases` record per organisation (`Books.purchases`), so the sales side
of the books is untouched by them. Attributes are snake_case, read through
`resolvers.read` like every other entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from connectors.sage_active.sandbox.entities import Address
from connectors.sage_active.sandbox.money import ZERO


@dataclass(slots=True)
class Supplier:
    id: UUID
    code: str
    social_name: str
    creation_date: datetime
    modification_date: datetime
    trade_name: str | None = None
    country_acronym: str = "FR"
    vies_code: str | None = None
    document_id: str | None = None
    vat_number: str | None = None
    status: str = "ENABLED"
    disabled: bool = False
    comments: str | None = None
    source_type: str = "PUBLIC_API"
    default_accounting_account_code: str = "401000000"
    default_purchase_account_id: UUID | None = None
    addresses: list[Address] = field(default_factory=list)


@dataclass(slots=True)
class TaxTreatment:
    id: UUID
    tax_code: str
    description: str
    creation_date: datetime
    modification_date: datetime
    register_type: str = "RECEIVED"
    is_intracomunity: bool = False
    tax_type: str = "TVA"
    inactive: bool = False
    input_account_code: str = "445660000"  # deductible VAT
    output_account_code: str | None = None  # VAT due: set for a self-assessed (reverse) charge

    @property
    def reverse_charge(self) -> bool:
        """The buyer accounts for the VAT (due and deductible): the supplier is not paid it."""
        return self.output_account_code is not None


@dataclass(slots=True)
class PurchaseVatLine:
    id: UUID
    total_vat_base: Decimal
    total_vat: Decimal
    percentage: Decimal
    tax_id: UUID | None
    tax_treatment_id: UUID
    purchase_account_code: str
    invoice_date: datetime
    creation_date: datetime
    modification_date: datetime


@dataclass(slots=True)
class PurchaseInvoice:
    id: UUID
    supplier_id: UUID
    invoice_number: str
    invoice_date: datetime
    creation_date: datetime
    modification_date: datetime
    total_liquid: Decimal
    pending_amount: Decimal
    operation_date: datetime | None = None
    status: str = "Pending"
    has_cash_vat: bool = False
    first_due_date: datetime | None = None
    source_type: str = "PUBLIC_API"
    accounting_entry_id: UUID | None = None
    vat_lines: list[PurchaseVatLine] = field(default_factory=list)
    open_item_ids: list[UUID] = field(default_factory=list)


@dataclass(slots=True)
class PurchaseOpenItem:
    id: UUID
    purchase_invoice_id: UUID
    amount: Decimal
    due_date: datetime
    creation_date: datetime
    modification_date: datetime
    paid_amount_accumulated: Decimal = ZERO
    status: str = "NOT_SPECIFIED"
    payment_mean_id: UUID | None = None


@dataclass(slots=True)
class LinkedEntry:
    """`bankMovements.linkedAccountingEntries`: the bank line of an entry tied to a movement."""

    id: UUID
    accounting_entry_id: UUID
    bank_journal_type_id: UUID
    date: datetime
    number: int
    document_number: str | None = None
    description: str | None = None
    status: str = "POSTED"
    is_closed: bool = False


@dataclass(slots=True)
class ReconciledItem:
    id: UUID
    linked: bool
    bank_accounting_entry_id: UUID | None
    reconciled_by: str = "PUBLIC_API"
    suggested_by: str | None = None
    banking_rule_id: UUID | None = None
    banking_rule_rejected: bool = False
    bank_bill_of_exchange_id: UUID | None = None
    origin_proposal_item_id: UUID | None = None


@dataclass(slots=True)
class BankMovement:
    id: UUID
    bank_account_id: UUID
    transaction_amount: Decimal
    date_posted: datetime
    creation_date: datetime
    modification_date: datetime
    date_funds_available: datetime | None = None
    transaction_narrative: str | None = None
    narrative1: str | None = None
    reference_number: str | None = None
    transaction_type: str = "TRANSFER"
    transaction_status: str = "BOOKED"
    link_status: str = "NOT_SPECIFIED"
    link_status_date: datetime | None = None
    linked_accounting_entries: list[LinkedEntry] = field(default_factory=list)
    reconciled_items: list[ReconciledItem] = field(default_factory=list)
    proposal_items: list[ReconciledItem] = field(default_factory=list)  # never proposed here


@dataclass(slots=True)
class Purchases:
    """One organisation's purchase side and bank feed (`Books.purchases`)."""

    suppliers: dict[UUID, Supplier] = field(default_factory=dict)
    tax_treatments: dict[UUID, TaxTreatment] = field(default_factory=dict)
    invoices: dict[UUID, PurchaseInvoice] = field(default_factory=dict)
    open_items: dict[UUID, PurchaseOpenItem] = field(default_factory=dict)
    bank_movements: dict[UUID, BankMovement] = field(default_factory=dict)
    supplier_counter: int = 0
