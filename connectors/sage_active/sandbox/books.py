"""One organisation's books, with the index that keeps "changed since" queries fast.

Invoices are found by id and, for the poller's query, through `changed_since`: an
append-only list of (modificationDate, id) pairs. A change appends a pair and leaves the
old one stale; readers skip stale pairs, and the list is compacted when half of it is
stale. The clock is strictly increasing, so the list stays sorted without re-sorting.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from connectors.sage_active.sandbox.entities import (
    AccountingAccount,
    AccountingEntry,
    Customer,
    EInvoiceSetup,
    JournalType,
    OpenItem,
    Organization,
    PaymentMethod,
    Product,
    SalesInvoice,
    Tax,
    TaxGroup,
)
from connectors.sage_active.sandbox.purchase_entities import Purchases


class Clock:
    """UTC now, strictly increasing (by at least a microsecond) across calls and threads."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = datetime.now(UTC)
            if current <= self._last:
                current = self._last + timedelta(microseconds=1)
            self._last = current
            return current

    def observe(self, moment: datetime) -> None:
        """Never hand out a time earlier than `moment` (used after loading a saved state)."""
        with self._lock:
            self._last = max(self._last, moment)


@dataclass(slots=True)
class Books:
    """Everything one organisation holds; `counters` numbers invoices and ledger entries."""

    organization: Organization
    tax_groups: dict[UUID, TaxGroup] = field(default_factory=dict)
    taxes: dict[UUID, Tax] = field(default_factory=dict)
    journal_types: dict[UUID, JournalType] = field(default_factory=dict)
    payment_methods: dict[UUID, PaymentMethod] = field(default_factory=dict)
    products: dict[UUID, Product] = field(default_factory=dict)
    customers: dict[UUID, Customer] = field(default_factory=dict)
    invoices: dict[UUID, SalesInvoice] = field(default_factory=dict)
    open_items: dict[UUID, OpenItem] = field(default_factory=dict)
    entries: dict[UUID, AccountingEntry] = field(default_factory=dict)
    accounts: dict[UUID, AccountingAccount] = field(default_factory=dict)
    purchases: Purchases = field(default_factory=Purchases)  # suppliers, bank feed
    invoice_counter: int = 0
    entry_counter: int = 0
    mod_dates: list[datetime] = field(default_factory=list)
    mod_ids: list[UUID] = field(default_factory=list)
    # French e-invoicing (`einvoicing.py`): the registration (None: not registered) and the
    # invoices whose submission the simulated platform still moves on.
    einvoice_setup: EInvoiceSetup | None = None
    einvoice_active: list[UUID] = field(default_factory=list)

    def put_invoice(self, invoice: SalesInvoice) -> None:
        """Store (or re-store after a change) an invoice and index its modificationDate."""
        self.invoices[invoice.id] = invoice
        if self.mod_dates and invoice.modification_date < self.mod_dates[-1]:
            position = bisect.bisect_right(self.mod_dates, invoice.modification_date)
            self.mod_dates.insert(position, invoice.modification_date)
            self.mod_ids.insert(position, invoice.id)
        else:
            self.mod_dates.append(invoice.modification_date)
            self.mod_ids.append(invoice.id)
        if len(self.mod_ids) > 1024 and len(self.mod_ids) > 2 * len(self.invoices):
            self._compact()

    def reindex(self) -> None:
        """Rebuild the modificationDate index (after loading from a file)."""
        self.mod_dates, self.mod_ids = [], []
        for invoice in sorted(self.invoices.values(), key=lambda inv: inv.modification_date):
            self.mod_dates.append(invoice.modification_date)
            self.mod_ids.append(invoice.id)

    def drop_invoice(self, invoice_id: UUID) -> None:
        self.invoices.pop(invoice_id, None)

    def invoices_by_modification(
        self, since: datetime | None, strict: bool
    ) -> Iterator[SalesInvoice]:
        """Live invoices in modificationDate order, from `since` (inclusive unless strict)."""
        start = 0
        if since is not None:
            finder = bisect.bisect_right if strict else bisect.bisect_left
            start = finder(self.mod_dates, since)
        for position in range(start, len(self.mod_ids)):
            invoice = self.invoices.get(self.mod_ids[position])
            if invoice is not None and invoice.modification_date == self.mod_dates[position]:
                yield invoice

    def _compact(self) -> None:
        pairs = [
            (moment, ident)
            for moment, ident in zip(self.mod_dates, self.mod_ids, strict=True)
            if (inv := self.invoices.get(ident)) is not None and inv.modification_date == moment
        ]
        self.mod_dates = [moment for moment, _ in pairs]
        self.mod_ids = [ident for _, ident in pairs]

    def next_invoice_number(self) -> str:
        self.invoice_counter += 1
        return f"{self.invoice_counter:04d}"

    def next_entry_number(self) -> int:
        self.entry_counter += 1
        return self.entry_counter

    def add_entry(self, entry: AccountingEntry) -> None:
        """Store a ledger entry; its lines learn their entry's id (`accountingEntryId`)."""
        for line in entry.accounting_entry_lines:
            line.accounting_entry_id = entry.id
        self.entries[entry.id] = entry

    def account_by_code(self, code: str) -> AccountingAccount | None:
        return next((a for a in self.accounts.values() if a.code == code), None)

    def journal_of_type(self, journal_type: str) -> JournalType | None:
        return next((j for j in self.journal_types.values() if j.type == journal_type), None)

    def tax_of_group(self, group_id: UUID) -> Tax | None:
        return next((t for t in self.taxes.values() if t.group_id == group_id), None)
