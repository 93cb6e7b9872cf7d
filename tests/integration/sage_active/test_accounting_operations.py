"""The accounting operations against the sandbox (WSGI transport): entries by codes, found
by document number, account balances over every page, accounts, payment method accounts,
the payout mapping check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import redis
from flask import Flask
from pydantic import ValidationError

from bridge.payouts.mapping import check_payout_mapping
from bridge.settings import Settings
from connectors.sage_active.accounting import AccountingEntryInput, EntryLineInput
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.operations import SageActive
from tests.support.sage_config import sandbox_config

pytestmark = pytest.mark.integration
BASE = "http://sandbox.test"


@pytest.fixture
def sage(sandbox_app: Flask, redis_client: redis.Redis) -> Iterator[SageActive]:
    transport = httpx.WSGITransport(app=sandbox_app)
    with SageClient(sandbox_config(BASE), redis_client, transport=transport) as client:
        yield SageActive(client)


def entry(
    doc: str, amount: str, *, fees: str = "0", account: str = "511500000"
) -> AccountingEntryInput:
    gross = Decimal(amount) + Decimal(fees)
    lines = [EntryLineInput(sub_account_code="512000000", debit_amount=Decimal(amount))]
    if Decimal(fees):
        lines.append(EntryLineInput(sub_account_code="627000000", debit_amount=Decimal(fees)))
    lines.append(EntryLineInput(sub_account_code=account, credit_amount=gross))
    return AccountingEntryInput(
        date=dt.date(2026, 3, 5), journal_type_code="BQ", document_number=doc, lines=lines
    )


def test_entry_is_created_found_and_counted_in_the_balances(sage: SageActive) -> None:
    created = sage.create_accounting_entry(entry("po_a", "96.85", fees="3.15"))
    for n in range(4):
        sage.create_accounting_entry(entry(f"po_{n}", "10.00"))

    [found] = sage.entries_with_lines("po_a")
    assert found.id == created.id
    assert [(ln.sub_account.code if ln.sub_account else None, ln.debit_amount, ln.credit_amount)
            for ln in found.accounting_entry_lines] == [
        ("512000000", Decimal("96.85"), Decimal(0)),
        ("627000000", Decimal("3.15"), Decimal(0)),
        ("511500000", Decimal(0), Decimal("100.00")),
    ]  # fmt: skip
    assert len(list(sage.account_lines("512000000", page_size=2))) == 5  # three pages
    assert sage.account_balance("511500000") == Decimal("-140.00")
    assert sage.account_balance("512000000") == Decimal("136.85")


def test_unbalanced_entries_are_refused_before_and_by_sage(sage: SageActive) -> None:
    with pytest.raises(ValidationError, match="unbalanced entry"):
        AccountingEntryInput(
            date=dt.date(2026, 3, 5), journal_type_code="BQ",
            lines=[EntryLineInput(sub_account_code="512000000", debit_amount=Decimal("1")),
                   EntryLineInput(sub_account_code="511500000", credit_amount=Decimal("2"))],
        )  # fmt: skip
    with pytest.raises(SageBusinessError) as refused:
        sage.create_accounting_entry(entry("po_x", "10.00", account="511599999"))
    assert refused.value.keys == ["global.businessErrors.accountingAccountNotFound"]
    assert sage.entries_with_lines("po_x") == []


def test_accounts_and_payment_method_accounts(sage: SageActive) -> None:
    found = sage.accounting_accounts(["627000000", "627999999"])
    assert list(found) == ["627000000"]
    methods = sage.payment_method_accounts()
    assert methods["Stripe"] == "511500000"
    assert methods["Shopify Payments"] == "511600000"


def test_mapping_check_names_each_problem(sage: SageActive) -> None:
    assert check_payout_mapping(sage, Settings()) == []
    settings = Settings(
        BRIDGE_FEES_ACCOUNT="627999999",
        BRIDGE_BANK_JOURNAL="VT",  # a sales journal, not FINANCIAL
        BRIDGE_CLEARING_ACCOUNTS={"stripe": "512000000", "shopify_payments": "511600000"},
    )
    problems = {(p.name, p.code) for p in check_payout_mapping(sage, settings)}
    assert problems == {
        ("BRIDGE_FEES_ACCOUNT", "627999999"),
        ("BRIDGE_BANK_JOURNAL", "VT"),
        ("payment method Stripe", "511500000"),  # it posts to 5115, not to 512
    }
