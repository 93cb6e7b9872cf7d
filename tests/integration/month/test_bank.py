"""`bridge.month.bank` against the sandbox over HTTP and a real Redis: payouts (entries
really booked in Sage) and the movements a bank feed adds; one movement, one payout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from bridge.month.bank import reconcile_payouts
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.services import Services, build_services
from connectors.sage_active.accounting import AccountingEntryInput, EntryLineInput
from connectors.sage_active.banking import BankOperations
from tests.support.pipeline import sandbox_settings

pytestmark = pytest.mark.integration
DAY = dt.date(2026, 12, 2)


@pytest.fixture
def services(redis_url: str, sandbox_url: str) -> Iterator[Services]:
    built = build_services(sandbox_settings(redis_url, sandbox_url, BRIDGE_CONNECTION="default"))
    yield built
    built.close()


@pytest.fixture
def feed(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def payout(services: Services, payout_id: str, amount: str) -> PayoutLink:
    """A payout booked as the worker books it: its entry in Sage, its link in Redis."""
    value = Decimal(amount)
    entry = services.sage.create_accounting_entry(
        AccountingEntryInput(
            date=DAY,
            journal_type_code="BQ",
            document_number=payout_id,
            lines=[
                EntryLineInput(sub_account_code="512000000", debit_amount=value),
                EntryLineInput(sub_account_code="511500000", credit_amount=value),
            ],
        )
    )
    link = PayoutLink(
        processor="stripe",
        payout_id=payout_id,
        amount=value,
        currency="EUR",
        entry_id=entry.id,
        entry_number=entry.number,
        date=DAY,
    )
    PayoutStore(services.redis, services.settings).save(link)
    return link


def movement(feed: httpx.Client, amount: str, day: dt.date, label: str = "VIR STRIPE") -> str:
    added = feed.post(
        "/_sandbox/bank-movements",
        json={
            "bankAccount": "512000000",
            "amount": amount,
            "date": day.isoformat(),
            "label": label,
        },
    )
    assert added.status_code == 201, added.text
    return str(added.json()["id"])


def bank(services: Services, payout_id: str) -> tuple[str | None, str | None]:
    link = PayoutStore(services.redis, services.settings).get("stripe", payout_id)
    assert link is not None
    return link.bank_status, link.bank_movement_id


def linked(feed: httpx.Client) -> dict[str, list[str]]:
    moves = feed.get("/_sandbox/bank-movements").json()["movements"]
    return {m["id"]: m["linkedAccountingEntries"] for m in moves}


def test_two_payouts_of_one_amount_never_share_a_movement(
    services: Services, feed: httpx.Client
) -> None:
    first, second = (
        payout(services, "po_1Same0001", "50.00"),
        payout(services, "po_1Same0002", "50.00"),
    )
    only = movement(feed, "50.00", DAY + dt.timedelta(days=1))
    outside = movement(feed, "50.00", DAY + dt.timedelta(days=9))  # after the 5-day window
    before = movement(feed, "50.00", DAY - dt.timedelta(days=1))  # before the arrival date

    tally = reconcile_payouts(services, DAY + dt.timedelta(days=2))
    assert (len(tally.reconciled), len(tally.waiting)) == (1, 1)
    statuses = {bank(services, p.payout_id) for p in (first, second)}
    assert statuses == {("reconciled", only), ("waiting", None)}
    assert linked(feed)[outside] == []
    assert linked(feed)[before] == []
    [winner] = [p for p in (first, second) if bank(services, p.payout_id)[0] == "reconciled"]
    assert linked(feed)[only] == [winner.entry_id]

    again = reconcile_payouts(services, DAY + dt.timedelta(days=3))  # nothing new
    assert again.reconciled == []
    assert len(again.waiting) == 1
    assert linked(feed)[only] == [winner.entry_id]


def test_a_movement_reconciled_by_someone_else_is_left_alone(
    services: Services, feed: httpx.Client
) -> None:
    link = payout(services, "po_1Hand0001", "75.00")
    other = services.sage.create_accounting_entry(
        AccountingEntryInput(
            date=DAY,
            journal_type_code="BQ",
            document_number="by hand",
            lines=[
                EntryLineInput(sub_account_code="512000000", debit_amount=Decimal("75.00")),
                EntryLineInput(sub_account_code="758000000", credit_amount=Decimal("75.00")),
            ],
        )
    )
    taken = movement(feed, "75.00", DAY)
    BankOperations(services.sage.client).reconcile(taken, [other.id])

    reconcile_payouts(services, DAY)
    assert bank(services, link.payout_id) == ("waiting", None)
    assert linked(feed)[taken] == [other.id]

    late = reconcile_payouts(services, DAY + dt.timedelta(days=11))
    assert late.not_found == [link.payout_id]
    [item] = [i for i in services.attention.items() if i.kind == "payout_bank"]
    assert "payout po_1Hand0001 not seen in the bank (75.00 EUR, arrival 2026-12-02" in item.reason


def test_a_run_after_a_crash_records_the_movement_it_had_reconciled(
    services: Services, feed: httpx.Client
) -> None:
    link = payout(services, "po_1Crash0001", "20.00")
    mine = movement(feed, "20.00", DAY, label=f"STRIPE {link.payout_id}")
    assert link.entry_id is not None
    BankOperations(services.sage.client).reconcile(mine, [link.entry_id])  # then it died

    tally = reconcile_payouts(services, DAY)
    assert tally.reconciled == [link.payout_id]
    assert bank(services, link.payout_id) == ("reconciled", mine)
    assert linked(feed)[mine] == [link.entry_id]
