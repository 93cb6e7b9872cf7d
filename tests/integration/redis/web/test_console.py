"""The operator console: login, session cookie, CSRF, pages over the real stores."""

from __future__ import annotations

import re
import time
from decimal import Decimal

from flask import request as flask_request
from flask.testing import FlaskClient

from bridge.activity import SageActivity, events_per_minute, sage_requests_per_minute
from bridge.outbound.events import EventType
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent
from bridge.store.links import OrderLink
from bridge.store.outbound import Subscription
from bridge.web import create_app
from connectors.outbound.signing import new_secret
from tests.support.web import ADMIN_TOKEN, REF, booked_order


def _login(client: FlaskClient) -> None:
    response = client.post("/console/login", data={"token": ADMIN_TOKEN})
    assert response.status_code == 302


def _csrf(client: FlaskClient, page: str = "/console/") -> str:
    html = client.get(page).get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _failed_event(services: Services, ref_id: str = "evt_console_1") -> str:
    event = NewEvent(provider="stripe", provider_id=ref_id, topic="invoice.paid", body="{}")
    services.events.record(event)
    services.events.mark(event.ref, EventStatus.FAILED, error="unmapped gateway 'cash'")
    return event.ref


def test_pages_need_a_login(client: FlaskClient) -> None:
    response = client.get("/console/events")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")


def test_a_wrong_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/console/login", data={"token": "nope"})
    assert response.status_code == 401
    assert "not the admin token" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_login_sets_a_strict_httponly_cookie(client: FlaskClient) -> None:
    response = client.post("/console/login", data={"token": ADMIN_TOKEN})
    cookie = response.headers["Set-Cookie"]
    assert "bridge_console=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert ADMIN_TOKEN not in cookie


def test_sessions_are_opened_for_the_console_only(client: FlaskClient) -> None:
    # Given a logged-in console user (the session cookie is sent with every request)
    _login(client)
    app = client.application
    # When a request outside the console is made, its session is the null one
    with app.test_request_context("/admin/events", headers={"Cookie": "bridge_console=x"}):
        outside = app.session_interface.open_session(app, flask_request)
    with app.test_request_context("/console/"):
        inside = app.session_interface.open_session(app, flask_request)
    # Then only the console pays for (and can use) a signed session
    assert outside is not None
    assert app.session_interface.is_null_session(outside)
    assert inside is not None
    assert not app.session_interface.is_null_session(inside)
    # and the console still knows the user
    assert client.get("/console/").status_code == 200


def test_login_never_redirects_outside_the_console(client: FlaskClient) -> None:
    response = client.post(
        "/console/login?next=https://evil.example/x", data={"token": ADMIN_TOKEN}
    )
    assert response.headers["Location"] == "/console/"


def test_overview_shows_a_failed_event_and_replay_needs_csrf(
    client: FlaskClient, services: Services
) -> None:
    ref = _failed_event(services)
    _login(client)
    html = client.get("/console/").get_data(as_text=True)
    assert ref in html
    assert "unmapped gateway" in html

    refused = client.post(f"/console/events/{ref}/replay", data={"back": "/console/"})
    assert refused.status_code == 400
    record = services.events.get(ref)
    assert record is not None
    assert record.status is EventStatus.FAILED

    done = client.post(
        f"/console/events/{ref}/replay", data={"csrf": _csrf(client), "back": "/console/"}
    )
    assert done.status_code == 302
    record = services.events.get(ref)
    assert record is not None
    assert record.status is EventStatus.QUEUED
    assert "failed -&gt; queued" in client.get("/console/").get_data(as_text=True)


def test_event_page_and_unknown_things(client: FlaskClient, services: Services) -> None:
    ref = _failed_event(services)
    _login(client)
    page = client.get(f"/console/events/{ref}").get_data(as_text=True)
    assert "invoice.paid" in page
    assert client.get("/console/events/stripe:evt_missing").status_code == 404
    assert client.get("/console/events?status=bogus").status_code == 400
    assert client.get("/console/outbound?status=bogus").status_code == 400


def test_orders_page_lists_invoices_with_their_status(
    client: FlaskClient, services: Services
) -> None:
    link = OrderLink(reference="shopify:demo.myshopify.com:42", invoice_id="inv-1",
                     number="VT-0042", status="Collected", paid=Decimal("19.80"))  # fmt: skip
    services.links.save_order(link)
    _login(client)
    html = client.get("/console/orders").get_data(as_text=True)
    assert "VT-0042" in html
    assert "Collected" in html
    assert "19.80" in html


def test_orders_page_shows_lines_booked_on_a_fallback_product(
    client: FlaskClient, services: Services
) -> None:
    booked_order(services)  # its first line (the mug) went to a fallback product
    _login(client)
    text = " ".join(client.get("/console/orders").get_data(as_text=True).split())
    link = services.links.order(REF)
    assert link is not None
    assert link.order is not None
    assert f"on a fallback product: {link.order.lines[0].sku}</div>" in text


def test_outbound_page_lists_subscriptions(client: FlaskClient, services: Services) -> None:
    _login(client)
    assert client.get("/console/outbound").status_code == 200
    assert "No subscription." in client.get("/console/outbound").get_data(as_text=True)


def test_logout_ends_the_session(client: FlaskClient) -> None:
    _login(client)
    client.post("/console/logout", data={"csrf": _csrf(client)})
    assert client.get("/console/").status_code == 302


def test_console_is_off_without_an_admin_token(redis_url: str) -> None:
    services = build_services(Settings(REDIS_URL=redis_url))
    try:
        response = create_app(services=services).test_client().get("/console/login")
    finally:
        services.close()
    assert response.status_code == 503
    assert "BRIDGE_ADMIN_TOKEN" in response.get_data(as_text=True)


def test_per_minute_series(services: Services) -> None:
    _failed_event(services, "evt_a")
    _failed_event(services, "evt_b")
    now = time.time()  # after recording: both events are at most a minute boundary back
    activity = SageActivity(services.redis, services.settings, clock=lambda: now)
    activity.on_request("createSalesInvoice", "ok", 0.01)
    activity.on_wait(0.5)

    events = events_per_minute(services.redis, services.events.index_key(), 5, now)
    sage = sage_requests_per_minute(services.redis, services.settings, 5, now)

    assert [n for _, n in events][:3] == [0, 0, 0]
    assert sum(n for _, n in events) == 2
    assert [n for _, n in sage] == [0, 0, 0, 0, 1]
    rendered = services.metrics.render()
    assert 'bridge_sage_requests_total{operation="createSalesInvoice",outcome="ok"} 1' in rendered
    assert "bridge_sage_rate_limit_waits_total 1" in rendered


def test_outbound_pages_show_subscriptions_deliveries_and_replay(
    client: FlaskClient, services: Services
) -> None:
    now = time.time()
    sub = Subscription(
        id="sub_console",
        url="https://hooks.example/in",
        event_types=[EventType.INVOICE_POSTED],
        created_at=now,
        updated_at=now,
    )
    services.outbound.store.put_subscription(sub, new_secret())
    data = {"invoice_id": "inv-1", "status": "Posted", "total": "10.00", "currency": "EUR",
            "amount_due": "10.00"}  # fmt: skip
    event_id = services.outbound.emit(EventType.INVOICE_POSTED, data)
    delivery_id = services.outbound.event(event_id).delivery_ids[0]
    _login(client)

    listing = client.get("/console/outbound").get_data(as_text=True)
    assert "https://hooks.example/in" in listing
    assert delivery_id in listing
    page = client.get(f"/console/deliveries/{delivery_id}").get_data(as_text=True)
    assert event_id in page
    assert "Not attempted yet." in page
    assert client.get("/console/deliveries/dlv_missing").status_code == 404

    services.outbound.delete_subscription("sub_console")
    csrf = _csrf(client, f"/console/deliveries/{delivery_id}")
    answer = client.post(f"/console/deliveries/{delivery_id}/replay", data={"csrf": csrf})
    assert answer.status_code == 302
    assert "was deleted" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_overview_lists_attention_items_of_one_kind(
    client: FlaskClient, services: Services
) -> None:
    from bridge.store.attention import AttentionItem

    for kind, source in (("unlinked_payment", "pi_other_product"), ("dispute", "dp_1")):
        services.attention.add(
            AttentionItem(id=f"{kind}:{source}", kind=kind, reason=f"about {source}")
        )
    _login(client)

    everything = client.get("/console/").get_data(as_text=True)
    one_kind = client.get("/console/?kind=unlinked_payment").get_data(as_text=True)

    assert "about pi_other_product" in everything
    assert "about dp_1" in everything
    assert "about pi_other_product" in one_kind
    assert "about dp_1" not in one_kind
    assert "all kinds" in one_kind
