"""Setting up a real merchant, end to end (signed webhooks into the real ingress, a real
Celery worker, the sandbox over HTTP, the real Redis, the real `bridge` commands):

- a go-live date: an order dated before it is not invoiced, and its payment is `ignored`
  and listed for the accountant; an order of the day itself is invoiced;
- adding a second connection while the environment's shop keeps booking, and
  `bridge doctor --connection` checking that connection's own organisation;
- `bridge connections add --register-webhooks` against a fake Shopify and a fake Stripe,
  then a delivery signed with what was registered, booked;
- a missing tip product: the doctor names it and holds the order, and nothing is ever
  booked on a stand-in.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet

from bridge.cli import main
from bridge.connections.hub import ServicesHub
from bridge.ops.doctor import DoctorStore
from bridge.services import Services, build_services
from bridge.store.event_models import EventRecord
from bridge.web import create_app
from bridge.web.common import HUB_KEY
from connectors.stripe.endpoints import WEBHOOK_API_VERSION
from connectors.stripe.webhook import TOPICS as STRIPE_TOPICS
from tests.support.celery import WorkerHandle
from tests.support.pipeline import SHOP, SandboxControl, payload, sandbox_settings
from tests.support.rig import ADMIN_TOKEN, Rig
from tests.support.shopify_graphql import ACCESS_TOKEN, FakeShopifyGraphQL
from tests.support.stripe_endpoints import API_KEY, FakeStripeEndpoints
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET, shopify_headers, stripe_headers

pytestmark = pytest.mark.e2e

ORDER_1 = "orders-create-001-ttc-single-mug"  # #1001, dated 2026-03-02, 19.80
ORDER_2 = "orders-create-002-ttc-quantities-free-shipping-rate"  # dated 2026-03-02
ORDER_3 = "orders-create-003-ttc-mixed-rates"  # #1003, dated 2026-03-03
ORDER_TIP = "orders-create-041-duties-tip-gift-card-fee-v2026-10"
TX_1 = "order-transactions-create-001-sale-shopify-payments"  # #1001's payment
STRIPE_INVOICE = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"
SHOP_B = "shop-b.myshopify.com"
SECRET_B = "shop-b-webhook-secret"
PUBLIC = "https://bridge.example.com"


@pytest.fixture
def setup_rig(
    redis_url: str, sandbox_url: str, start_worker: Callable[..., WorkerHandle]
) -> Iterator[Rig]:
    """`rig`, with connection secrets enabled (BRIDGE_SECRET_KEY) in the web app, the
    worker and the commands (`Rig.worker_env`)."""
    overrides = {
        "BRIDGE_CONNECTION": "default",
        "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BRIDGE_SECRET_KEY": Fernet.generate_key().decode(),
    }
    settings = sandbox_settings(redis_url, sandbox_url, **overrides)
    services = build_services(settings)
    env = {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_TIMEOUT": "5",
        **overrides,
    }
    control = SandboxControl(sandbox_url)
    try:
        with create_app(settings, services).test_client() as client:
            yield Rig(services, client, control, env, start_worker)
    finally:
        control.close()
        services.close()


def bridge(env: dict[str, str], *args: str) -> Result:
    """`bridge ARGS...` with exactly `env` (the suite's own environment is empty of ours)."""
    return CliRunner().invoke(main, list(args), env=env)


def deliver(rig: Rig, shop: str, secret: str, topic: str, body: dict[str, Any]) -> str:
    raw = json.dumps(body).encode()
    delivery = str(uuid.uuid4())
    headers = shopify_headers(raw, topic=topic, webhook_id=delivery, secret=secret, shop=shop)
    answer = rig.client.post("/webhooks/shopify", data=raw, headers=headers)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return f"shopify:{delivery}"


def decided_in(rig: Rig, services: Services, ref: str) -> EventRecord:
    """The event `ref` of the connection `services` serve, once a worker decided it."""

    def decided() -> EventRecord | None:
        record = services.events.get(ref)
        final = record is not None and record.status.value in ("processed", "ignored", "failed")
        return record if final else None

    found: EventRecord = rig.wait_for(decided, 60, f"{ref} decided")
    return found


def outcome(rig: Rig, ref: str) -> EventRecord:
    """The event `ref` of the environment's connection, once a worker decided it."""
    return decided_in(rig, rig.services, ref)


def sage_references(rig: Rig) -> set[str]:
    """The `salesOrderNumber` of every invoice in the environment's organisation."""
    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return {i.sales_order_number or "" for i in rig.services.sage.invoices_changed_since(since)}


# --- the go-live date ----------------------------------------------------------------------


def test_an_order_before_the_go_live_date_is_not_invoiced_and_its_payment_is_ignored(
    setup_rig: Rig,
) -> None:
    rig = setup_rig
    rig.start_worker(
        pool="threads", concurrency=2, **rig.worker_env, BRIDGE_START_DATE="2026-03-03"
    )
    old, new = f"shopify:{SHOP}:5910000001013", f"shopify:{SHOP}:5910000003039"

    created = outcome(rig, rig.send("orders/create", payload("shopify", ORDER_1)))
    assert created.status.value == "ignored"
    assert "dated 2026-03-02, before the go-live date 2026-03-03" in (created.error or "")
    updated = outcome(rig, rig.send("orders/updated", payload("shopify", ORDER_1)))
    assert updated.status.value == "ignored"
    paid = outcome(rig, rig.send("order_transactions/create", payload("shopify", TX_1)))
    assert paid.status.value == "ignored"
    assert "before the go-live date" in (paid.error or "")

    # the payment is listed for the accountant, with what to book
    [item] = rig.services.attention.items(kind="before_go_live")
    assert (item.order_reference, str(item.amount), item.currency) == (old, "19.80", "EUR")
    assert "#1001" in item.reason
    assert "in Sage" in item.reason

    # an order of the go-live day itself is invoiced; the older one is nowhere in Sage
    rig.send("orders/create", payload("shopify", ORDER_3))

    def invoiced() -> str | None:
        link = rig.services.links.order(new)
        return link.invoice_id if link else None

    rig.wait_for(invoiced, 60, "#1003 invoiced")
    references = sage_references(rig)
    assert new in references
    assert old not in references
    assert rig.services.links.order(old) is None


# --- a second connection -------------------------------------------------------------------


def test_a_second_connection_is_added_while_the_first_keeps_booking(setup_rig: Rig) -> None:
    rig = setup_rig
    rig.worker()
    env = rig.worker_env
    first = f"shopify:{SHOP}:5910000001013"
    rig.send("orders/create", payload("shopify", ORDER_1))
    rig.wait_status(first, "Posted")
    org_b = rig.control.http.post("/_sandbox/organizations", json={"name": "Shop B SAS"})
    assert org_b.status_code == 201, org_b.text
    org_b_id = org_b.json()["id"]

    # the README's command, run while the environment's shop is live
    added = bridge(
        env, "connections", "add", "shop-b", "--shop", SHOP_B,
        "--sage-organization", org_b_id, "--webhook-secret", SECRET_B,
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    # the environment's shop still books, into its own organisation ...
    third = f"shopify:{SHOP}:5910000003039"
    rig.send("orders/create", payload("shopify", ORDER_3))
    rig.wait_status(third, "Posted")
    # ... and shop B into its own (the web app sees a new connection within 2 s; at once here)
    rig.client.application.extensions[HUB_KEY].refresh()
    b = ServicesHub(rig.services).services("shop-b")
    assert b is not None
    ref = deliver(rig, SHOP_B, SECRET_B, "orders/create", payload("shopify", ORDER_2))
    decided = decided_in(rig, b, ref)
    assert decided.status.value == "processed", decided.error
    link = b.links.order(f"shopify:{SHOP_B}:5910000002026")
    assert link is not None
    assert link.invoice_id
    assert f"shopify:{SHOP_B}:5910000002026" not in sage_references(rig)

    # `bridge doctor --connection shop-b` checks shop B's organisation, not the environment's
    doctor = bridge(env, "doctor", "--connection", "shop-b", "--no-store")
    assert "Connection shop-b:" in doctor.output
    assert f"[ok  ] Organisation: Shop B SAS (FR), id {org_b_id}" in doctor.output
    unknown = bridge(env, "doctor", "--connection", "nobody")
    assert unknown.exit_code == 1
    assert "no connection named 'nobody'" in unknown.output


# --- registering the webhooks ----------------------------------------------------------------


def test_connections_add_registers_the_shopify_webhooks(
    setup_rig: Rig, fake_shopify_graphql: tuple[FakeShopifyGraphQL, str]
) -> None:
    rig = setup_rig
    fake, url = fake_shopify_graphql
    env = {**rig.worker_env, "SHOPIFY_API_URL": url}
    org = rig.services.sage.organizations()[0].id

    added = bridge(
        env, "connections", "add", "shop-c", "--shop", "shop-c.myshopify.com",
        "--sage-organization", org, "--webhook-secret", "shop-c-app-client-secret",
        "--shopify-access-token", ACCESS_TOKEN, "--register-webhooks", "--bridge-url", PUBLIC,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "7 webhook subscription(s) created" in added.output
    assert sorted(s["topic"] for s in fake.subscriptions) == [
        "ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_EDITED", "ORDERS_PAID", "ORDERS_UPDATED",
        "ORDER_TRANSACTIONS_CREATE", "REFUNDS_CREATE",
    ]  # fmt: skip
    assert {s["uri"] for s in fake.subscriptions} == {f"{PUBLIC}/webhooks/shopify"}
    assert {s["format"] for s in fake.subscriptions} == {"JSON"}
    shown = json.loads(added.stdout[added.stdout.index("{") :])
    assert shown["secrets"]["shopify_access_token"]["set"] is True

    # a refused token stores nothing
    refused = bridge(
        env, "connections", "add", "shop-d", "--shop", "shop-d.myshopify.com",
        "--sage-organization", org, "--webhook-secret", "shop-d-app-client-secret",
        "--shopify-access-token", "shpat_wrong", "--register-webhooks", "--bridge-url", PUBLIC,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "nothing was stored" in refused.output
    assert bridge(env, "connections", "show", "shop-d").exit_code == 1


def test_connections_add_registers_a_stripe_endpoint_and_books_what_it_signs(
    setup_rig: Rig, fake_stripe_endpoints: tuple[FakeStripeEndpoints, str]
) -> None:
    rig = setup_rig
    fake, url = fake_stripe_endpoints
    env = {**rig.worker_env, "STRIPE_API_URL": url}
    org = rig.control.http.post("/_sandbox/organizations", json={"name": "Stripe D SAS"})
    assert org.status_code == 201, org.text

    added = bridge(
        env, "connections", "add", "stripe-d", "--stripe", "--sage-organization",
        org.json()["id"], "--stripe-api-key", API_KEY, "--register-webhooks",
        "--bridge-url", PUBLIC,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    [call] = fake.calls
    assert call["url"] == f"{PUBLIC}/webhooks/stripe/stripe-d"
    assert call["enabled_events"] == sorted(STRIPE_TOPICS)
    assert call["api_version"] == WEBHOOK_API_VERSION
    secret = fake.endpoints[0]["secret"]

    # what Stripe signs with the returned secret is accepted and booked in D's organisation
    rig.worker()
    rig.client.application.extensions[HUB_KEY].refresh()  # the new connection, at once
    raw = json.dumps(payload("stripe", STRIPE_INVOICE)).encode()
    answer = rig.client.post(
        "/webhooks/stripe/stripe-d", data=raw, headers=stripe_headers(raw, secret)
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    d = ServicesHub(rig.services).services("stripe-d")
    assert d is not None
    record = decided_in(rig, d, answer.get_json()["id"])
    assert record.status.value == "processed", record.error

    # a refused key stores nothing
    refused = bridge(
        env, "connections", "add", "stripe-e", "--stripe", "--sage-organization",
        org.json()["id"], "--stripe-api-key", "sk_test_wrong", "--register-webhooks",
        "--bridge-url", PUBLIC,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "Invalid API Key provided" in refused.output
    assert bridge(env, "connections", "show", "stripe-e").exit_code == 1


# --- no silent fallback ---------------------------------------------------------------------


def test_a_missing_tip_product_is_reported_and_the_tip_order_held(setup_rig: Rig) -> None:
    rig = setup_rig
    env = {**rig.worker_env, "BRIDGE_TIP_PRODUCT": "TIP-NOPE"}
    rig.start_worker(pool="threads", concurrency=2, **env)
    store = DoctorStore(rig.services.redis, rig.services.settings)

    def held() -> str:
        report = store.load()
        return report.hold_message() if report else ""

    message = rig.wait_for(held, 60, "the worker's doctor run to hold processing")
    assert "BRIDGE_TIP_PRODUCT names 'TIP-NOPE'" in message
    doctor = bridge(env, "doctor")
    assert doctor.exit_code == 1
    assert "[FAIL] Line products: BRIDGE_TIP_PRODUCT names 'TIP-NOPE'" in doctor.output
    assert "Processing is held" in doctor.output

    reference = f"shopify:{SHOP}:5910000041052"
    ref = rig.send("orders/create", payload("shopify", ORDER_TIP))
    record = rig.services.events.get(ref)
    assert record is not None
    assert record.status.value == "queued"
    assert record.attempts == []

    # Someone lifts the hold with a doctor run made elsewhere (another mapping): the
    # worker, still configured with TIP-NOPE, books nothing on a stand-in.
    assert bridge(rig.worker_env, "doctor").output.count("[FAIL] Line products") == 0
    assert held() == ""
    failed = outcome(rig, ref)
    assert failed.status.value == "failed"
    assert "BRIDGE_TIP_PRODUCT names 'TIP-NOPE', which Sage does not have" in (failed.error or "")
    link = rig.services.links.order(reference)
    assert link is None or link.invoice_id is None
    assert reference not in sage_references(rig)
