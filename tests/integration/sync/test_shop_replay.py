"""Exactly once whatever the headers: a Shopify signature covers the body only.

Given one genuine `orders/create` delivery, booked, when the same signed body is replayed
with a new webhook id and the shop domain spelt `SHOP-A.MyShopify.com`, then it is accepted
(the same shop) and books nothing new: the order reference is built on the connection's
canonical shop, never on the header as sent. Under another domain it is refused (404) once
the environment's connection has its shop set; `bridge doctor` warns while it has none.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.ops.doctor import DoctorContext, Level, run_checks
from bridge.sync.dispatch import run_event
from bridge.web import create_app
from tests.support.make_pipeline import MakePipeline
from tests.support.pipeline import Pipeline, payload
from tests.support.webhooks import SHOPIFY_SECRET, shopify_headers

pytestmark = pytest.mark.integration
SHOP = "shop-a.myshopify.com"
ORDER = "orders-create-001-ttc-single-mug"  # Shopify's documented orders/create shape


def _deliver(client: FlaskClient, body: bytes, shop: str) -> tuple[int, dict[str, Any]]:
    headers = shopify_headers(body, webhook_id=str(uuid.uuid4()), shop=shop)
    answer = client.post("/webhooks/shopify", data=body, headers=headers)
    return answer.status_code, answer.get_json()


def _invoices_of(pipeline: Pipeline, order_id: int) -> list[str]:
    return [
        doc.sales_order_number or ""
        for doc in pipeline.documents("shopify:")
        if (doc.sales_order_number or "").endswith(f":{order_id}")
    ]


@pytest.mark.parametrize("configured", [SHOP, "  Shop-A.myshopify.com ", None])
def test_a_replayed_delivery_with_another_spelling_books_nothing_new(
    make_pipeline: MakePipeline, configured: str | None
) -> None:
    env: dict[str, Any] = {"SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET}
    if configured is not None:
        env["SHOPIFY_SHOP_DOMAIN"] = configured
    pipeline = make_pipeline(**env)
    client = create_app(pipeline.services.settings, pipeline.services).test_client()
    order = payload("shopify", ORDER)
    order["id"] = 7_000_000_000_000 + uuid.uuid4().int % 1_000_000
    body = json.dumps(order).encode()

    for shop in (SHOP, "SHOP-A.MyShopify.com", " shop-a.MYSHOPIFY.com"):
        status, answer = _deliver(client, body, shop)
        assert status == 202, answer
        result = run_event(pipeline.services, answer["id"], f"task-{uuid.uuid4().hex[:6]}")
        assert result.status == "processed", result
    assert _invoices_of(pipeline, order["id"]) == [f"shopify:{SHOP}:{order['id']}"]

    status, answer = _deliver(client, body, "anything.example")
    if configured is not None:  # the environment's connection takes its own shop only
        assert status == 404, answer
        assert answer["error"] == "unknown_shop"
    assert _invoices_of(pipeline, order["id"]) == [f"shopify:{SHOP}:{order['id']}"]


def test_the_doctor_warns_while_no_shop_domain_is_set(make_pipeline: MakePipeline) -> None:
    for configured, level in ((None, Level.WARNING), (SHOP, Level.OK)):
        env: dict[str, Any] = {"SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET}
        if configured:
            env["SHOPIFY_SHOP_DOMAIN"] = configured
        services = make_pipeline(**env).services
        ctx = DoctorContext(services.settings, services.redis, lambda s=services: s.sage)
        found = [f for f in run_checks(ctx).findings if f.check == "Shop routing"]
        assert [f.level for f in found] == [level]
        assert not found[0].holds
        if level is Level.WARNING:
            assert "SHOPIFY_SHOP_DOMAIN" in found[0].fix
