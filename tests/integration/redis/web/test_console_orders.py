"""The console's orders, order and attention pages over the real test Redis: orders in
words with search and paging, a failed order showing why and what to do, attention items
with the entry to book in Sage, resolved in the console with a note (and through the admin
API), and event bodies shown formatted."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from flask.testing import FlaskClient

from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.events import EventStatus, NewEvent
from bridge.store.links import OrderLink
from bridge.store.order_events import OrderEvents
from tests.support.web import ADMIN_TOKEN, REF, booked_order

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ADJUSTMENT = AttentionItem(
    id="refund_adjustment:shopify:9001:0",
    kind="refund_adjustment",
    order_reference=REF,
    amount=Decimal("2.00"),
    currency="EUR",
    reason="2.00 refunded without line detail (order adjustment or provider refund): "
    "Sage's credit note API cannot express it; book it by hand",
    source="9001",
)


def _login(client: FlaskClient) -> None:
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302


def _csrf(client: FlaskClient, page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(page).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="order" data-reference="([^"]+)"', html)


def test_orders_show_date_customer_number_amounts_and_invoice(
    client: FlaskClient, services: Services
) -> None:
    booked_order(services)
    _login(client)

    html = client.get("/console/orders").get_data(as_text=True)

    assert _rows(html) == [REF]
    assert "2026-03-02" in html
    assert ">#1001</a>" in html
    assert "Camille Martin" in html
    assert "Invoice FA-1" in html
    assert 'data-state="booked"' in html


def test_search_by_number_customer_reference_and_invoice(
    client: FlaskClient, services: Services
) -> None:
    booked_order(services)
    services.links.save_order(OrderLink(reference="stripe:default:in_other"))
    _login(client)

    for query in ("#1001", "camille", "5910000001013", "FA-1", "camille.martin@example"):
        html = client.get("/console/orders", query_string={"q": query}).get_data(as_text=True)
        assert _rows(html) == [REF], query
    html = client.get("/console/orders", query_string={"q": "in_other"}).get_data(as_text=True)
    assert _rows(html) == ["stripe:default:in_other"]
    none = client.get("/console/orders", query_string={"q": "nobody"}).get_data(as_text=True)
    assert _rows(none) == []
    assert "No order matches" in none


def test_orders_page_through_more_than_a_hundred(client: FlaskClient, services: Services) -> None:
    refs = [f"stripe:default:in_{n:03d}" for n in range(120)]
    for ref in refs:
        services.links.save_order(OrderLink(reference=ref))
    _login(client)

    seen: list[str] = []
    url: str | None = "/console/orders"
    while url is not None:
        html = client.get(url).get_data(as_text=True)
        seen += _rows(html)
        found = re.search(r'id="older" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None

    assert sorted(seen) == refs
    assert len(seen) == len(set(seen)) == 120


def test_a_failed_order_says_why_and_what_to_do(client: FlaskClient, services: Services) -> None:
    booked_order(services)
    link = services.links.order(REF)
    assert link is not None
    services.links.save_order(link.model_copy(update={"invoice_id": None, "number": None}))
    event = NewEvent(provider="shopify", provider_id="w-77", topic="orders/create", body="{}")
    services.events.record(event)
    services.events.mark(event.ref, EventStatus.FAILED, error="no Sage product for SKU MUG-1")
    OrderEvents(services.redis, services.settings).note(REF, event.ref)
    _login(client)

    listed = client.get("/console/orders").get_data(as_text=True)
    page = client.get(f"/console/order/{REF}").get_data(as_text=True)

    assert 'data-state="failed"' in listed
    assert f'href="/console/events/{event.ref}"' in listed
    assert "no Sage product for SKU MUG-1" in listed
    assert "Not booked: this event failed" in page
    assert "What to do:" in page
    assert f'data-ref="{event.ref}"' in page  # the replay button
    assert "#1001 · Camille Martin" in page


def test_attention_shows_the_entry_to_book_and_resolves_with_a_note(
    client: FlaskClient, services: Services
) -> None:
    booked_order(services)
    services.attention.add(ADJUSTMENT)
    _login(client)

    listed = client.get("/console/orders").get_data(as_text=True)
    page = client.get(f"/console/order/{REF}").get_data(as_text=True)
    attention = client.get("/console/attention").get_data(as_text=True)

    assert "1 to book by hand" in listed
    for html in (page, attention):
        assert "Refund without line detail" in html
        assert "Create a credit note of 2.00 EUR incl. VAT" in html
        assert "invoice FA-1" in html
    assert "#1001 · Camille Martin" in attention
    assert ADJUSTMENT.order_reference not in re.sub(r'(href|value|data-\w+)="[^"]*"', "", attention)

    done = client.post("/console/attention/resolve", data={
        "csrf": _csrf(client, "/console/attention"), "item": ADJUSTMENT.id,
        "note": "credit note AV-0042", "back": "/console/attention"})  # fmt: skip

    assert done.status_code == 302
    assert services.attention.items() == []
    assert services.attention.notes([ADJUSTMENT.id]) == {ADJUSTMENT.id: "credit note AV-0042"}
    shown = client.get("/console/attention?all=1").get_data(as_text=True)
    assert "credit note AV-0042" in shown
    api = client.get("/admin/attention?include_resolved=true", headers=AUTH).get_json()
    [item] = api["items"]
    assert item["resolution_note"] == "credit note AV-0042"
    assert item["label"] == "Refund without line detail"
    assert "credit note" in item["book_in_sage"]


def test_resolve_needs_csrf_and_an_existing_item(client: FlaskClient, services: Services) -> None:
    services.attention.add(ADJUSTMENT)
    _login(client)
    csrf = _csrf(client, "/console/attention")

    refused = client.post("/console/attention/resolve", data={"item": ADJUSTMENT.id})
    missing = client.post("/console/attention/resolve", data={"csrf": csrf, "item": "nope"})
    long_note = {"csrf": csrf, "item": ADJUSTMENT.id, "note": "x" * 2001}
    too_long = client.post("/console/attention/resolve", data=long_note)

    assert (refused.status_code, missing.status_code, too_long.status_code) == (400, 404, 400)
    assert [i.id for i in services.attention.items()] == [ADJUSTMENT.id]


def test_admin_resolve_takes_a_note_and_refuses_a_bad_body(
    client: FlaskClient, services: Services
) -> None:
    services.attention.add(ADJUSTMENT)
    url = f"/admin/attention/{ADJUSTMENT.id}/resolve"

    bad = client.post(url, data="not json", headers={**AUTH, "Content-Type": "application/json"})
    extra = client.post(url, json={"note": "ok", "by": "me"}, headers=AUTH)
    assert (bad.status_code, extra.status_code) == (400, 400)
    assert services.attention.items() != []

    done = client.post(url, json={"note": "booked AV-7"}, headers=AUTH)
    assert done.status_code == 200
    assert done.get_json()["resolution_note"] == "booked AV-7"
    assert client.post(url, headers=AUTH).status_code == 200  # still idempotent, no body
    assert services.attention.notes([ADJUSTMENT.id]) == {ADJUSTMENT.id: "booked AV-7"}


def test_event_body_is_shown_indented_and_headers_as_a_table(
    client: FlaskClient, services: Services
) -> None:
    body = json.dumps({"id": 1, "line_items": [{"sku": "MUG-1"}]})
    event = NewEvent(provider="shopify", provider_id="w-1", topic="orders/create", body=body,
                     headers={"X-Shopify-Topic": "orders/create"})  # fmt: skip
    services.events.record(event)
    _login(client)

    html = client.get(f"/console/events/{event.ref}").get_data(as_text=True)

    assert "{\n  &#34;id&#34;: 1,\n  &#34;line_items&#34;: [\n    {" in html
    assert "<th>X-Shopify-Topic</th>" in html


def test_unknown_order_is_a_404_page(client: FlaskClient) -> None:
    _login(client)
    response = client.get("/console/order/shopify:nope:1")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_report_page_refuses_bad_dates_and_says_when_sage_cannot_be_read(
    client: FlaskClient,
) -> None:
    _login(client)

    form = client.get("/console/report")
    bad = client.get("/console/report?from=03/01/2026")
    backwards = client.get("/console/report?from=2026-03-10&to=2026-03-01")
    no_sage = client.get("/console/report?from=2026-03-01&to=2026-03-31")

    assert form.status_code == 200
    assert 'id="report-run"' in form.get_data(as_text=True)
    assert (bad.status_code, backwards.status_code) == (400, 400)
    assert "is not a date" in bad.get_data(as_text=True)
    assert no_sage.status_code == 200
    assert "Sage could not be read" in no_sage.get_data(as_text=True)


def test_an_order_whose_first_event_failed_has_a_page_with_the_error(
    client: FlaskClient, services: Services
) -> None:
    event = NewEvent(provider="shopify", provider_id="w-88", topic="orders/create", body="{}")
    services.events.record(event)
    services.events.mark(event.ref, EventStatus.FAILED, error="order is in USD, the books in EUR")
    OrderEvents(services.redis, services.settings).note("shopify:s:88", event.ref)
    _login(client)

    page = client.get("/console/order/shopify:s:88").get_data(as_text=True)

    assert "Not booked: this event failed" in page
    assert "order is in USD, the books in EUR" in page
    assert "No invoice in Sage yet" in page
