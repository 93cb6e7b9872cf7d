"""Accounting entries made through the API: `createAccountingEntryUsingCodes` / `...UsingIds`.

The rules of reference/sage-active/13-accounting-entries.md, each refusal a business error
that changes nothing:
- the journal must exist and be active (`journalTypeNotFound`, `journalTypeDeactivated`);
- at least two lines (`accountingEntryLinesRequired`); each on an existing, active general
  account (`accountingAccountNotFound`); amounts >= 0 with at most two decimals, one side
  per line and not both zero (`invalidLineAmount`);
- debits equal credits (`accountingEntryNotBalanced`, with both totals);
- a third party must exist (`thirdPartyNotFound`) and sit on a third-party account (class 4:
  411 customers, 401 suppliers, 421 employees; else `thirdPartyAccountMismatch`); a line on
  a customer or supplier account needs one (`thirdPartyRequired`);
- lengths: documentNumber 50, description 200 (header and lines); the description is
  mandatory in DE legislation;
- in SALES_INVOICE / PURCHASE_INVOICE journals, lines of the same third party are merged.
Lines without a description take the header's; the entry's `sourceType` is PUBLIC_API.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import AccountingEntry, AccountingEntryLine
from connectors.sage_active.sandbox.errors import BusinessError, check_length
from connectors.sage_active.sandbox.inputs import EntryByCodes, EntryByIds
from connectors.sage_active.sandbox.money import ZERO

THIRD_PARTY_CLASSES = {"401": "SUPPLIER", "411": "CUSTOMER", "421": "EMPLOYEE"}
MERGING_JOURNALS = ("SALES_INVOICE", "PURCHASE_INVOICE")
CENT = Decimal("0.01")


@dataclass
class _Line:
    account: str
    third: UUID | None
    description: str | None
    debit: Decimal
    credit: Decimal


def create_by_codes(books: Books, clock: Clock, data: EntryByCodes) -> AccountingEntry:
    """Raises: BusinessError for any rule of the module docstring."""
    journal = next(
        (j for j in books.journal_types.values() if j.code == data.journal_type_code), None
    )
    if journal is None:
        raise BusinessError("journalTypeNotFound", journal=data.journal_type_code)
    lines = []
    for position, raw in enumerate(data.accounting_entry_lines):
        third = None
        if raw.third_code is not None:
            third = next((c.id for c in books.customers.values() if c.code == raw.third_code), None)
            suppliers = books.purchases.suppliers.values()
            third = third or next((s.id for s in suppliers if s.code == raw.third_code), None)
            if third is None:
                raise BusinessError("thirdPartyNotFound", third=raw.third_code, line=position)
        lines.append(
            _Line(raw.sub_account_code, third, raw.description, raw.debit_amount, raw.credit_amount)
        )
    return _create(books, clock, data, journal.id, lines)


def create_by_ids(books: Books, clock: Clock, data: EntryByIds) -> AccountingEntry:
    """Raises: BusinessError for any rule of the module docstring."""
    if data.journal_type_id not in books.journal_types:
        raise BusinessError("journalTypeNotFound", id=str(data.journal_type_id))
    lines = []
    for position, raw in enumerate(data.accounting_entry_lines):
        account = books.accounts.get(raw.sub_account_id)
        if account is None:
            raise BusinessError(
                "accountingAccountNotFound", id=str(raw.sub_account_id), line=position
            )
        known = raw.third_id in books.customers or raw.third_id in books.purchases.suppliers
        if raw.third_id is not None and not known:
            raise BusinessError("thirdPartyNotFound", id=str(raw.third_id), line=position)
        lines.append(
            _Line(account.code, raw.third_id, raw.description, raw.debit_amount, raw.credit_amount)
        )
    return _create(books, clock, data, data.journal_type_id, lines)


def _create(
    books: Books,
    clock: Clock,
    data: EntryByCodes | EntryByIds,
    journal_id: UUID,
    lines: list[_Line],
) -> AccountingEntry:
    journal = books.journal_types[journal_id]
    if journal.deactivated:
        raise BusinessError("journalTypeDeactivated", journal=journal.code)
    check_length("documentNumber", data.document_number, 50)
    check_length("description", data.description, 200)
    if books.organization.legislation_code == "DE" and not (data.description or "").strip():
        raise BusinessError("requiredField", field="description")
    if len(lines) < 2:
        raise BusinessError("accountingEntryLinesRequired", count=len(lines))
    for position, line in enumerate(lines):
        _check_line(books, position, line)
    debit = sum((line.debit for line in lines), ZERO)
    credit = sum((line.credit for line in lines), ZERO)
    if debit != credit:
        raise BusinessError("accountingEntryNotBalanced", debit=str(debit), credit=str(credit))
    if journal.type in MERGING_JOURNALS:
        lines = _merge_third_parties(lines)
    now = clock.now()
    entry = AccountingEntry(
        id=uuid4(),
        number=books.next_entry_number(),
        date=data.date,
        document_date=data.document_date or data.date,
        journal_type_id=journal_id,
        source_type="PUBLIC_API",
        creation_date=now,
        modification_date=now,
        description=data.description,
        document_number=data.document_number,
    )
    entry.accounting_entry_lines = [
        AccountingEntryLine(
            id=uuid4(),
            order=order,
            account_code=line.account,
            description=line.description if line.description is not None else data.description,
            debit_amount=line.debit,
            credit_amount=line.credit,
            document_number=data.document_number,
            third_party_id=line.third,
        )
        for order, line in enumerate(lines)
    ]
    books.add_entry(entry)
    return entry


def _check_line(books: Books, position: int, line: _Line) -> None:
    account = books.account_by_code(line.account)
    if account is None or account.deactivated:
        raise BusinessError("accountingAccountNotFound", account=line.account, line=position)
    check_length("description", line.description, 200)
    amounts = (line.debit, line.credit)
    if (
        any(a < ZERO or a != a.quantize(CENT) for a in amounts)
        or (line.debit and line.credit)
        or not (line.debit or line.credit)
    ):
        raise BusinessError(
            "invalidLineAmount", line=position, debit=str(line.debit), credit=str(line.credit)
        )
    third_kind = THIRD_PARTY_CLASSES.get(line.account[:3])
    if line.third is not None and third_kind is None:
        raise BusinessError("thirdPartyAccountMismatch", account=line.account, line=position)
    if line.third is None and third_kind in ("CUSTOMER", "SUPPLIER"):
        raise BusinessError("thirdPartyRequired", account=line.account, line=position)


def _merge_third_parties(lines: list[_Line]) -> list[_Line]:
    merged: list[_Line] = []
    by_third: dict[tuple[UUID, str], _Line] = {}
    for line in lines:
        if line.third is None:
            merged.append(line)
            continue
        key = (line.third, line.account)
        first = by_third.get(key)
        if first is None:
            by_third[key] = _Line(
                line.account, line.third, line.description, line.debit, line.credit
            )
            merged.append(by_third[key])
            continue
        net = first.debit - first.credit + line.debit - line.credit
        first.debit, first.credit = max(net, ZERO), max(-net, ZERO)
    return [line for line in merged if line.debit or line.credit]
