"""The variance report over what a real worker booked: three Shopify orders paid through
Stripe (one refunded in part, one disputed) and the Stripe payout of their charges, read
from a fake Stripe. `bridge report` over the month equals, column by column, what the
sandbox holds for those days (read here without the report's queries), lists no order;
after a person edits Sage by hand through the sandbox's control surface (an invoice
of another order settled by hand), the report lists exactly that order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.reports.variance import build_report
from tests.e2e.pipeline.test_payouts import (
    books_three_stripe_orders,
    send_stripe,
    stripe_payout,
    stripe_transactions,
)
from tests.support.payout_fakes import FakeStripePayouts
from tests.support.pipeline import payload
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi

ORDER_D = "shopify:boutique-demo.myshopify.com:5910000002026"


@pytest.fixture
def stripe_api() -> Iterator[tuple[FakeStripePayouts, dict[str, str]]]:
    fake = FakeStripePayouts()
    with serve_wsgi(fake.app) as url:
        yield fake, {"STRIPE_API_KEY": fake.api_key, "STRIPE_API_URL": url}


def sandbox_month(rig: Rig, first: dt.date, last: dt.date) -> dict[str, Decimal]:
    """The month as the sandbox holds it, read with the typed operations."""
    sage, zero = rig.services.sage, Decimal(0)
    docs = [
        d
        for d in sage.invoices_changed_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        if d.document_date and first <= d.document_date.date() <= last
    ]
    fees = sum(
        ln.debit_amount - ln.credit_amount
        for e in sage.entries_with_lines(stripe_payout()["id"])
        for ln in e.accounting_entry_lines
        if ln.sub_account and ln.sub_account.code == "627000000"
    )
    return {
        "sales": sum((d.total_liquid or zero for d in docs if d.type != "CREDIT_NOTE"), zero),
        "refunds": sum(
            (abs(d.total_liquid or zero) for d in docs if d.type == "CREDIT_NOTE"), zero
        ),
        "fees": Decimal(fees),
    }


def test_report_equals_the_sandbox_and_lists_an_invoice_settled_by_hand(
    rig: Rig, stripe_api: tuple[FakeStripePayouts, dict[str, str]]
) -> None:
    fake, env = stripe_api
    rig.start_worker(pool="threads", concurrency=4, **rig.worker_env, **env)
    books_three_stripe_orders(rig)
    fake.add_payout(stripe_payout(), stripe_transactions())
    ref = send_stripe(rig, "payout.paid", stripe_payout())
    rig.wait_for(lambda: rig.event_status(ref) == "processed", what="the payout booked")
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 31)

    report = build_report(rig.services, first, last)

    totals, held = report.totals, sandbox_month(rig, first, last)
    assert report.differences == []
    assert totals.provider["sales"] == totals.sage["sales"] == held["sales"] == Decimal("104.40")
    assert totals.provider["refunds"] == totals.sage["refunds"] == held["refunds"]
    assert held["refunds"] == Decimal("12.40")
    assert totals.provider["fees"] == totals.sage["fees"] == held["fees"] == Decimal("19.32")

    # Another order, invoiced, not paid; a person marks it paid by hand in Sage.
    rig.send(
        "orders/create", payload("shopify", "orders-create-002-ttc-quantities-free-shipping-rate")
    )
    link = rig.wait_for(
        lambda: (found := rig.services.links.order(ORDER_D)) and found.invoice_id and found,
        what="order D invoiced",
    )
    by_hand = rig.control.http.post(
        f"/_sandbox/invoices/{link.invoice_id}/settle", json={"amount": "10.00"}
    )
    assert by_hand.status_code == 200, by_hand.text

    result = CliRunner().invoke(
        main,
        ["report", "--from", str(first), "--to", str(last), "--format", "csv"],
        env={**rig.worker_env, "REDIS_URL": rig.services.settings.redis_url or ""},
    )

    assert result.exit_code == 1, result.output
    listed = [row.split(",") for row in result.output.splitlines() if row.startswith("difference")]
    assert [(r[2], r[4], r[5], r[6]) for r in listed] == [(ORDER_D, "payments", "0.00", "10.00")]
