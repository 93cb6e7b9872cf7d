"""The e-invoicing part of the admin API and console: refusals that need no Sage call, and
an order's e-invoicing page with what the poller recorded."""

from __future__ import annotations

import re
from decimal import Decimal

from flask.testing import FlaskClient

from bridge.einvoice.lifecycle import changes, record_emitted
from bridge.einvoice.routing import EInvoiceFields
from bridge.services import Services
from bridge.store.poller import InvoiceState, StatusStore
from tests.support.web import ADMIN_TOKEN, REF, booked_order

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _login(client: FlaskClient) -> None:
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302


def _rejected(services: Services) -> None:
    """The booked order's invoice, sent electronically, then rejected (as the poller saw it)."""
    link = services.links.order(REF)
    assert link is not None
    link.einvoice = EInvoiceFields(address_type="fr.siren", address="123456782", framework="S1")
    services.links.save_order(link)
    state = InvoiceState(
        invoice_id="inv-1",
        status="Collected",
        modification_date="2026-09-02T10:00:00.000000Z",
        order_reference=REF,
        total=Decimal("19.80"),
        amount_due=Decimal(0),
        einvoice_status="REJECTED",
        einvoice_reason="SIREN inconnu",
        einvoice_submissions=1,
    )
    store = StatusStore(services.redis, services.settings)
    assert store.compare_and_set(("", ""), state, [])
    for event in changes(None, state):
        record_emitted(services.redis, services.settings, event)


def test_retry_refusals_are_clear_and_call_nothing(client: FlaskClient, services: Services) -> None:
    booked_order(services)
    assert client.post("/admin/einvoice/retry", json={"ref": REF}).status_code == 401
    assert client.post("/admin/einvoice/retry", json={}, headers=AUTH).status_code == 400
    bad = client.post("/admin/einvoice/retry", data=b"{", headers=AUTH)
    assert bad.status_code == 400
    missing = client.post("/admin/einvoice/retry", json={"ref": "shopify:x:1"}, headers=AUTH)
    assert missing.status_code == 404
    plain = client.post("/admin/einvoice/retry", json={"ref": REF}, headers=AUTH)
    assert plain.status_code == 409
    assert "not sent electronically" in plain.json["detail"]


def test_the_order_page_shows_the_rejection_and_its_attention_item(
    client: FlaskClient, services: Services
) -> None:
    booked_order(services)
    assert client.get(f"/admin/orders/{REF}", headers=AUTH).json["einvoicing"] is None
    _rejected(services)

    page = client.get(f"/admin/orders/{REF}", headers=AUTH).json["einvoicing"]
    assert (page["status"], page["reason"], page["needs_attention"]) == (
        "REJECTED",
        "SIREN inconnu",
        True,
    )
    assert [h["status"] for h in page["history"]] == ["REJECTED"]
    [item] = services.attention.items(kind="einvoice")
    assert item.order_reference == REF
    assert "SIREN inconnu" in item.reason

    _login(client)
    html = client.get(f"/console/einvoice/{REF}").get_data(as_text=True)
    assert "REJECTED" in html
    assert "SIREN inconnu" in html
    listing = client.get("/console/einvoice/").get_data(as_text=True)
    assert REF in listing
    orders = client.get("/console/orders").get_data(as_text=True)
    assert re.search(r"e-invoice:\s*<a[^>]*>REJECTED</a>", orders)
    # a retry without the form's CSRF token is refused before anything is sent
    assert client.post(f"/console/einvoice/{REF}/retry").status_code == 400
