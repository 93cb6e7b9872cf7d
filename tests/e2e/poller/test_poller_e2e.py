"""End to end: webhooks in, Sage (sandbox over HTTP), beat + worker, signed webhooks out.

Every delivery is verified with the `standardwebhooks` package, as a subscriber would.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bridge.poller.status import observe
from bridge.store.poller import StatusStore
from bridge.web import create_app
from connectors.sage_active.models import SalesInvoiceInput, SalesInvoiceLineInput
from connectors.sage_active.sandbox import seed_id
from tests.support.poller_bridge import POLL_INTERVAL, Bridge
from tests.support.servers import serve_wsgi
from tests.support.webhooks import shopify_headers

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
ORDER = FIXTURES / "orders-create-001-ttc-single-mug.json"
SALE = FIXTURES / "order-transactions-create-001-sale-shopify-payments.json"
ORDER_REF = "shopify:demo.myshopify.com:5910000001013"
PUMP_INTERVAL = 2.0  # the outbound pump's beat interval (tasks/schedule.py)


def test_order_and_payment_reach_the_subscriber_posted_then_collected(bridge: Bridge) -> None:
    # given the bridge's ingress, worker, beat and a subscriber
    app = create_app(services=bridge.services)
    with serve_wsgi(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        # when Shopify sends an order, then its payment
        order = ORDER.read_bytes()
        response = http.post("/webhooks/shopify", content=order, headers=shopify_headers(order))
        assert response.status_code == 202, response.text
        sale = SALE.read_bytes()
        headers = shopify_headers(sale, topic="order_transactions/create")
        response = http.post("/webhooks/shopify", content=sale, headers=headers)
        assert response.status_code == 202, response.text

        # then the subscriber gets invoice.posted, then invoice.collected, signed
        posted, _ = bridge.subscriber.wait_for("invoice.posted", timeout=60)
        collected, _ = bridge.subscriber.wait_for("invoice.collected", timeout=60)
    # deliveries run in parallel, so arrival order is not the events' order: their
    # timestamps (when each was emitted, ISO-8601 UTC) are
    assert posted["timestamp"] <= collected["timestamp"]
    assert posted["data"]["order_reference"] == ORDER_REF
    assert collected["data"]["invoice_id"] == posted["data"]["invoice_id"]
    assert collected["data"]["status"] == "Collected"
    assert collected["data"]["amount_due"] == "0.00"
    assert collected["data"]["total"] == "19.80"
    types = [body["type"] for body, _ in bridge.subscriber.verified()]
    assert types.count("invoice.collected") == 1


def test_a_hand_settlement_is_delivered_within_one_poll(bridge: Bridge) -> None:
    # given a posted bridge invoice that the poller already knows
    sage = bridge.services.sage
    created = sage.create_invoice(
        SalesInvoiceInput(
            customer_id=str(seed_id("customer", "WALKIN")),
            document_date=date.today(),
            sales_order_number="stripe:default:pi_e2e_1",
            lines=[
                SalesInvoiceLineInput(
                    product_id=str(seed_id("product", "BOOK-001")),
                    total_quantity=Decimal(2),
                    unit_price=Decimal("12.50"),
                )
            ],
        )
    )
    sage.close_and_post(created.id, str(seed_id("journalType", "VT")), "e2e")
    invoice = sage.invoice(created.id)
    assert invoice is not None
    observe(bridge.services, invoice)  # what the pipeline does after posting
    store = StatusStore(bridge.services.redis, bridge.settings)
    assert store.read(created.id)[0] == "Posted"

    # when a person settles it in Sage
    http = httpx.Client(base_url=bridge.env["SAGE_AUTH_URL"], timeout=10)
    with http:
        settled_at = time.monotonic()
        response = http.post(f"/_sandbox/invoices/{created.id}/settle", json={})
    assert response.status_code == 200, response.text

    # then invoice.collected reaches the subscriber within one poll (plus the pump's tick
    # and the delivery itself)
    body, arrived = bridge.subscriber.wait_for("invoice.collected", timeout=30)
    assert body["data"]["invoice_id"] == created.id
    assert body["data"]["total"] == "26.38"  # 25.00 + 5.5 % VAT
    assert arrived - settled_at < POLL_INTERVAL + PUMP_INTERVAL + 3.0
