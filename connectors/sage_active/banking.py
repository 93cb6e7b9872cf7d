"""Bank accounts and the bank feed (15-reference-data.md: `bankAccounts`, `bankMovements`,
`reconcileBankMovement`, `unReconcileBankMovement`), on top of `SageClient`.

`BankOperations(client)`: the bank accounts (an action query: one static list), the
movements of one bank account for an amount within a date range (all pages), and
reconciling a movement with accounting entries. Errors are the `errors` tree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from connectors.sage_active.client import SageClient
from connectors.sage_active.models import SageModel
from connectors.sage_active.pagination import paginate, parse

LINKED = frozenset({"LINKED", "LINKED_WITH_VARIANCE"})


class BankAccount(SageModel):
    id: str
    reference_name: str | None = None
    accounting_account_code: str | None = None
    disabled: bool = False


class LinkedEntry(SageModel):
    accounting_entry_id: str | None = None


class ReconciledItem(SageModel):
    linked: bool = False
    bank_accounting_entry_id: str | None = None


class BankMovement(SageModel):
    id: str
    bank_account_id: str | None = None
    transaction_amount: Decimal
    date_posted: dt.datetime | None = None
    transaction_narrative: str | None = None
    narrative1: str | None = None
    reference_number: str | None = None
    link_status: str | None = None
    linked_accounting_entries: list[LinkedEntry] = Field(default_factory=list)
    reconciled_items: list[ReconciledItem] = Field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        """Already tied to accounting (by anyone): never to be reconciled again."""
        return (
            self.link_status in LINKED
            or bool(self.linked_accounting_entries)
            or any(item.linked for item in self.reconciled_items)
        )

    @property
    def label(self) -> str:
        """Everything the bank says about the movement, for a reference search."""
        parts = (self.transaction_narrative, self.narrative1, self.reference_number)
        return " ".join(p for p in parts if p)

    def linked_to(self, entry_id: str) -> bool:
        return any(
            e.accounting_entry_id == entry_id for e in self.linked_accounting_entries
        ) or any(i.linked and i.bank_accounting_entry_id == entry_id for i in self.reconciled_items)


BANK_ACCOUNTS = "query { bankAccounts { id referenceName accountingAccountCode disabled } }"
MOVEMENTS = (
    "query ($where: BankMovementFilterInput, $first: Int, $after: String) { "
    "bankMovements(first: $first, after: $after, where: $where) { nodes { id bankAccountId "
    "transactionAmount datePosted transactionNarrative narrative1 referenceNumber linkStatus "
    "linkedAccountingEntries { accountingEntryId } reconciledItems { linked "
    "bankAccountingEntryId } } pageInfo { endCursor hasNextPage } } }"
)
RECONCILE = (
    "mutation ($input: ReconcileBankMovementGLDtoInput!) "
    "{ reconcileBankMovement(input: $input) { id } }"
)
UNRECONCILE = (
    "mutation ($input: UnReconcileBankMovementGLDtoInput!) "
    "{ unReconcileBankMovement(input: $input) { id } }"
)


class BankOperations:
    """See the module docstring."""

    def __init__(self, client: SageClient) -> None:
        self.client = client

    def bank_accounts(self) -> list[BankAccount]:
        data = self.client.execute(BANK_ACCOUNTS, name="bankAccounts")
        raw = data.get("bankAccounts")
        return [parse(BankAccount, n) for n in raw] if isinstance(raw, list) else []

    def bank_account_for(self, account_code: str) -> BankAccount | None:
        """The enabled bank account whose general account is `account_code`."""
        return next(
            (
                b
                for b in self.bank_accounts()
                if b.accounting_account_code == account_code and not b.disabled
            ),
            None,
        )

    def movements(
        self, bank_account_id: str, amount: Decimal, first: dt.date, last: dt.date
    ) -> list[BankMovement]:
        """The account's movements of exactly `amount` posted from `first` to `last`."""
        where = {
            "bankAccountId": {"eq": bank_account_id},
            "transactionAmount": {"eq": amount},
            "datePosted": {"gte": first.isoformat(), "lt": (last + dt.timedelta(1)).isoformat()},
        }
        nodes = paginate(
            self.client, MOVEMENTS, {"where": where}, "bankMovements", name="bankMovements"
        )
        return [parse(BankMovement, n) for n in nodes]

    def reconcile(self, movement_id: str, entry_ids: list[str]) -> str:
        payload = {
            "bankTransactionId": movement_id,
            "accountingEntries": [{"accountingEntryId": e} for e in entry_ids],
        }
        data = self.client.execute(
            RECONCILE, {"input": payload}, mutation=True, name="reconcileBankMovement"
        )
        result = data.get("reconcileBankMovement")
        return str(result.get("id")) if isinstance(result, dict) else movement_id

    def unreconcile(self, movement_id: str) -> str:
        data = self.client.execute(
            UNRECONCILE,
            {"input": {"bankTransactionId": movement_id}},
            mutation=True,
            name="unReconcileBankMovement",
        )
        result = data.get("unReconcileBankMovement")
        return str(result.get("id")) if isinstance(result, dict) else movement_id
