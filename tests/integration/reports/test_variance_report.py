"""The variance report over a day of mixed bookings: a Shopify order paid and partly
refunded, a Stripe Billing invoice paid, and a Stripe payout, run in-process through the
real dispatcher against the real Redis, the sandbox over HTTP and a fake Stripe.

The report's provider totals equal its Sage totals, and the Sage totals equal what the
sandbox itself holds for the day (read independently of the report's queries). Then a
person settles another order's invoice by hand in Sage (the sandbox's control surface):
the report lists that order's difference, and only that one.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.dev.demo_data import DemoEvent, demo_run
from bridge.reports.variance import build_report
from bridge.services import Services, build_services
from bridge.store.events import NewEvent
from bridge.sync.dispatch import run_event
from tests.support.payout_fakes import FakeStripePayouts
from tests.support.pipeline import Pipeline, payload, sandbox_settings
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = TODAY.date()


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
                                STRIPE_API_URL=url, BRIDGE_CONNECTION="report")  # fmt: skip
    built = build_services(settings)
    try:
        yield built
    finally:
        built.close()


def _today(event: DemoEvent) -> DemoEvent:
    """The demo event moved to today (the day the report is about)."""
    payload = json.loads(json.dumps(event.payload))
    iso, stamp = TODAY.isoformat(), int(TODAY.timestamp())
    for key in ("created_at", "processed_at"):
        if key in payload:
            payload[key] = iso
    for transaction in payload.get("transactions", []):
        transaction.update(created_at=iso, processed_at=iso)
    obj = payload.get("data", {}).get("object", {})
    for key in ("created", "effective_at", "period_end", "period_start"):
        if key in obj:
            obj[key] = stamp
    if isinstance(obj.get("status_transitions"), dict):
        obj["status_transitions"].update(finalized_at=stamp, paid_at=stamp)
    return DemoEvent(event.label, event.provider, event.topic, event.delivery_id, payload)


def deliver(services: Services, event: DemoEvent) -> str:
    headers = {"X-Shopify-Shop-Domain": "boutique-demo.myshopify.com"}
    recorded = NewEvent(
        provider=event.provider,
        provider_id=f"{event.delivery_id}-{uuid.uuid4().hex[:6]}",
        topic=event.topic,
        body=json.dumps(event.payload),
        headers=headers if event.provider == "shopify" else {},
    )
    assert services.events.record(recorded)
    return run_event(services, recorded.ref, "task-report").status


def payout(
    payout_id: str, charge_id: str, cents: int, fee: int
) -> tuple[dict[str, Any], list[Any]]:
    body = {"id": payout_id, "object": "payout", "amount": cents - fee, "currency": "eur",
            "status": "paid", "arrival_date": int(TODAY.timestamp()), "automatic": True,
            "reconciliation_status": "completed", "original_payout": None}  # fmt: skip
    rows = [
        {"id": f"txn_{payout_id}_c", "type": "charge", "amount": cents, "fee": fee,
         "net": cents - fee, "currency": "eur", "exchange_rate": None, "source": charge_id,
         "fee_details": []},
        {"id": f"txn_{payout_id}_p", "type": "payout", "amount": fee - cents, "fee": 0,
         "net": fee - cents, "currency": "eur", "exchange_rate": None, "source": payout_id},
    ]  # fmt: skip
    return body, rows


def sandbox_totals(services: Services) -> dict[str, Decimal]:
    """What the sandbox holds for today, read with the typed operations (not the report's)."""
    docs = [d for d in services.sage.invoices_changed_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            if d.document_date is not None and d.document_date.date() == DAY]  # fmt: skip
    zero = Decimal(0)
    invoices = sum((d.total_liquid or zero for d in docs if d.type != "CREDIT_NOTE"), zero)
    notes = sum((abs(d.total_liquid or zero) for d in docs if d.type == "CREDIT_NOTE"), zero)
    return {"sales": invoices, "refunds": notes}


def test_report_totals_equal_the_sandbox_and_a_settlement_by_hand_is_listed(
    services: Services, sandbox_url: str, stripe: tuple[FakeStripePayouts, str]
) -> None:
    run = demo_run(int(time.time() * 1000) % 10**9)
    for event in (run.order, run.payment, run.refund, run.invoice, run.invoice_payment):
        assert deliver(services, _today(event)) == "processed", event.label
    charge = run.charge.payload["data"]["object"]
    fake, _ = stripe
    fake.add_payout(*payout(f"po_rep{run.run}", charge["id"], int(charge["amount"]), 455))
    paid = {"id": f"evt_po{run.run}", "object": "event", "type": "payout.paid",
            "data": {"object": {"id": f"po_rep{run.run}"}}}  # fmt: skip
    status = deliver(
        services, DemoEvent("payout", "stripe", "payout.paid", f"evt_po{run.run}", paid)
    )
    assert status == "processed"

    report = build_report(services, DAY, DAY)

    totals = report.totals
    assert report.differences == []
    assert totals.provider == totals.sage
    assert totals.provider["sales"] == Decimal("64.80") + Decimal("282.00")
    assert totals.provider["refunds"] == Decimal("12.40")
    assert totals.provider["payments"] == Decimal("64.80") + Decimal("282.00")
    assert totals.provider["fees"] == Decimal("4.55")
    held = sandbox_totals(services)
    assert (totals.sage["sales"], totals.sage["refunds"]) == (held["sales"], held["refunds"])

    # A second order, invoiced but not paid; then someone marks it paid by hand in Sage.
    other = demo_run(run.run + 1)
    assert deliver(services, _today(other.order)) == "processed"
    link = services.links.order(other.order_reference)
    assert link is not None
    assert link.invoice_id is not None
    by_hand = httpx.post(f"{sandbox_url}/_sandbox/invoices/{link.invoice_id}/settle",
                         json={"amount": "20.00"})  # fmt: skip
    assert by_hand.status_code == 200, by_hand.text

    result = CliRunner().invoke(main, ["report", "--from", DAY.isoformat(), "--format", "csv"],
                                env=_env(services))  # fmt: skip

    assert result.exit_code == 1, result.output
    rows = [line.split(",") for line in result.output.splitlines()]
    differences = [r for r in rows if r[0] == "difference"]
    assert [(r[2], r[4], r[5], r[6], r[7]) for r in differences] == [
        (other.order_reference, "payments", "0.00", "20.00", "-20.00")
    ]
    assert differences[0][3] == f"{other.order_name} · {link.order.customer.name}"  # type: ignore[union-attr]


def _env(services: Services) -> dict[str, str]:
    s = services.settings
    return {"REDIS_URL": s.redis_url or "", "SAGE_API_URL": s.sage.api_url or "",
            "SAGE_AUTH_URL": s.sage.auth_url or "", "BRIDGE_CONNECTION": s.connection,
            "STRIPE_API_KEY": "sk_test_payouts"}  # fmt: skip


def test_a_voided_stripe_invoice_is_a_full_credit_and_no_difference(pipeline: Pipeline) -> None:
    """`invoice.voided` carries no amount: the report counts it as crediting what was left."""
    body = payload("stripe", "invoice-paid-101-endive-one-line-20-vat-rate-id-only")
    voided = copy.deepcopy(body)
    voided.update(id=f"{body['id']}-void", type="invoice.voided")
    voided["data"]["object"].update(status="void", amount_remaining=0)
    assert pipeline.deliver("stripe", "invoice.paid", body).status == "processed"
    assert pipeline.deliver("stripe", "invoice.voided", voided).status == "processed"
    link = pipeline.services.links.order("stripe:default:in_1TDemoEndive0101")
    assert link is not None
    assert link.order is not None

    report = build_report(pipeline.services, link.order.date, DAY)

    assert report.differences == []
    assert report.totals.provider["refunds"] == report.totals.sage["refunds"] == Decimal("120.00")
