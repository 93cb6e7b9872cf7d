"""Bank accounts and the bank feed (15-reference-data.md "Bank Accounts", "Bank movements",
`reconcileBankMovement`, `unReconcileBankMovement`).

A bank account is a payment method of type BANK_ACCOUNT (same id) seen with its banking
data. Movements arrive as a bank feed would bring them: here through the control surface
(`POST /_sandbox/bank-movements`, `add_movement`).

Reconciling ties a movement to accounting entries: the movement must exist and not be
linked already (`bankMovementAlreadyReconciled`); at least one entry; each must exist
(`accountingEntryNotFound`), have a line on the bank account's general account
(`accountingEntryNotOnBankAccount`) and not be tied to another movement
(`accountingEntryAlreadyReconciled`). The movement becomes LINKED when those lines add up
to its amount, LINKED_WITH_VARIANCE otherwise; `linkedAccountingEntries` lists the bank
lines and `reconciledItems` records the link. Unreconciling (only a linked movement:
`bankMovementNotReconciled`) removes the links; the reconciled items stay, `linked` false.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import PaymentMethod
from connectors.sage_active.sandbox.errors import BusinessError, check_length
from connectors.sage_active.sandbox.money import CENT, ZERO
from connectors.sage_active.sandbox.purchase_entities import (
    BankMovement,
    LinkedEntry,
    ReconciledItem,
)
from connectors.sage_active.sandbox.purchase_inputs import ReconcileInput, UnreconcileInput

LINKED = ("LINKED", "LINKED_WITH_VARIANCE")


@dataclass(slots=True)
class BankAccount:
    """The `bankAccounts` view of a payment method."""

    id: UUID
    reference_name: str
    type: str
    disabled: bool
    accounting_account_code: str | None
    sub_account_id: UUID | None
    journal_type_id: UUID
    accounting_account_total_balance: Decimal
    balance_amount: Decimal
    banking_has_transactions: bool
    banking_last_transactions_received: datetime | None
    bank_name: str = "Banque Démo (sandbox)"
    iban: str | None = None
    bic: str | None = None


def _account_code(books: Books, method: PaymentMethod) -> str | None:
    account = books.accounts.get(method.sub_account_id) if method.sub_account_id else None
    return account.code if account else None


def bank_accounts(books: Books) -> list[BankAccount]:
    """Every payment method of type BANK_ACCOUNT, with its balances."""
    result = []
    for method in books.payment_methods.values():
        if method.type != "BANK_ACCOUNT":
            continue
        code = _account_code(books, method)
        ledger = sum(
            (
                ln.debit_amount - ln.credit_amount
                for entry in books.entries.values()
                for ln in entry.accounting_entry_lines
                if code is not None and ln.account_code == code
            ),
            ZERO,
        )
        moves = [
            m for m in books.purchases.bank_movements.values() if m.bank_account_id == method.id
        ]
        result.append(
            BankAccount(
                id=method.id,
                reference_name=method.reference_name,
                type=method.type,
                disabled=method.disabled,
                accounting_account_code=code,
                sub_account_id=method.sub_account_id,
                journal_type_id=method.journal_type_id,
                accounting_account_total_balance=ledger,
                balance_amount=sum((m.transaction_amount for m in moves), ZERO),
                banking_has_transactions=bool(moves),
                banking_last_transactions_received=max(
                    (m.creation_date for m in moves), default=None
                ),
            )
        )
    return result


def add_movement(
    books: Books,
    clock: Clock,
    account_code: str,
    amount: Decimal,
    day: datetime,
    label: str | None,
    reference: str | None = None,
) -> BankMovement:
    """A statement line on the bank account whose general account is `account_code`.

    Raises:
        BusinessError: no enabled bank account on that code (`bankAccountNotFound`), an
            amount of zero or with more than two decimals (`invalidAmount`), a label too long.
    """
    method = next(
        (
            m
            for m in books.payment_methods.values()
            if m.type == "BANK_ACCOUNT"
            and not m.disabled
            and _account_code(books, m) == account_code
        ),
        None,
    )
    if method is None:
        raise BusinessError("bankAccountNotFound", bankAccount=account_code)
    if not amount or amount != amount.quantize(CENT):
        raise BusinessError("invalidAmount", amount=str(amount))
    check_length("label", label, 140)
    check_length("reference", reference, 140)
    now = clock.now()
    movement = BankMovement(
        id=uuid4(),
        bank_account_id=method.id,
        transaction_amount=amount,
        date_posted=day,
        creation_date=now,
        modification_date=now,
        date_funds_available=day,
        transaction_narrative=label,
        reference_number=reference,
        transaction_type="CREDIT" if amount > ZERO else "DEBIT",
    )
    books.purchases.bank_movements[movement.id] = movement
    return movement


def reconcile(books: Books, clock: Clock, data: ReconcileInput) -> BankMovement:
    """Raises: BusinessError for any rule of the module docstring."""
    movement = _movement(books, data.bank_transaction_id)
    if movement.link_status in LINKED:
        raise BusinessError("bankMovementAlreadyReconciled", id=str(movement.id))
    if not data.accounting_entries:
        raise BusinessError("requiredField", field="accountingEntries")
    method = books.payment_methods[movement.bank_account_id]
    code = _account_code(books, method)
    taken = {
        linked.accounting_entry_id
        for other in books.purchases.bank_movements.values()
        for linked in other.linked_accounting_entries
    }
    links: list[LinkedEntry] = []
    total = ZERO
    for ref in data.accounting_entries:
        entry = books.entries.get(ref.accounting_entry_id)
        if entry is None:
            raise BusinessError("accountingEntryNotFound", id=str(ref.accounting_entry_id))
        bank_lines = [ln for ln in entry.accounting_entry_lines if ln.account_code == code]
        if not bank_lines:
            raise BusinessError("accountingEntryNotOnBankAccount", id=str(entry.id), account=code)
        if entry.id in taken:
            raise BusinessError("accountingEntryAlreadyReconciled", id=str(entry.id))
        total += sum((ln.debit_amount - ln.credit_amount for ln in bank_lines), ZERO)
        links.append(
            LinkedEntry(
                id=bank_lines[0].id,
                accounting_entry_id=entry.id,
                bank_journal_type_id=entry.journal_type_id,
                date=entry.date,
                number=entry.number,
                document_number=entry.document_number,
                description=entry.description,
            )
        )
    now = clock.now()
    movement.linked_accounting_entries = links
    movement.reconciled_items.extend(
        ReconciledItem(
            id=uuid4(),
            linked=True,
            bank_accounting_entry_id=link.accounting_entry_id,
            banking_rule_id=data.banking_rule_id,
        )
        for link in links
    )
    movement.link_status = (
        "LINKED" if total == movement.transaction_amount else "LINKED_WITH_VARIANCE"
    )
    movement.link_status_date = now
    movement.modification_date = now
    return movement


def unreconcile(books: Books, clock: Clock, data: UnreconcileInput) -> BankMovement:
    """Raises: BusinessError for any rule of the module docstring."""
    movement = _movement(books, data.bank_transaction_id)
    if movement.link_status not in LINKED:
        raise BusinessError("bankMovementNotReconciled", id=str(movement.id))
    now = clock.now()
    movement.linked_accounting_entries = []
    for item in movement.reconciled_items:
        item.linked = False
    movement.link_status = "NOT_SPECIFIED"
    movement.link_status_date = now
    movement.modification_date = now
    return movement


def _movement(books: Books, ident: UUID) -> BankMovement:
    movement = books.purchases.bank_movements.get(ident)
    if movement is None:
        raise BusinessError("bankMovementNotFound", id=str(ident))
    return movement
