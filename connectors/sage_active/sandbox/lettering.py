"""A posted credit note is matched with the invoice it credits, as Sage matches them.

The reference's organisation setup has `openItemsAutomaticAllocation` ("automatically
match entries with the oldest open items", 15-reference-data); the sandbox applies it to a
credit note and the invoice it was generated from.

When a credit note generated from an invoice (`sourceSalesInvoiceId`) is posted, what the
invoice still owes is settled by the credit, oldest open item first, up to the credit's
amount: the invoice's open items show the credit (`paidAmountAccumulated`), its status
moves to PartiallyCollected or Collected, and the credit note's own open item records the
part so used. What the credit leaves over (an invoice already paid: money to give back)
stays open on the credit note. No bank entry is made: the credit note's own sales entry
is the accounting of it.
"""

from __future__ import annotations

from datetime import datetime

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.entities import SalesInvoice
from connectors.sage_active.sandbox.money import ZERO


def match_credit_note(books: Books, note: SalesInvoice, now: datetime) -> None:
    """Settle the source invoice's open items with `note`'s credit (module docstring)."""
    source_id = note.source_sales_invoice_id
    source = books.invoices.get(source_id) if source_id else None
    if note.type != "CREDIT_NOTE" or source is None or not source.open_item_ids:
        return
    credit = -note.total_liquid
    items = sorted(
        (books.open_items[i] for i in source.open_item_ids), key=lambda i: (i.due_date, str(i.id))
    )
    used = ZERO
    for item in items:
        owed = item.amount - item.paid_amount_accumulated
        take = min(owed, credit - used)
        if take <= ZERO:
            continue
        item.paid_amount_accumulated += take
        item.status = "COLLECTED" if item.paid_amount_accumulated >= item.amount else "PARTIAL"
        item.modification_date = now
        used += take
    if used == ZERO:
        return
    done = all(books.open_items[i].status == "COLLECTED" for i in source.open_item_ids)
    source.status = "Collected" if done else "PartiallyCollected"
    source.modification_date = now
    books.put_invoice(source)
    for item_id in note.open_item_ids:
        own = books.open_items[item_id]
        own.paid_amount_accumulated = -used
        own.status = "COLLECTED" if -used <= own.amount else "PARTIAL"
        own.modification_date = now
