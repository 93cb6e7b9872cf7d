"""Payouts booked in Sage by a real worker: Stripe (`payout.paid` webhooks, balance
transactions read from a fake Stripe over HTTP) and Shopify Payments (read by the
reconciliation job from the fake Shopify GraphQL Admin API). Orders are Shopify orders
paid through Stripe (PaymentIntents naming the order) or Shopify Payments; one is refunded
in part (a credit note) and one disputed. After the payout the clearing account, as Sage
computes it from its lines, is zero."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.payouts.mapping import MappingGate
from bridge.payouts.store import PayoutStore
from tasks.app import make_celery
from tests.support.payout_fakes import FakeStripePayouts
from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, FakeShopifyGraphQL
from tests.support.webhooks import stripe_headers

ORDER_A = f"shopify:{SHOP}:5910000001013"  # 19.80
ORDER_B = f"shopify:{SHOP}:5930000000001"  # 19.80, disputed
ORDER_C = f"shopify:{SHOP}:5910000003039"  # 64.80, refunded 12.40 (tea and shipping)
PAYOUT = "po_1QpDemoPayout0001"
STRIPE_CLEARING, SHOPIFY_CLEARING = "511500000", "511600000"
HEARTBEAT_TTL = 6


def order_b() -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
    body.update(id=5930000000001, name="#3001", order_number=3001)
    return body


def send_stripe(rig: Rig, event_type: str, obj: dict[str, Any]) -> str:
    event_id = f"evt_{uuid.uuid4().hex[:20]}"
    event = {"id": event_id, "object": "event", "api_version": "2024-06-20",
             "created": int(time.time()), "type": event_type, "livemode": False,
             "data": {"object": obj}}  # fmt: skip
    raw = json.dumps(event).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code in (200, 202), response.get_data(as_text=True)
    return f"stripe:{event_id}"


def payment_intent(order_id: int, cents: int, n: int) -> dict[str, Any]:
    body = copy.deepcopy(payload("stripe", "payment-intent-succeeded-001-shopify-metadata"))
    intent: dict[str, Any] = body["data"]["object"]
    intent.update(id=f"pi_demo{n}", amount=cents, amount_received=cents,
                  latest_charge=f"ch_demo{n}", created=int(time.time()))  # fmt: skip
    intent["metadata"] = {"shopify_order_id": str(order_id), "shop_domain": SHOP}
    return intent


def txn(
    txn_id: str, type_: str, amount: int, fee: int, source: Any, **extra: Any
) -> dict[str, Any]:
    fee_details = [{"amount": fee, "currency": "eur", "type": "stripe_fee"}] if fee else []
    return {"id": txn_id, "object": "balance_transaction", "amount": amount, "fee": fee,
            "net": amount - fee, "currency": "eur", "exchange_rate": None, "type": type_,
            "reporting_category": extra.pop("category", type_), "fee_details": fee_details,
            "source": source, "status": "available", "created": 1772611300, **extra}  # fmt: skip


def stripe_transactions() -> list[dict[str, Any]]:
    """Three charges, a refund of C (12.40), B disputed (dispute fee 15.00), a Billing fee.
    Net: 104.40 - 2.32 - 12.40 - 19.80 - 15.00 - 2.00 = 52.88."""
    refund = {"id": "re_demo3", "object": "refund", "charge": "ch_demo3",
              "payment_intent": "pi_demo3", "amount": 1240}  # fmt: skip
    dispute = {"id": "du_demo2", "object": "dispute", "charge": "ch_demo2",
               "payment_intent": "pi_demo2", "amount": 1980}  # fmt: skip
    return [
        txn("txn_1", "charge", 1980, 55, "ch_demo1"),
        txn("txn_2", "charge", 1980, 55, "ch_demo2"),
        txn("txn_3", "charge", 6480, 122, "ch_demo3"),
        txn("txn_4", "refund", -1240, 0, refund),
        txn("txn_5", "adjustment", -1980, 1500, dispute, category="dispute"),
        txn("txn_6", "stripe_fee", -200, 0, None, description="Billing - Usage Fee"),
        txn("txn_7", "payout", -5288, 0, PAYOUT),
    ]


def stripe_payout(status: str = "paid") -> dict[str, Any]:
    return {"id": PAYOUT, "object": "payout", "amount": 5288, "currency": "eur",
            "status": status, "arrival_date": 1772668800, "created": 1772611300,
            "automatic": True, "reconciliation_status": "completed", "original_payout": None,
            "method": "standard", "type": "bank_account"}  # fmt: skip


@pytest.fixture
def stripe_api() -> Iterator[tuple[FakeStripePayouts, dict[str, str]]]:
    fake = FakeStripePayouts()
    with serve_wsgi(fake.app) as url:
        yield fake, {"STRIPE_API_KEY": fake.api_key, "STRIPE_API_URL": url}


def clearing(rig: Rig, processor: str) -> dict[str, Any]:
    """The processor's part of `GET /admin/clearing`."""
    headers = {"Authorization": "Bearer e2e-admin-token"}
    status = rig.client.get("/admin/clearing", headers=headers).get_json()
    found: dict[str, Any] = next(p for p in status["processors"] if p["processor"] == processor)
    return found


def books_three_stripe_orders(rig: Rig) -> None:
    """A, B, C invoiced and collected through Stripe; C refunded in part (credit note)."""
    rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))
    rig.send("orders/create", order_b())
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    for n, (order_id, cents) in enumerate(
        [(5910000001013, 1980), (5930000000001, 1980), (5910000003039, 6480)], start=1
    ):
        send_stripe(rig, "payment_intent.succeeded", payment_intent(order_id, cents, n))
    for reference in (ORDER_A, ORDER_B, ORDER_C):
        rig.wait_status(reference, "Collected")
    rig.send("refunds/create", payload("shopify", "refunds-create-001-line-and-shipping"))
    rig.wait_for(
        lambda: (link := rig.services.links.order(ORDER_C)) is not None and link.credited,
        what="the refund's credit note",
    )


def assert_booked_once(rig: Rig, clearing: str) -> None:
    sage = rig.services.sage
    [entry] = sage.entries_with_lines(PAYOUT)
    lines = [(ln.sub_account.code if ln.sub_account else "", ln.debit_amount, ln.credit_amount)
             for ln in entry.accounting_entry_lines]  # fmt: skip
    debit = sum(d for _, d, _ in lines)
    assert debit == sum(c for _, _, c in lines) == Decimal("104.40")
    assert ("512000000", Decimal("52.88"), Decimal(0)) in lines  # the payout amount
    assert ("627000000", Decimal("19.32"), Decimal(0)) in lines  # 2.32 + 15.00 + 2.00
    assert (clearing, Decimal(0), Decimal("104.40")) in lines  # the three charges, gross
    customer = sorted(d for code, d, _ in lines if code == "411000000")
    assert customer == [Decimal("12.40"), Decimal("19.80")]  # C's refund, B's dispute
    assert sage.account_balance(clearing) == Decimal(0)
    assert sage.account_balance("411000000") == Decimal("19.80")  # B's debt, reopened


def test_stripe_payout_books_one_balanced_entry_and_empties_the_clearing_account(
    rig: Rig, stripe_api: tuple[FakeStripePayouts, dict[str, str]]
) -> None:
    fake, env = stripe_api
    rig.start_worker(pool="threads", concurrency=4, **rig.worker_env, **env)
    books_three_stripe_orders(rig)
    assert rig.services.sage.account_balance(STRIPE_CLEARING) == Decimal("104.40")
    before = clearing(rig, "stripe")
    assert (before["balance"], before["settled_not_paid_out"]) == ("104.40", "104.40")
    assert (
        "104.40: payments settled in Sage and in no booked payout yet" in before["explanation"][0]
    )
    fake.add_payout(stripe_payout(), stripe_transactions())

    first = send_stripe(rig, "payout.paid", stripe_payout())
    rig.wait_for(lambda: rig.event_status(first) == "processed", what="the payout booked")
    again = send_stripe(rig, "payout.paid", stripe_payout())  # a second delivery
    rig.wait_for(lambda: rig.event_status(again) == "processed", what="the copy processed")

    assert_booked_once(rig, STRIPE_CLEARING)
    pages = [q for path, q in fake.requests if path == "/v1/balance_transactions"]
    assert pages
    assert all(q["expand[]"] == ["data.source"] for q in pages)

    stripe = clearing(rig, "stripe")
    assert stripe["balance"] == "0.00"
    assert stripe["payouts_booked"] == 1
    rig.client.post("/console/login", data={"token": "e2e-admin-token"})
    page = rig.client.get("/console/clearing").get_data(as_text=True)
    assert PAYOUT in page
    assert "Balance in Sage: <strong>0.00</strong>" in page


def test_stripe_payout_once_though_the_worker_is_killed_mid_entry(
    rig: Rig,
    stripe_api: tuple[FakeStripePayouts, dict[str, str]],
    start_beat: Callable[..., None],
) -> None:
    fake, api_env = stripe_api
    env = {**rig.worker_env, **api_env, "BRIDGE_WORKER_HEARTBEAT_TTL": str(HEARTBEAT_TTL)}
    start_beat(**env)
    first = rig.start_worker(pool="solo", concurrency=1, **env)
    books_three_stripe_orders(rig)
    fake.add_payout(stripe_payout(), stripe_transactions())
    rig.control.faults(operations=["createAccountingEntryUsingCodes"], latency_ms=3000)
    ref = send_stripe(rig, "payout.paid", stripe_payout())

    store = PayoutStore(rig.services.redis, rig.services.settings)

    def in_sage() -> bool:
        payout = store.get("stripe", PAYOUT)
        flying = rig.control.stats()["in_flight"].get("createAccountingEntryUsingCodes", 0)
        return payout is not None and payout.intended("book") and flying > 0

    rig.wait_for(in_sage, what="the worker inside createAccountingEntryUsingCodes")
    first.kill()
    rig.control.clear_faults()
    rig.start_worker(pool="solo", concurrency=1, **env)
    rig.wait_for(lambda: rig.event_status(ref) == "processed", timeout=90, what="recovery")

    assert_booked_once(rig, STRIPE_CLEARING)


def test_missing_fees_account_is_reported_at_start_and_payouts_wait(
    rig: Rig, stripe_api: tuple[FakeStripePayouts, dict[str, str]]
) -> None:
    fake, env = stripe_api
    wrong = rig.start_worker(pool="threads", concurrency=2, **rig.worker_env, **env,
                             BRIDGE_FEES_ACCOUNT="627999999")  # fmt: skip

    def reported() -> Any:
        return [i for i in rig.services.attention.items() if i.kind == "payout_mapping"]

    [item] = rig.wait_for(reported, what="the mapping problem reported at start")
    assert "627999999" in item.reason
    assert "BRIDGE_FEES_ACCOUNT" in item.reason
    fake.add_payout(stripe_payout(), stripe_transactions())
    refs = [send_stripe(rig, "payout.paid", stripe_payout()) for _ in range(2)]
    rig.wait_for(lambda: all(rig.event_status(r) == "parked" for r in refs), what="parked")
    record = rig.services.events.get(refs[0])
    assert record is not None
    assert "627999999" in (record.attempts[-1].error or "")
    assert rig.services.sage.entries_with_lines(PAYOUT) == []

    # Fixed (here: the worker restarted with the right account), the waiting payouts go
    # through, still once.
    wrong.stop()
    rig.start_worker(pool="threads", concurrency=2, **rig.worker_env, **env)
    gate = MappingGate(rig.services.redis, rig.services.settings, rig.services.attention)
    rig.wait_for(lambda: (state := gate.state()) is not None and not state.problems,
                 what="the mapping checked again at start")  # fmt: skip
    headers = {"Authorization": "Bearer e2e-admin-token"}
    for ref in refs:
        assert rig.client.post(f"/admin/events/{ref}/replay", headers=headers).status_code == 202
    rig.wait_for(lambda: all(rig.event_status(r) == "processed" for r in refs), what="booked")
    assert len(rig.services.sage.entries_with_lines(PAYOUT)) == 1


def shopify_order_paid(n: int, order_id: int, amount: str) -> dict[str, Any]:
    tx = copy.deepcopy(payload("shopify", "order-transactions-create-001-sale-shopify-payments"))
    tx.update(id=960 + n, order_id=order_id, amount=amount)
    tx.pop("amount_set", None)
    return tx


def test_shopify_payments_payout_read_by_the_reconciliation_job(rig: Rig) -> None:
    shop = FakeShopifyGraphQL(shop_domain=SHOP)
    refund = {
        "id": 71,
        "type": "refund",
        "currency": "EUR",
        "amount": "-12.40",
        "fee": "0.00",
        "net": "-12.40",
        "source_type": "Refund",
        "source_order_id": 5910000003039,
    }
    dispute = {"id": 72, "type": "dispute", "currency": "EUR", "amount": "-19.80",
               "fee": "15.00", "net": "-34.80", "source_type": "Dispute",
               "source_order_id": 5930000000001}  # fmt: skip
    charges = [
        {"id": 60 + n, "type": "charge", "currency": "EUR", "amount": amount, "fee": fee,
         "net": str(Decimal(amount) - Decimal(fee)), "source_type": "Charge",
         "source_order_id": order}
        for n, (amount, fee, order) in enumerate(
            [("19.80", "0.55", 5910000001013), ("19.80", "0.55", 5930000000001),
             ("64.80", "1.22", 5910000003039)])
    ]  # fmt: skip
    net = Decimal("104.40") - Decimal("2.32") - Decimal("12.40") - Decimal("34.80")
    payout = {"id": 880001, "status": "paid", "date": "2026-03-05", "currency": "EUR",
              "amount": str(net)}  # fmt: skip
    own = {"id": 73, "type": "payout", "currency": "EUR", "amount": str(-net), "fee": "0.00",
           "net": str(-net), "source_type": "Payout"}  # fmt: skip
    shop.add_payout(payout, [*charges, refund, dispute, own])
    with serve_wsgi(shop.app) as base:
        env = {**rig.worker_env, "SHOPIFY_SHOP_DOMAIN": SHOP,
               "SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN, "SHOPIFY_API_URL": base,
               "BRIDGE_RECONCILE_WINDOW": str(3 * 365 * 86400)}  # fmt: skip
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
        rig.send("refunds/create", payload("shopify", "refunds-create-001-line-and-shipping"))
        rig.wait_for(
            lambda: (link := rig.services.links.order(ORDER_C)) is not None and link.credited,
            what="the refund's credit note",
        )
        assert rig.services.sage.account_balance(SHOPIFY_CLEARING) == Decimal("104.40")

        ref = "shopify:backfill.payout.880001"
        for _ in range(2):  # the job runs twice: the payout is fed (and booked) once
            make_celery(rig.services.settings).send_task("tasks.backfill.reconcile")
            rig.wait_for(lambda: rig.event_status(ref) == "processed", what="payout booked")
        worker.stop()  # a warm shutdown: the second job ends, with Shopify still answering

    sage = rig.services.sage
    [entry] = sage.entries_with_lines("880001")
    lines = [(ln.sub_account.code if ln.sub_account else "", ln.debit_amount, ln.credit_amount)
             for ln in entry.accounting_entry_lines]  # fmt: skip
    assert ("512000000", net, Decimal(0)) in lines
    assert ("627000000", Decimal("17.32"), Decimal(0)) in lines
    assert (SHOPIFY_CLEARING, Decimal(0), Decimal("104.40")) in lines
    assert sage.account_balance(SHOPIFY_CLEARING) == Decimal(0)
