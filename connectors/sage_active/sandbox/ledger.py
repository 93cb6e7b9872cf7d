"""Posting, settlement and credit notes: the rules that touch the ledger and open items.

Posting makes one accounting entry (customer debit, sales and VAT credits) and the open
items (one per payment term line, else one for the whole amount). A settlement makes one
entry in the payment method's journal, debiting the payment method's account (`subAccount`:
e.g. the Stripe clearing account 511500000), and can never pay more than an open item
still owes.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import (
    AccountingEntry,
    AccountingEntryLine,
    OpenItem,
    PaymentTermLine,
    SalesInvoice,
)
from connectors.sage_active.sandbox.errors import BusinessError, check_length, require
from connectors.sage_active.sandbox.inputs import PostInput, SettlementInput
from connectors.sage_active.sandbox.invoices import get_invoice
from connectors.sage_active.sandbox.legislations import posting_accounts
from connectors.sage_active.sandbox.lettering import match_credit_note
from connectors.sage_active.sandbox.money import HUNDRED, ZERO, cents

POSTED_STATES = ("Posted", "PartiallyCollected", "Collected")
# Accounts of the seeded French chart (seed.CHART) the sales and settlement entries use.
CUSTOMERS_ACCOUNT = "411000000"
SALES_ACCOUNT = "706000000"
VAT_ACCOUNT = "445710000"
BANK_ACCOUNT = "512000000"  # a settlement whose payment method names no account


def post_invoice(books: Books, clock: Clock, data: PostInput) -> AccountingEntry:
    """Closed -> Posted: the sales entry, the open items and `firstDueDate`.

    Raises:
        BusinessError: invoice not found or not Closed, journal not found or not of type
            SALES_INVOICE, description missing or too long.
    """
    invoice = get_invoice(books, data.sales_invoice_id)
    if invoice.status != "Closed":
        raise BusinessError("salesInvoiceNotClosed", status=invoice.status)
    journal = books.journal_types.get(data.journal_type_id)
    if journal is None:
        raise BusinessError("journalTypeNotFound", id=str(data.journal_type_id))
    if journal.type != "SALES_INVOICE" or journal.deactivated:
        raise BusinessError("journalTypeMustBeSalesInvoice", type=journal.type)
    require("accountingEntryDescription", data.accounting_entry_description)
    check_length("accountingEntryDescription", data.accounting_entry_description, 200)
    now = clock.now()
    entry = _new_entry(books, now, invoice.document_date, journal.id, "SALES")
    entry.description = data.accounting_entry_description
    entry.document_number = invoice.operational_number
    entry.source_entity_id = invoice.id
    entry.accounting_entry_lines = _sales_lines(books, invoice)
    books.add_entry(entry)
    make_open_items(books, invoice, now)
    invoice.status = "Posted"
    invoice.modification_date = now
    books.put_invoice(invoice)
    match_credit_note(books, invoice, now)
    return entry


def make_open_items(books: Books, invoice: SalesInvoice, now: datetime) -> None:
    """One open item per payment term line (else one for the total), and `firstDueDate`."""
    shares = _term_shares(invoice) if invoice.payment_term_lines else []
    if not shares:
        shares = [(invoice.total_liquid, invoice.document_date, None)]
    for amount, due, mean_id in shares:
        item = OpenItem(
            id=uuid4(),
            sales_invoice_id=invoice.id,
            amount=amount,
            due_date=due,
            creation_date=now,
            modification_date=now,
            payment_mean_id=mean_id,
        )
        books.open_items[item.id] = item
        invoice.open_item_ids.append(item.id)
    invoice.first_due_date = min(due for _, due, _ in shares)


def settle(books: Books, clock: Clock, data: SettlementInput) -> AccountingEntry:
    """Pay open items; statuses PARTIAL / COLLECTED and PartiallyCollected / Collected follow.

    Raises:
        BusinessError: unknown payment method, third party or open item; an open item of
            another customer; an amount <= 0 or above what remains; a field too long.
    """
    check_length("documentNumber", data.document_number, 50)
    check_length("description", data.description, 200)
    method = books.payment_methods.get(data.payment_method_id)
    if method is None or method.disabled:
        raise BusinessError("paymentMethodNotFound", id=str(data.payment_method_id))
    if data.third_party_id not in books.customers:
        raise BusinessError("thirdPartyNotFound", id=str(data.third_party_id))
    paying = _amounts_to_pay(books, data)
    now = clock.now()
    entry = _new_entry(books, now, data.entry_date, method.journal_type_id, "BANKING")
    entry.description = data.description
    entry.document_number = data.document_number
    total = sum(paying.values(), ZERO)
    account = books.accounts.get(method.sub_account_id) if method.sub_account_id else None
    debit_account = account.code if account else BANK_ACCOUNT
    lines = [_line(0, debit_account, data.description, total, ZERO, data.document_number)]
    customers_account = posting_accounts(books, None)[0]
    for position, (item_id, amount) in enumerate(paying.items(), start=1):
        lines.append(
            _line(position, customers_account, data.description, ZERO, amount, data.document_number)
        )
        lines[-1].third_party_id = data.third_party_id
        _apply_payment(books, books.open_items[item_id], amount, now)
    entry.accounting_entry_lines = lines
    books.add_entry(entry)
    return entry


def _amounts_to_pay(books: Books, data: SettlementInput) -> dict[UUID, Decimal]:
    """Amount per open item, checked against what remains (same item twice adds up)."""
    if not data.sales_open_item_linkage_paid_amounts:
        raise BusinessError("requiredField", field="salesOpenItemLinkagePaidAmounts")
    paying: dict[UUID, Decimal] = {}
    for part in data.sales_open_item_linkage_paid_amounts:
        item = books.open_items.get(part.open_item_id)
        if item is None:
            raise BusinessError("openItemNotFound", id=str(part.open_item_id))
        if books.invoices[item.sales_invoice_id].customer_id != data.third_party_id:
            raise BusinessError("openItemThirdPartyMismatch", id=str(item.id))
        if part.paid_amount <= ZERO:
            raise BusinessError("paidAmountMustBePositive", id=str(item.id))
        paying[item.id] = paying.get(item.id, ZERO) + part.paid_amount
        if paying[item.id] > item.amount - item.paid_amount_accumulated:
            raise BusinessError("paidAmountExceedsRemaining", id=str(item.id))
    return paying


def _apply_payment(books: Books, item: OpenItem, amount: Decimal, now: datetime) -> None:
    item.paid_amount_accumulated += amount
    item.status = "COLLECTED" if item.paid_amount_accumulated >= item.amount else "PARTIAL"
    item.modification_date = now
    invoice = books.invoices[item.sales_invoice_id]
    items = [books.open_items[ident] for ident in invoice.open_item_ids]
    done = all(each.status == "COLLECTED" for each in items)
    invoice.status = "Collected" if done else "PartiallyCollected"
    invoice.modification_date = now
    books.put_invoice(invoice)


def _new_entry(
    books: Books, now: datetime, day: datetime, journal_id: UUID, source: str
) -> AccountingEntry:
    return AccountingEntry(
        id=uuid4(),
        number=books.next_entry_number(),
        date=day,
        document_date=day,
        journal_type_id=journal_id,
        source_type=source,
        creation_date=now,
        modification_date=now,
    )


def _line(
    order: int, account: str, text: str | None, debit: Decimal, credit: Decimal, ref: str | None
) -> AccountingEntryLine:
    return AccountingEntryLine(
        id=uuid4(),
        order=order,
        account_code=account,
        description=text,
        debit_amount=debit,
        credit_amount=credit,
        document_number=ref,
    )


def _sales_lines(books: Books, invoice: SalesInvoice) -> list[AccountingEntryLine]:
    """Customer 411 against sales and VAT 44571 (FR; `posting_accounts`: the sales account
    by the customer's country, the accounts by legislation); a credit note swaps the sides."""
    ref = invoice.operational_number
    text = invoice.social_name

    def side(
        account: str, amount: Decimal, debit_when_positive: bool, order: int
    ) -> AccountingEntryLine:
        positive = amount >= ZERO
        debit = abs(amount) if positive == debit_when_positive else ZERO
        credit = abs(amount) if positive != debit_when_positive else ZERO
        return _line(order, account, text, debit, credit, ref)

    customers, sales, vat = posting_accounts(books, books.customers.get(invoice.customer_id))
    lines = [side(customers, invoice.total_liquid, True, 0)]
    lines[0].third_party_id = invoice.customer_id
    lines.append(side(sales, invoice.total_net, False, 1))
    if invoice.total_vat:
        lines.append(side(vat, invoice.total_vat, False, 2))
    return lines


def _term_shares(invoice: SalesInvoice) -> list[tuple[Decimal, datetime, UUID | None]]:
    shares: list[tuple[Decimal, datetime, UUID | None]] = []
    left = invoice.total_liquid
    for term in sorted(invoice.payment_term_lines, key=lambda t: t.order):
        if term.type == "PERCENTAGE":
            amount = cents(invoice.total_liquid * term.value / HUNDRED)
        elif term.type == "FIXED_AMOUNT":
            amount = min(term.value, left)
        elif term.type == "REMAINING_AMOUNT":
            amount = left
        else:
            continue
        left -= amount
        shares.append((amount, _due(invoice.document_date, term), term.payment_mean_id))
    if shares and left:
        amount, due, mean = shares[-1]
        shares[-1] = (amount + left, due, mean)
    return shares


def _due(day: datetime, term: PaymentTermLine) -> datetime:
    due = day + timedelta(days=term.day)
    if term.condition == "END_OF_MONTH":
        last = calendar.monthrange(due.year, due.month)[1]
        due = due.replace(day=last)
    return due
