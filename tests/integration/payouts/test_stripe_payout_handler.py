"""The Stripe payout handler in-process (`run_event`, as a worker runs it) against the real
Redis, the sandbox over HTTP and a fake Stripe over HTTP: failures, and the payouts that
are not booked but need a person."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.payouts.store import PayoutStore
from bridge.services import Services, build_services
from bridge.store.events import NewEvent
from bridge.sync.dispatch import RunResult, run_event
from tests.support.payout_fakes import FakeStripePayouts
from tests.support.pipeline import sandbox_settings
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


def payout(payout_id: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {"id": payout_id, "object": "payout", "amount": amount, "currency": "eur",
            "status": "paid", "arrival_date": 1772668800, "automatic": True,
            "reconciliation_status": "completed", "original_payout": None, **extra}  # fmt: skip


def charges(payout_id: str, *cents: int, fee: int = 30, **extra: Any) -> list[dict[str, Any]]:
    rows = [{"id": f"txn_{payout_id}_{n}", "type": "charge", "amount": c, "fee": fee,
             "net": c - fee, "currency": "eur", "exchange_rate": None,
             "source": f"ch_{payout_id}_{n}", "fee_details": [], **extra}
            for n, c in enumerate(cents)]  # fmt: skip
    net = sum(c - fee for c in cents)
    rows.append(
        {
            "id": f"txn_{payout_id}_p",
            "type": "payout",
            "amount": -net,
            "fee": 0,
            "net": -net,
            "currency": "eur",
            "exchange_rate": None,
            "source": payout_id,
        }
    )
    return rows


@pytest.fixture
def stripe() -> Iterator[tuple[FakeStripePayouts, str]]:
    fake = FakeStripePayouts()
    with serve_wsgi(fake.app) as url:
        yield fake, url


@pytest.fixture
def services(
    redis_url: str, sandbox_url: str, stripe: tuple[FakeStripePayouts, str]
) -> Iterator[Services]:
    fake, url = stripe
    settings = sandbox_settings(redis_url, sandbox_url, STRIPE_API_KEY=fake.api_key,
                                STRIPE_API_URL=url)  # fmt: skip
    built = build_services(settings)
    try:
        yield built
    finally:
        built.close()


def deliver(services: Services, topic: str, obj: dict[str, Any]) -> RunResult:
    body = {"id": f"evt_{next(_ids)}_{uuid.uuid4().hex[:6]}", "object": "event",
            "type": topic, "data": {"object": obj}}  # fmt: skip
    event = NewEvent(provider="stripe", provider_id=body["id"], topic=topic,
                     body=json.dumps(body), headers={})  # fmt: skip
    assert services.events.record(event)
    return run_event(services, event.ref, "task-test")


def test_failed_after_paid_moves_the_amount_back_to_the_clearing_account(
    services: Services, stripe: tuple[FakeStripePayouts, str]
) -> None:
    fake, _ = stripe
    fake.add_payout(payout("po_f1", 1940), charges("po_f1", 1000, 1000))
    assert deliver(services, "payout.paid", {"id": "po_f1"}).status == "processed"
    sage = services.sage
    assert sage.account_balance("512000000") == Decimal("19.40")

    fake.add_payout(payout("po_f1", 1940, status="failed"), charges("po_f1", 1000, 1000))
    failed = deliver(services, "payout.failed", {"id": "po_f1"})
    again = deliver(services, "payout.failed", {"id": "po_f1"})

    assert failed.status == again.status == "processed"
    assert len(sage.entries_with_lines("po_f1")) == 1
    [back] = sage.entries_with_lines("po_f1:failed")
    assert [(ln.sub_account.code if ln.sub_account else "", ln.debit_amount, ln.credit_amount)
            for ln in back.accounting_entry_lines] == [
        ("511500000", Decimal("19.40"), Decimal(0)), ("512000000", Decimal(0), Decimal("19.40")),
    ]  # fmt: skip
    assert sage.account_balance("512000000") == Decimal(0)
    assert sage.account_balance("627000000") == Decimal("0.60")  # the fees were charged


def test_failed_before_it_was_booked_books_both(
    services: Services, stripe: tuple[FakeStripePayouts, str]
) -> None:
    fake, _ = stripe
    fake.add_payout(payout("po_f2", 970, status="failed"), charges("po_f2", 1000))
    assert deliver(services, "payout.failed", {"id": "po_f2"}).status == "processed"
    assert len(services.sage.entries_with_lines("po_f2")) == 1
    assert len(services.sage.entries_with_lines("po_f2:failed")) == 1
    assert services.sage.account_balance("512000000") == Decimal(0)


@pytest.mark.parametrize(
    ("txns", "why"),
    [
        (charges("po_x", 1000, exchange_rate=1.0842), "currency conversion"),
        ([*charges("po_x", 1000)[:-1],
          {"id": "txn_r", "type": "reserve_transaction", "amount": -100, "fee": 0, "net": -100,
           "currency": "eur", "exchange_rate": None, "source": None},
          {"id": "txn_p", "type": "payout", "amount": -870, "fee": 0, "net": -870,
           "currency": "eur", "exchange_rate": None, "source": "po_x"}],
         "type 'reserve_transaction' is not in the mapping"),
    ],
)  # fmt: skip
def test_a_payout_the_mapping_cannot_book_needs_attention_with_its_amounts(
    services: Services, stripe: tuple[FakeStripePayouts, str], txns: list[Any], why: str
) -> None:
    fake, _ = stripe
    amount = -txns[-1]["amount"]
    fake.add_payout(payout("po_x", amount), txns)

    result = deliver(services, "payout.paid", {"id": "po_x"})

    assert result.status == "processed"
    assert "needs attention" in result.detail
    item = services.attention.get("payout:stripe:po_x")
    assert item is not None
    assert why in item.reason
    assert item.amount == Decimal(amount) / 100
    assert "sales 10.00" in item.reason
    assert services.sage.entries_with_lines("po_x") == []
    link = PayoutStore(services.redis, services.settings).get("stripe", "po_x")
    assert link is not None
    assert link.attention


def test_a_payout_in_another_currency_than_the_books_needs_attention(
    services: Services, stripe: tuple[FakeStripePayouts, str]
) -> None:
    fake, _ = stripe
    txns = [{**t, "currency": "usd"} for t in charges("po_usd", 1000)]
    fake.add_payout(payout("po_usd", 970, currency="usd"), txns)
    assert "needs attention" in deliver(services, "payout.paid", {"id": "po_usd"}).detail
    item = services.attention.get("payout:stripe:po_usd")
    assert item is not None
    assert "the payout is in USD, the books in EUR" in item.reason
    assert services.sage.entries_with_lines("po_usd") == []


def test_manual_payouts_need_attention_and_pending_ones_wait_for_paid(
    services: Services, stripe: tuple[FakeStripePayouts, str]
) -> None:
    fake, _ = stripe
    fake.add_payout(payout("po_m", 5000, automatic=False), [])
    fake.add_payout(payout("po_t", 970, status="in_transit"), charges("po_t", 1000))

    assert deliver(services, "payout.paid", {"id": "po_m"}).status == "processed"
    assert services.attention.get("payout:stripe:po_m") is not None
    assert deliver(services, "payout.paid", {"id": "po_t"}).status == "ignored"
    assert services.sage.entries_with_lines("po_m") == []
    assert services.sage.entries_with_lines("po_t") == []
