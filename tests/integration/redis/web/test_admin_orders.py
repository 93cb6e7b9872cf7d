"""`/admin/orders`: what was booked for each order, paginated, behind the admin token."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient

from bridge.services import Services
from bridge.store.links import OrderLink
from tests.support.web import ADMIN_TOKEN, REF, SHOP, booked_order

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_one_order_with_its_payments_and_refunds(client: FlaskClient, services: Services) -> None:
    booked_order(services)
    response = client.get(f"/admin/orders/{REF}", headers=AUTH)
    assert response.status_code == 200
    body = response.json
    assert (body["invoice_id"], body["status"], body["total"], body["paid"]) == (
        "inv-1", "Collected", "19.80", "19.80"
    )  # fmt: skip
    assert (body["currency"], body["fallback_lines"]) == ("EUR", [0])
    assert body["order"]["reference"] == REF
    assert [p["entry_id"] for p in body["payment_links"]] == ["entry-1"]
    assert [r["credit_note_id"] for r in body["refund_links"]] == ["cn-1"]
    missing = client.get(f"/admin/orders/shopify:{SHOP}:404", headers=AUTH)
    assert missing.status_code == 404


def test_the_list_pages_newest_first(client: FlaskClient, services: Services) -> None:
    key = services.settings.key("link", "orders")
    for n in range(5):
        services.links.save_order(OrderLink(reference=f"shopify:s:{n}"))
        # Spread the change times: the index orders by them.
        services.redis.zadd(key, {f"shopify:s:{n}": dt.datetime(2026, 11, 1 + n).timestamp()})
    first = client.get("/admin/orders?limit=2", headers=AUTH).json
    assert [o["reference"] for o in first["orders"]] == ["shopify:s:4", "shopify:s:3"]
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor is not None:
        page = client.get(f"/admin/orders?limit=2&cursor={cursor}", headers=AUTH).json
        rest += [o["reference"] for o in page["orders"]]
        cursor = page["next_cursor"]
    assert rest == ["shopify:s:2", "shopify:s:1", "shopify:s:0"]


def test_needs_the_token_and_checks_the_query(client: FlaskClient) -> None:
    assert client.get("/admin/orders").status_code == 401
    bad = client.get("/admin/orders?limit=0&color=red", headers=AUTH)
    assert bad.status_code == 400
    assert {p["field"] for p in bad.json["detail"]} == {"limit", "color"}
