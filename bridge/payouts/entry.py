"""A payout's balance transactions summed into one balanced accounting entry (pure).

Every balance transaction becomes a `Movement` (signed amounts in the payout's currency,
major units). `PayoutTotals.add` folds them one at a time, so a payout of any size needs
memory for its totals only. Sides, "debit positive":

| movement                  | counterpart of `amount`              | `fee`          |
| ------------------------- | ------------------------------------ | -------------- |
| SALE (charge, payment)    | clearing account (a credit)          | fees account   |
| REFUND, DISPUTE (+reversal) | the customer's account (1)         | fees account   |
| FEE (stripe_fee, tax_fee, application_fee...) | - (its whole `net` goes to the fees account) | |
| RETURN (payout_failure, payout_cancel) | clearing account                 | fees account   |
| PAYOUT (the payout's own transaction) | checked against the payout amount, not booked | |

and the bank account is debited by the payout amount. (1) with the customer's code, when the
bridge booked the order; else the clearing account, and an attention item says so.

Debits equal credits exactly when the payout amount is the sum of the transactions' `net`,
which is checked: a payout that does not add up, that has a currency conversion, or a
transaction type the mapping does not know is not booked at all (`problems`), never
booked unbalanced or in part.

Why refunds and disputes go to the customer: the bridge books a refund as a credit note,
which leaves the customer's account in credit, and a payment as a settlement that moves
the debt to the clearing account. The refund's money leaves the processor inside the
payout, so the payout is where the customer's credit is paid back; booked there, the
customer's account returns to zero and the clearing account holds exactly the payments
settled and not yet paid out. (A dispute likewise reopens the customer's debt.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from connectors.sage_active.accounting import AccountingEntryInput, EntryLineInput

ZERO = Decimal("0")
CENT = Decimal("0.01")
MAX_PROBLEMS_LISTED = 20


class Kind(StrEnum):
    SALE = "sale"
    REFUND = "refund"
    DISPUTE = "dispute"
    FEE = "fee"
    RETURN = "return"
    PAYOUT = "payout"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Movement:
    """One balance transaction, normalised. `hint` finds the order of a refund/dispute."""

    id: str
    type: str  # the processor's own type, for messages
    kind: Kind
    amount: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    converted: bool = False
    hint: str | None = None


@dataclass(frozen=True)
class PayoutFacts:
    processor: str  # "stripe" | "shopify_payments"
    payout_id: str
    amount: Decimal  # what reaches the bank, major units
    currency: str
    date: dt.date


@dataclass(frozen=True)
class Accounts:
    """The codes the entry uses (settings, checked at start)."""

    bank: str
    clearing: str
    fees: str
    customers: str
    journal: str


@dataclass
class PayoutTotals:
    """Running sums over a payout's movements (see the module docstring)."""

    currency: str
    count: int = 0
    sales: Decimal = ZERO
    returns: Decimal = ZERO
    fees: Decimal = ZERO
    net: Decimal = ZERO
    payout_line: Decimal | None = None  # the payout's own transaction (negative)
    by_order_hint: dict[str | None, Decimal] = field(default_factory=dict)
    refunds: Decimal = ZERO
    disputes: Decimal = ZERO
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append(text)

    def add(self, move: Movement) -> None:
        """Fold one movement in (a problem is noted, the sums go on)."""
        self.count += 1
        if move.currency.lower() != self.currency.lower() or move.converted:
            self.problem(
                f"{move.id} ({move.type}): currency conversion, {move.amount} {move.currency} "
                f"in a {self.currency.upper()} payout"
            )
        if move.kind is Kind.PAYOUT:
            self.payout_line = (self.payout_line or ZERO) + move.amount
            return
        self.net += move.net
        if move.kind is Kind.FEE:
            self.fees -= move.net
            return
        self.fees += move.fee
        if move.kind is Kind.SALE:
            self.sales += move.amount
        elif move.kind is Kind.RETURN:
            self.returns += move.amount
        elif move.kind in (Kind.REFUND, Kind.DISPUTE):
            self.by_order_hint[move.hint] = self.by_order_hint.get(move.hint, ZERO) + move.amount
            if move.kind is Kind.REFUND:
                self.refunds += move.amount
            else:
                self.disputes += move.amount
        else:
            self.problem(
                f"{move.id}: balance transaction type {move.type!r} is not in the mapping "
                f"(amount {move.amount}, fee {move.fee})"
            )

    def check(self, payout: PayoutFacts) -> list[str]:
        """Every reason not to book: noted problems, and totals that do not add up."""
        problems = list(self.problems)
        if self.problem_count > len(self.problems):
            problems.append(f"... and {self.problem_count - len(self.problems)} more")
        if payout.amount <= ZERO:
            problems.append(f"payout amount {payout.amount} is not positive (a reversal?)")
        if self.payout_line is not None and -self.payout_line != payout.amount:
            problems.append(
                f"the payout's own transaction says {-self.payout_line}, the payout {payout.amount}"
            )
        if not problems and self.net != payout.amount:
            problems.append(
                f"the transactions' net adds up to {self.net}, the payout is {payout.amount}"
            )
        return problems


def fees_text(label: str, payout: PayoutFacts, accounts: Accounts) -> str:
    """The fee line's description; with monthly fee invoices (fees on the clearing account)
    it says so, and is how a retry finds the fees in an entry it adopts."""
    if accounts.fees == accounts.clearing:
        return f"{label} {WITHHELD}, payout {payout.payout_id}"
    return f"{label} fees, payout {payout.payout_id}"


WITHHELD = "fees withheld (monthly invoice)"


# (debit-positive amount, account, third party code, description)
Side = tuple[Decimal, str, str | None, str]


def entry_lines(
    payout: PayoutFacts,
    totals: PayoutTotals,
    accounts: Accounts,
    customer_of: Callable[[str | None], str | None],
) -> list[Side]:
    """The entry's lines, debit positive; `customer_of(hint)` is a customer code or None."""
    label = "Stripe" if payout.processor == "stripe" else "Shopify Payments"
    sides: list[Side] = [
        (payout.amount, accounts.bank, None, f"{label} payout {payout.payout_id}"),
        (totals.fees, accounts.fees, None, fees_text(label, payout, accounts)),
        (-totals.sales, accounts.clearing, None, f"{label} payments paid out"),
        (-totals.returns, accounts.clearing, None, f"{label} failed payouts returned"),
    ]
    unknown = ZERO
    for hint, amount in sorted(totals.by_order_hint.items(), key=lambda kv: str(kv[0])):
        code = customer_of(hint)
        if code is None:
            unknown += amount
        else:
            sides.append((-amount, accounts.customers, code, f"{label} refunds/disputes"))
    sides.append((-unknown, accounts.clearing, None, f"{label} refunds/disputes, order unknown"))
    return [side for side in sides if side[0]]


def entry_input(payout: PayoutFacts, accounts: Accounts, sides: list[Side]) -> AccountingEntryInput:
    """The `createAccountingEntryUsingCodes` input (raises ValueError when unbalanced)."""
    label = "Stripe" if payout.processor == "stripe" else "Shopify Payments"
    lines = [
        EntryLineInput(
            sub_account_code=account,
            third_code=third,
            description=text[:200],
            debit_amount=amount if amount > 0 else ZERO,
            credit_amount=-amount if amount < 0 else ZERO,
        )
        for amount, account, third, text in sides
    ]
    return AccountingEntryInput(
        date=payout.date,
        journal_type_code=accounts.journal,
        document_number=payout.payout_id[:50],
        description=f"{label} payout {payout.payout_id} ({payout.currency.upper()})"[:200],
        lines=lines,
    )


def failure_input(
    payout: PayoutFacts, accounts: Accounts, document_number: str
) -> AccountingEntryInput:
    """A payout that failed or was cancelled after it was booked: the money is back with
    the processor (clearing account), not in the bank; it comes out again in a later payout
    as a `payout_failure` / `payout_cancel` transaction."""
    label = "Stripe" if payout.processor == "stripe" else "Shopify Payments"
    text = f"{label} payout {payout.payout_id} failed: funds back with {label}"
    return AccountingEntryInput(
        date=payout.date,
        journal_type_code=accounts.journal,
        document_number=document_number,
        description=text[:200],
        lines=[
            EntryLineInput(sub_account_code=accounts.clearing, debit_amount=payout.amount),
            EntryLineInput(sub_account_code=accounts.bank, credit_amount=payout.amount),
        ],
    )
