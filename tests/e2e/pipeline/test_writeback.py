"""Write-back end to end: an order's invoice settled by hand in Sage (the sandbox over HTTP)
is seen by the poller (a real worker runs `tasks.poll.poll`), and the worker marks the order
paid on the fake Shopify GraphQL server exactly once; an order Shopify already shows paid
gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bridge.poller.writeback import request_mark_paid
from tasks.app import make_celery
from tests.support.pipeline import SHOP, payload
from tests.support.rig import ADMIN_TOKEN, Rig
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, FakeShopifyGraphQL

pytestmark = pytest.mark.e2e

UNPAID = f"shopify:{SHOP}:5910000001013"  # 19.80, paid by bank transfer: no Shopify payment
PAID = f"shopify:{SHOP}:5910000003039"  # 64.80, Shopify already shows it paid
EVENT = "shopify:writeback.paid.5910000001013"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopifyGraphQL, str]]:
    fake = FakeShopifyGraphQL(shop_domain=SHOP)
    fake.add_order({**payload("shopify", "orders-create-001-ttc-single-mug"),
                    "financial_status": "pending"})  # fmt: skip
    fake.add_order(payload("shopify", "orders-create-003-ttc-mixed-rates"))
    with serve_wsgi(fake.app) as base:
        yield fake, base
    fake.close()


def settle_by_hand(sandbox_url: str, invoice_id: str, amount: str) -> None:
    body = {"amount": amount, "paymentMethod": "Bank transfer", "documentNumber": "VIR-1"}
    response = httpx.post(f"{sandbox_url}/_sandbox/invoices/{invoice_id}/settle", json=body)
    assert response.status_code < 300, response.text


def attempts(rig: Rig, ref: str) -> int:
    record = rig.services.events.get(ref)
    return len(record.attempts) if record else 0


def start(rig: Rig, base: str) -> Any:
    """A worker and a Celery client for a bridge with write-back on."""
    env: dict[str, Any] = {**rig.worker_env, "SHOPIFY_SHOP_DOMAIN": SHOP,
                           "SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN, "SHOPIFY_API_URL": base,
                           "SHOPIFY_API_VERSION": API_VERSION,
                           "BRIDGE_SHOPIFY_WRITE_BACK": "true"}  # fmt: skip
    rig.start_worker(pool="threads", concurrency=4, **env)
    settings = rig.services.settings.model_copy(
        update={"shopify_write_back": True, "shopify_shop_domain": SHOP}
    )
    return make_celery(settings), settings


def test_a_hand_settlement_marks_the_order_paid_in_shopify_once(
    rig: Rig, sandbox_url: str, shop: tuple[FakeShopifyGraphQL, str]
) -> None:
    fake, base = shop
    celery, settings = start(rig, base)
    # given two posted orders, each then settled by hand in Sage (a bank transfer)
    rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    for reference, amount in ((UNPAID, "19.80"), (PAID, "64.80")):
        invoice = rig.wait_status(reference, "Posted")
        settle_by_hand(sandbox_url, invoice.id, amount)

    # when the poller runs
    celery.send_task("tasks.poll.poll")

    # then the unpaid order is marked paid in Shopify, once; the paid one is left alone
    rig.wait_for(lambda: rig.event_status(EVENT) == "processed", what="the write-back")
    assert fake.marked_paid == ["gid://shopify/Order/5910000001013"]
    rig.wait_for(lambda: rig.event_status("shopify:writeback.paid.5910000003039") == "processed")
    view = rig.client.get(f"/admin/orders/{UNPAID}", headers=AUTH).get_json()
    assert view["shopify_write_back"]["state"] == "done"
    other = rig.client.get(f"/admin/orders/{PAID}", headers=AUTH).get_json()
    assert other["shopify_write_back"]["state"] == "already_paid"
    assert "write-back: done" in _console_orders(rig)

    # and replaying the event, or the poller seeing the invoice again, sends nothing more
    assert rig.client.post(f"/admin/events/{EVENT}/replay", headers=AUTH).status_code == 202
    rig.wait_for(lambda: attempts(rig, EVENT) == 2 and rig.event_status(EVENT) != "queued",
                 what="the replay")  # fmt: skip
    invoice = rig.invoice_status(UNPAID)
    assert invoice is not None
    assert request_mark_paid(replace(rig.services, settings=settings), invoice) is False
    assert fake.marked_paid == ["gid://shopify/Order/5910000001013"]
    assert fake.requests.count("BridgeMarkAsPaid") == 1
    celery.close()


def test_a_refused_write_back_is_a_failed_event_that_a_replay_finishes(
    rig: Rig, sandbox_url: str, shop: tuple[FakeShopifyGraphQL, str]
) -> None:
    fake, base = shop
    celery, _ = start(rig, base)
    rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))
    settle_by_hand(sandbox_url, rig.wait_status(UNPAID, "Posted").id, "19.80")
    # given Shopify refuses the token (say it lacks write_orders)
    fake.fail_next(403)

    # when the poller sees the hand settlement
    celery.send_task("tasks.poll.poll")

    # then the write-back is a failed event, with the reason on the order
    rig.wait_for(lambda: rig.event_status(EVENT) == "failed", what="the failed write-back")
    record = rig.services.events.get(EVENT)
    assert record is not None
    assert "refused the credentials (403)" in (record.attempts[-1].error or "")
    view = rig.client.get(f"/admin/orders/{UNPAID}", headers=AUTH).get_json()
    assert view["shopify_write_back"]["state"] == "failed"
    assert fake.marked_paid == []

    # and once replayed it marks the order paid, once
    assert rig.client.post(f"/admin/events/{EVENT}/replay", headers=AUTH).status_code == 202
    rig.wait_for(lambda: rig.event_status(EVENT) == "processed", what="the replay")
    assert fake.marked_paid == ["gid://shopify/Order/5910000001013"]
    celery.close()


def _console_orders(rig: Rig) -> str:
    login = rig.client.post("/console/login", data={"token": ADMIN_TOKEN})
    assert login.status_code in (200, 302)
    return rig.client.get("/console/orders").get_data(as_text=True)
