"""Read-only, paged queries for the variance report: the sales documents and the
accounting entries of a date range, every page walked (`first`/`after`, 500 a page).

Credit notes are sales invoices of `type == "CREDIT_NOTE"` (their `totalLiquid` is
negative in Sage); settlements are entries of source type `BANKING`; entries the API made
(payouts) are `PUBLIC_API`; invoice postings are `SALES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field

from connectors.sage_active.accounting import LedgerLine
from connectors.sage_active.documents import OPEN_ITEM_FIELDS
from connectors.sage_active.models import OpenItem, SageModel
from connectors.sage_active.pagination import MAX_PAGE_SIZE, paginate, parse

if TYPE_CHECKING:
    from connectors.sage_active.client import SageClient

ZERO = Decimal("0")
PAGE_INFO = "pageInfo { endCursor hasNextPage } totalCount"
DOCUMENTS_BETWEEN = (
    "query ($from: DateTime, $to: DateTime, $first: Int, $after: String) "
    "{ salesInvoices(first: $first, after: $after, where: { documentDate: { gte: $from, "
    "lt: $to } }, order: [{ documentDate: ASC }]) { nodes { id status type "
    "operationalNumber salesOrderNumber externalReference sourceSalesInvoiceId documentDate "
    "totalLiquid openItems { " + OPEN_ITEM_FIELDS + " } } " + PAGE_INFO + " } }"
)
DOCUMENT_FIELDS = (
    "id status type operationalNumber salesOrderNumber externalReference sourceSalesInvoiceId "
    "documentDate totalLiquid openItems { " + OPEN_ITEM_FIELDS + " }"
)
INVOICES_OF_ORDERS = (
    "query ($refs: [String], $first: Int, $after: String) { salesInvoices(first: $first, "
    "after: $after, where: { salesOrderNumber: { in: $refs } }, order: [{ creationDate: ASC }]) "
    "{ nodes { " + DOCUMENT_FIELDS + " } " + PAGE_INFO + " } }"
)
CREDIT_NOTES_OF = (
    "query ($ids: [UUID], $first: Int, $after: String) { salesInvoices(first: $first, "
    "after: $after, where: { sourceSalesInvoiceId: { in: $ids } }, order: [{ creationDate: "
    "ASC }]) { nodes { " + DOCUMENT_FIELDS + " } " + PAGE_INFO + " } }"
)
BATCH = 200  # references per `in` filter
ENTRIES_BETWEEN = (
    "query ($from: DateTime, $to: DateTime, $first: Int, $after: String) "
    "{ accountingEntries(first: $first, after: $after, where: { date: { gte: $from, "
    "lt: $to } }, order: [{ date: ASC }]) { nodes { id number documentNumber description "
    "date sourceType accountingEntryLines { debitAmount creditAmount description "
    "subAccount { code } } } " + PAGE_INFO + " } }"
)


class ReportDocument(SageModel):
    """A sales invoice or credit note as the report reads it."""

    id: str
    status: str | None = None
    type: str | None = None
    operational_number: str | None = None
    sales_order_number: str | None = None
    external_reference: str | None = None
    source_sales_invoice_id: str | None = None
    document_date: dt.datetime | None = None
    total_liquid: Decimal = ZERO
    open_items: list[OpenItem] = Field(default_factory=list)

    @property
    def is_credit_note(self) -> bool:
        return self.type == "CREDIT_NOTE"

    @property
    def settled(self) -> Decimal:
        """What was paid against the document's open items (settlements, by hand or not)."""
        return sum((item.paid_amount_accumulated for item in self.open_items), ZERO)


class ReportEntry(SageModel):
    """An accounting entry with its lines."""

    id: str
    number: int | None = None
    document_number: str | None = None
    description: str | None = None
    date: dt.datetime | None = None
    source_type: str | None = None
    accounting_entry_lines: list[LedgerLine] = Field(default_factory=list)

    def balance_on(self, code: str) -> Decimal:
        """Debits minus credits of the entry's lines on account `code`."""
        return sum(
            (
                line.debit_amount - line.credit_amount
                for line in self.accounting_entry_lines
                if line.sub_account is not None and line.sub_account.code == code
            ),
            ZERO,
        )


def _bounds(first: dt.date, last: dt.date) -> dict[str, dt.datetime]:
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    return {"from": start, "to": end}


def documents_between(
    client: SageClient, first: dt.date, last: dt.date, page_size: int = MAX_PAGE_SIZE
) -> Iterator[ReportDocument]:
    """Sales invoices and credit notes dated `first` to `last` (inclusive), every page.

    Raises:
        SageError: as `SageClient.execute`.
    """
    for node in paginate(
        client,
        DOCUMENTS_BETWEEN,
        _bounds(first, last),
        "salesInvoices",
        page_size=page_size,
        name="salesInvoices",
    ):
        yield parse(ReportDocument, node)


def documents_of_orders(
    client: SageClient, references: list[str], page_size: int = MAX_PAGE_SIZE
) -> Iterator[ReportDocument]:
    """Every document whose `salesOrderNumber` is one of `references` (whatever its date),
    and every credit note of those invoices, paged, `BATCH` references a query.

    Raises:
        SageError: as `SageClient.execute`.
    """
    invoice_ids: list[str] = []
    for start in range(0, len(references), BATCH):
        batch = {"refs": references[start : start + BATCH]}
        for node in paginate(
            client,
            INVOICES_OF_ORDERS,
            batch,
            "salesInvoices",
            page_size=page_size,
            name="salesInvoices",
        ):
            document = parse(ReportDocument, node)
            if not document.is_credit_note:
                invoice_ids.append(document.id)
                yield document
    for start in range(0, len(invoice_ids), BATCH):
        batch = {"ids": invoice_ids[start : start + BATCH]}
        for node in paginate(
            client,
            CREDIT_NOTES_OF,
            batch,
            "salesInvoices",
            page_size=page_size,
            name="salesInvoices",
        ):
            yield parse(ReportDocument, node)


def entries_between(
    client: SageClient, first: dt.date, last: dt.date, page_size: int = MAX_PAGE_SIZE
) -> Iterator[ReportEntry]:
    """Accounting entries dated `first` to `last` (inclusive), with their lines, every page.

    Raises:
        SageError: as `SageClient.execute`.
    """
    for node in paginate(
        client,
        ENTRIES_BETWEEN,
        _bounds(first, last),
        "accountingEntries",
        page_size=page_size,
        name="accountingEntries",
    ):
        yield parse(ReportEntry, node)
