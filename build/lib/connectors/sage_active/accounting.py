"""Accounting entries and account balances: `createAccountingEntryUsingCodes`,
`accountingEntries`, `accountingEntryLines`, `accountingAccounts` (13-accounting-entries.md).

`AccountingOperations` is a base of `operations.SageActive` (it uses `self.client` and
`self.cache`). An account's balance is what Sage computes from its lines: the sum of debits
minus credits of every `accountingEntryLines` node on that `subAccount.code`, all pages
walked (the public API exposes no balance field for general accounts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from connectors.sage_active.errors import SageInvalidRequest
from connectors.sage_active.models import SageInput, SageModel
from connectors.sage_active.pagination import MAX_PAGE_SIZE, connection, paginate, parse

if TYPE_CHECKING:
    from connectors.sage_active.cache import RefCache
    from connectors.sage_active.client import SageClient

ZERO = Decimal("0")
CENT = Decimal("0.01")


class EntryLineInput(SageInput):
    """One line: a general account, an optional third party, one side only."""

    sub_account_code: str = Field(min_length=1)
    third_code: str | None = Field(default=None, max_length=17)
    description: str | None = Field(default=None, max_length=200)
    debit_amount: Decimal = Field(default=ZERO, ge=0, decimal_places=2)
    credit_amount: Decimal = Field(default=ZERO, ge=0, decimal_places=2)

    @model_validator(mode="after")
    def _one_side(self) -> EntryLineInput:
        if bool(self.debit_amount) == bool(self.credit_amount):
            raise ValueError("a line has either a debit or a credit amount, not both or none")
        return self


class AccountingEntryInput(SageInput):
    """`AccountingEntryCreateUsingCodesGLDtoInput`; refused here unless balanced."""

    date: dt.date
    journal_type_code: str = Field(min_length=1)
    document_date: dt.date | None = None
    document_number: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=200)
    lines: list[EntryLineInput] = Field(min_length=2, serialization_alias="accountingEntryLines")

    @model_validator(mode="after")
    def _balanced(self) -> AccountingEntryInput:
        debit = sum((line.debit_amount for line in self.lines), ZERO)
        credit = sum((line.credit_amount for line in self.lines), ZERO)
        if debit != credit:
            raise ValueError(f"unbalanced entry: debit {debit} != credit {credit}")
        return self


class CreatedEntry(SageModel):
    id: str
    number: int | None = None


class LedgerAccount(SageModel):
    id: str | None = None
    code: str
    name: str | None = None
    deactivated: bool = False


class LedgerLine(SageModel):
    debit_amount: Decimal = ZERO
    credit_amount: Decimal = ZERO
    description: str | None = None
    sub_account: LedgerAccount | None = None


class LedgerEntry(SageModel):
    id: str
    number: int | None = None
    document_number: str | None = None
    description: str | None = None
    date: dt.datetime | None = None
    accounting_entry_lines: list[LedgerLine] = Field(default_factory=list)


CREATE_BY_CODES = (
    "mutation ($values: AccountingEntryCreateUsingCodesGLDtoInput!) "
    "{ createAccountingEntryUsingCodes(input: $values) { id number } }"
)
ENTRIES_WITH_LINES = (
    "query ($doc: String) { accountingEntries(first: 50, where: { documentNumber: "
    "{ eq: $doc } }, order: [{ creationDate: ASC }]) { nodes { id number documentNumber "
    "description date accountingEntryLines { debitAmount creditAmount description "
    "subAccount { code } } } } }"
)
ACCOUNT_LINES = (
    "query ($code: String, $first: Int, $after: String) { accountingEntryLines(first: $first, "
    "after: $after, where: { subAccount: { code: { eq: $code } } }) { nodes { debitAmount "
    "creditAmount } pageInfo { endCursor hasNextPage } } }"
)
ACCOUNTS = (
    "query ($codes: [String], $first: Int) { accountingAccounts(first: $first, where: "
    "{ code: { in: $codes } }) { nodes { id code name deactivated } } }"
)
PAYMENT_METHOD_ACCOUNTS = (
    "query { paymentMethods(first: 500) { nodes { referenceName disabled subAccount { code } } } }"
)
CUSTOMER_BY_ID = (
    "query ($id: UUID) { customers(first: 1, where: { id: { eq: $id } }) { nodes { id code } } }"
)


class AccountingOperations:
    """Entries, accounts and balances (see the module docstring)."""

    client: SageClient
    cache: RefCache

    def create_accounting_entry(self, values: AccountingEntryInput) -> CreatedEntry:
        """Book one balanced entry by business codes.

        Raises:
            SageBusinessError: Sage refused it (unbalanced, unknown account or journal...).
            SageTransientError: with `maybe_committed` when the outcome is unknown: look for
                it by `documentNumber` before trying again.
        """
        data = self.client.execute(
            CREATE_BY_CODES,
            {"values": values.to_graphql()},
            mutation=True,
            name="createAccountingEntryUsingCodes",
        )
        return parse(CreatedEntry, data.get("createAccountingEntryUsingCodes"))

    def entries_with_lines(self, document_number: str) -> list[LedgerEntry]:
        """The entries whose `documentNumber` is `document_number`, oldest first, with lines."""
        data = self.client.execute(
            ENTRIES_WITH_LINES, {"doc": document_number}, name="accountingEntries"
        )
        return [parse(LedgerEntry, n) for n in connection(data, "accountingEntries").nodes]

    def account_lines(self, code: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[LedgerLine]:
        """Every entry line on general account `code`, all pages walked."""
        for node in paginate(
            self.client,
            ACCOUNT_LINES,
            {"code": code},
            "accountingEntryLines",
            page_size=page_size,
            name="accountingEntryLines",
        ):
            yield parse(LedgerLine, node)

    def account_balance(self, code: str) -> Decimal:
        """Debits minus credits of account `code`, as Sage's lines say."""
        return sum((ln.debit_amount - ln.credit_amount for ln in self.account_lines(code)), ZERO)

    def accounting_accounts(self, codes: Iterable[str]) -> dict[str, LedgerAccount]:
        """The general accounts among `codes` that exist (never cached: a check must see
        an account the accountant has just created)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        data = self.client.execute(
            ACCOUNTS, {"codes": wanted, "first": len(wanted)}, name="accountingAccounts"
        )
        found = [parse(LedgerAccount, n) for n in connection(data, "accountingAccounts").nodes]
        return {a.code: a for a in found if a.code in wanted}

    def payment_method_accounts(self) -> dict[str, str | None]:
        """Enabled payment methods by `referenceName` -> the code of their account."""
        data = self.client.execute(PAYMENT_METHOD_ACCOUNTS, name="paymentMethods")
        result: dict[str, str | None] = {}
        for node in connection(data, "paymentMethods").nodes:
            if not isinstance(node, dict) or node.get("disabled"):
                continue
            account = node.get("subAccount")
            code = account.get("code") if isinstance(account, dict) else None
            result[str(node.get("referenceName"))] = str(code) if code else None
        return result

    def customer_code(self, customer_id: str) -> str:
        """The code of customer `customer_id` (cached).

        Raises:
            SageInvalidRequest: Sage has no such customer, or it has no code.
        """
        cached = self.cache.get("customer:id", customer_id, LedgerAccount)
        if cached is not None:
            return cached.code
        data = self.client.execute(CUSTOMER_BY_ID, {"id": customer_id}, name="customers")
        nodes = connection(data, "customers").nodes
        code = nodes[0].get("code") if nodes and isinstance(nodes[0], dict) else None
        if not code:
            raise SageInvalidRequest(f"no customer {customer_id} (or no code) in Sage")
        self.cache.put("customer:id", customer_id, LedgerAccount(id=customer_id, code=code))
        return str(code)
