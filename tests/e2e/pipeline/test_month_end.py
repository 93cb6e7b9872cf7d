"""The month end through the real ingress, worker and sandbox: the processors' fees of a
month as one settled supplier invoice each (`bridge close-month`, run as a command), and
payouts reconciled with the bank movements a bank feed brings (the beat's month-end job,
movements added through the sandbox's control endpoint)."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.payouts.store import PayoutStore
from connectors.sage_active.purchases import PurchaseInvoice, PurchaseOperations
from tasks.app import make_celery
from tests.e2e.pipeline.test_payouts import (
    ORDER_A,
    ORDER_B,
    ORDER_C,
    PAYOUT,
    SHOPIFY_CLEARING,
    STRIPE_CLEARING,
    books_three_stripe_orders,
    order_b,
    send_stripe,
    shopify_order_paid,
    stripe_api,
    stripe_payout,
    stripe_transactions,
    txn,
)
from tests.support.payout_fakes import FakeStripePayouts
from tests.support.pipeline import SHOP, payload  # the shop the rig signs webhooks for
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, FakeShopifyGraphQL

__all__ = ["stripe_api"]  # the fixture, used by name
pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
MONTH_ON = {"BRIDGE_FEE_INVOICES": "true"}


def run_close_month(rig: Rig, *args: str) -> str:
    """`bridge close-month ...` as an operator runs it; its stdout."""
    env = {
        **os.environ,
        **rig.worker_env,
        **MONTH_ON,
        "REDIS_URL": str(rig.services.settings.redis_url),
        "BRIDGE_LOG_JSON": "false",
    }
    env.pop("SENTRY_DSN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "close-month", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def month_invoices(rig: Rig, code: str) -> tuple[str, list[PurchaseInvoice]]:
    ops = PurchaseOperations(rig.services.sage.client)
    supplier = ops.find_supplier(code, None)
    assert supplier is not None
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    return supplier.id, ops.invoices_dated(supplier.id, first, last)


def assert_month_closed(rig: Rig, code: str, number: str, fees: str, clearing: str) -> None:
    sage = rig.services.sage
    supplier_id, [invoice] = month_invoices(rig, code)
    assert invoice.invoice_number == number
    assert (invoice.status, invoice.pending_amount) == ("Paid", Decimal(0))
    assert invoice.total_liquid == Decimal(fees)
    vat = (Decimal(fees) * Decimal("0.20")).quantize(Decimal("0.01"))
    assert [(v.total_vat_base, v.total_vat) for v in invoice.vat_lines] == [(Decimal(fees), vat)]
    ops = PurchaseOperations(sage.client)
    assert ops.third_party_balance("401000000", supplier_id) == Decimal(0)
    assert sage.account_balance(clearing) == Decimal(0)
    assert sage.account_balance("445662000") == vat  # deductible
    assert sage.account_balance("445200000") == -vat  # due


def test_stripe_fees_of_a_month_become_one_settled_supplier_invoice(
    rig: Rig, stripe_api: tuple[FakeStripePayouts, dict[str, str]]
) -> None:
    fake, env = stripe_api
    rig.start_worker(pool="threads", concurrency=4, **rig.worker_env, **env, **MONTH_ON)
    books_three_stripe_orders(rig)
    fake.add_payout(stripe_payout(), stripe_transactions())
    ref = send_stripe(rig, "payout.paid", stripe_payout())
    rig.wait_for(lambda: rig.event_status(ref) == "processed", what="the payout booked")
    sage = rig.services.sage
    [entry] = sage.entries_with_lines(PAYOUT)
    codes = {ln.sub_account.code for ln in entry.accounting_entry_lines if ln.sub_account}
    assert "627000000" not in codes  # the fees wait on the clearing account for the invoice
    assert sage.account_balance(STRIPE_CLEARING) == Decimal("19.32")
    headers = {"Authorization": "Bearer e2e-admin-token"}
    before = next(
        p
        for p in rig.client.get("/admin/clearing", headers=headers).get_json()["processors"]
        if p["processor"] == "stripe"
    )
    assert before["settled_not_paid_out"] == "0.00"
    assert before["explanation"][0].startswith("19.32: fees withheld from the payouts")

    out = run_close_month(rig, "--month", "2026-03")
    assert "stripe 2026-03: invoiced; fees 19.32; invoice stripe-2026-03 Paid" in out
    assert "shopify_payments 2026-03: nothing to invoice; fees 0.00" in out
    assert_month_closed(rig, "STRIPE", "stripe-2026-03", "19.32", STRIPE_CLEARING)
    assert sage.account_balance("627000000") == Decimal("19.32")
    entries = len(sage.entries_with_lines("stripe-2026-03"))

    again = run_close_month(rig, "--month", "2026-03")
    assert "stripe 2026-03: already closed; fees 19.32" in again
    assert_month_closed(rig, "STRIPE", "stripe-2026-03", "19.32", STRIPE_CLEARING)
    assert len(sage.entries_with_lines("stripe-2026-03")) == entries == 2

    status = rig.client.get("/admin/clearing", headers=headers).get_json()
    after = next(p for p in status["processors"] if p["processor"] == "stripe")
    assert (after["balance"], after["explanation"][0][:4]) == ("0.00", "zero")
    stripe = next(p for p in status["month_end"] if p["processor"] == "stripe")
    [march] = stripe["months"]
    assert (march["month"], march["fees_booked"], march["invoiced"]) == (
        "2026-03",
        "19.32",
        "19.32",
    )
    assert (march["status"], march["pending"], march["settled"]) == ("Paid", "0.00", True)
    rig.client.post("/console/login", data={"token": "e2e-admin-token"})
    page = rig.client.get("/console/clearing").get_data(as_text=True)
    assert "stripe-2026-03" in page


def test_shopify_payments_fees_of_a_month_become_one_settled_supplier_invoice(rig: Rig) -> None:
    shop = FakeShopifyGraphQL(shop_domain=SHOP)
    charges = [
        {
            "id": 60 + n,
            "type": "charge",
            "currency": "EUR",
            "amount": amount,
            "fee": fee,
            "net": str(Decimal(amount) - Decimal(fee)),
            "source_type": "Charge",
            "source_order_id": order,
        }
        for n, (amount, fee, order) in enumerate(
            [
                ("19.80", "0.55", 5910000001013),
                ("19.80", "0.55", 5930000000001),
                ("64.80", "1.22", 5910000003039),
            ]
        )
    ]
    net = Decimal("104.40") - Decimal("2.32")
    payout = {
        "id": 880002,
        "status": "paid",
        "date": "2026-03-06",
        "currency": "EUR",
        "amount": str(net),
    }
    own = {
        "id": 73,
        "type": "payout",
        "currency": "EUR",
        "amount": str(-net),
        "fee": "0.00",
        "net": str(-net),
        "source_type": "Payout",
    }
    shop.add_payout(payout, [*charges, own])
    with serve_wsgi(shop.app) as base:
        env = {
            **rig.worker_env,
            **MONTH_ON,
            "SHOPIFY_SHOP_DOMAIN": SHOP,
            "SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN,
            "SHOPIFY_API_URL": base,
            "BRIDGE_RECONCILE_WINDOW": str(3 * 365 * 86400),
        }
        worker = rig.start_worker(pool="threads", concurrency=4, **env)
        rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))
        rig.send("orders/create", order_b())
        rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
        for n, (order_id, amount) in enumerate(
            [(5910000001013, "19.80"), (5930000000001, "19.80"), (5910000003039, "64.80")]
        ):
            rig.send("order_transactions/create", shopify_order_paid(n, order_id, amount))
        for reference in (ORDER_A, ORDER_B, ORDER_C):
            rig.wait_status(reference, "Collected")
        ref = "shopify:backfill.payout.880002"
        make_celery(rig.services.settings).send_task("tasks.backfill.reconcile")
        rig.wait_for(lambda: rig.event_status(ref) == "processed", what="payout booked")
        worker.stop()
    assert rig.services.sage.account_balance(SHOPIFY_CLEARING) == Decimal("2.32")

    out = run_close_month(rig, "--month", "2026-03", "--processor", "shopify_payments")
    assert "shopify_payments 2026-03: invoiced; fees 2.32" in out
    assert_month_closed(rig, "SHOPIFY", "shopify_payments-2026-03", "2.32", SHOPIFY_CLEARING)
    again = run_close_month(rig, "--month", "2026-03", "--processor", "shopify_payments")
    assert "shopify_payments 2026-03: already closed" in again
    assert len(month_invoices(rig, "SHOPIFY")[1]) == 1


def today_payout(payout_id: str, cents: int, day: dt.date) -> dict[str, Any]:
    arrival = calendar.timegm(day.timetuple())
    return {**stripe_payout(), "id": payout_id, "amount": cents, "arrival_date": arrival}


def one_charge(payout_id: str, cents: int) -> list[dict[str, Any]]:
    """A charge of `cents` + 1.00 of fee, paid out as `cents`."""
    return [
        txn(f"txn_{payout_id}_1", "charge", cents + 100, 100, f"ch_{payout_id}"),
        txn(f"txn_{payout_id}_2", "payout", -cents, 0, payout_id),
    ]


def test_a_payout_is_reconciled_with_its_bank_movement_within_one_beat_run(
    rig: Rig,
    stripe_api: tuple[FakeStripePayouts, dict[str, str]],
    start_beat: Callable[..., None],
) -> None:
    fake, api_env = stripe_api
    env = {**rig.worker_env, **api_env, "BRIDGE_MONTH_END_INTERVAL": "2"}
    rig.start_worker(pool="threads", concurrency=4, **env)
    today = dt.datetime.now(dt.UTC).date()
    paid, short = "po_1BankMatch0001", "po_1BankShort0002"
    for payout_id, cents in ((paid, 13900), (short, 5200)):
        fake.add_payout(today_payout(payout_id, cents, today), one_charge(payout_id, cents))
        ref = send_stripe(rig, "payout.paid", today_payout(payout_id, cents, today))
        rig.wait_for(lambda r=ref: rig.event_status(r) == "processed", what=f"{payout_id} booked")
    feed = httpx.Client(base_url=rig.control.http.base_url, timeout=10)
    for amount, label in (("139.00", f"VIR STRIPE {paid}"), ("53.00", f"VIR STRIPE {short}")):
        added = feed.post(
            "/_sandbox/bank-movements",
            json={
                "bankAccount": "512000000",
                "amount": amount,
                "date": today.isoformat(),
                "label": label,
            },
        )
        assert added.status_code == 201, added.text
    store = PayoutStore(rig.services.redis, rig.services.settings)

    def status(payout_id: str) -> str | None:
        link = store.get("stripe", payout_id)
        return link.bank_status if link else None

    start_beat(**env)
    rig.wait_for(
        lambda: status(paid) == "reconciled" and status(short) == "waiting",
        what="one month-end run",
    )
    movements = {
        m["transactionNarrative"]: m
        for m in feed.get("/_sandbox/bank-movements").json()["movements"]
    }
    link = store.get("stripe", paid)
    assert link is not None
    matched = movements[f"VIR STRIPE {paid}"]
    assert (matched["linkStatus"], matched["linkedAccountingEntries"]) == (
        "LINKED",
        [link.entry_id],
    )
    assert movements[f"VIR STRIPE {short}"]["linkStatus"] == "NOT_SPECIFIED"  # 1.00 off
    assert not [i for i in rig.services.attention.items() if i.kind == "payout_bank"]

    later = today + dt.timedelta(days=rig.services.settings.bank_wait_days + 1)
    make_celery(rig.services.settings).send_task(
        "tasks.month.tick", kwargs={"today": later.isoformat()}
    )
    rig.wait_for(lambda: status(short) == "not_found", what="the window over")
    [item] = [i for i in rig.services.attention.items() if i.kind == "payout_bank"]
    assert short in item.reason
    assert "not seen in the bank" in item.reason
    assert status(paid) == "reconciled"
    movements = {
        m["transactionNarrative"]: m
        for m in feed.get("/_sandbox/bank-movements").json()["movements"]
    }
    assert movements[f"VIR STRIPE {paid}"]["linkedAccountingEntries"] == [link.entry_id]
    assert movements[f"VIR STRIPE {short}"]["linkStatus"] == "NOT_SPECIFIED"
    feed.close()
