"""Many connections in one deployment: three Shopify shops and one Stripe account, each booked
into its own Sage organisation in the sandbox (over HTTP), served by one web app (the test
client), one real Celery worker and one real beat. The third shop ("delta") names a walk-in
customer its organisation lacks: `bridge doctor` holds it, and it alone."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from bridge.connections.hub import ServicesHub
from bridge.ops.doctor import DoctorStore
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.web import create_app
from connectors.sage_active.models import CustomerInput
from tasks.app import make_celery
from tests.support.celery import WorkerHandle
from tests.support.pipeline import payload, sandbox_settings
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET, shopify_headers, stripe_headers

pytestmark = pytest.mark.e2e

TOKEN = "e2e-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHOP_A, SHOP_B = "alpha-shop.myshopify.com", "beta-shop.myshopify.com"
SHOP_D = "delta-shop.myshopify.com"
SECRETS = {"alpha": "alpha-webhook-secret", "beta": "beta-webhook-secret"}
SECRETS["delta"] = "delta-webhook-secret"
DELTA_WALKIN = "WDELTA"  # not a customer in delta's organisation: its mapping is wrong
STRIPE_C = "whsec_gamma_webhook_secret"
ORDER_1 = "orders-create-001-ttc-single-mug"  # order 5910000001013, 19.80
ORDER_3 = "orders-create-003-ttc-mixed-rates"  # order 5910000003039, 64.80
TX_1 = "order-transactions-create-001-sale-shopify-payments"  # order 5910000001013's payment
TX_TOPIC = "order_transactions/create"
STRIPE_INVOICE = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"  # 120.00


@dataclass
class Deployment:
    client: FlaskClient
    services: Services
    hub: ServicesHub
    sandbox: Flask
    orgs: dict[str, str]  # connection -> Sage organisation id

    def shopify(
        self,
        name: str,
        shop: str,
        body: dict[str, Any],
        secret: str,
        topic: str = "orders/create",
    ) -> Any:
        raw = json.dumps(body).encode()
        delivery = str(uuid.uuid4())
        headers = shopify_headers(raw, topic, webhook_id=delivery, secret=secret, shop=shop)
        return self.client.post("/webhooks/shopify", data=raw, headers=headers)

    def order_numbers(self, name: str) -> set[str]:
        """The `salesOrderNumber` of every invoice in connection `name`'s organisation."""
        state = self.sandbox.extensions["sandbox"].state
        with state.lock:
            books = state.books[UUID(self.orgs[name])]
            return {i.sales_order_number for i in books.invoices.values() if i.sales_order_number}

    def hub_settings(self, name: str) -> Settings:
        services = self.hub.services(name)
        assert services is not None
        return services.settings

    def event_status(self, name: str, ref: str) -> str | None:
        services = self.hub.services(name)
        assert services is not None
        record = services.events.get(ref)
        return record.status.value if record else None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def deployment(
    redis_url: str,
    sandbox_url: str,
    sandbox_app: Flask,
    start_worker: Callable[..., WorkerHandle],
    start_beat: Callable[..., None],
) -> Iterator[Deployment]:
    env = {
        "BRIDGE_CONNECTION": "default",
        "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "BRIDGE_ADMIN_TOKEN": TOKEN,
        "BRIDGE_SECRET_KEY": Fernet.generate_key().decode(),
    }
    settings = sandbox_settings(redis_url, sandbox_url, **env)
    services = build_services(settings)
    app = create_app(settings, services)
    orgs: dict[str, str] = {}
    with httpx.Client(base_url=sandbox_url) as control:
        for name in ("alpha", "beta", "gamma", "delta"):
            made = control.post("/_sandbox/organizations", json={"name": f"{name} SAS"})
            assert made.status_code == 201, made.text
            orgs[name] = made.json()["id"]
    try:
        with app.test_client() as client:
            for name, shop in (("alpha", SHOP_A), ("beta", SHOP_B)):
                body = {
                    "name": name,
                    "source": "shopify",
                    "shop_domain": shop,
                    "sage_organization_id": orgs[name],
                    "secrets": {"webhook_secrets": [SECRETS[name]]},
                }
                assert client.post("/admin/connections", json=body, headers=AUTH).status_code == 201
            stripe = {
                "name": "gamma",
                "source": "stripe",
                "sage_organization_id": orgs["gamma"],
                "secrets": {"webhook_secrets": [STRIPE_C]},
            }
            assert client.post("/admin/connections", json=stripe, headers=AUTH).status_code == 201
            delta = {
                "name": "delta",
                "source": "shopify",
                "shop_domain": SHOP_D,
                "sage_organization_id": orgs["delta"],
                "secrets": {"webhook_secrets": [SECRETS["delta"]]},
                "mapping": {"walkin_customer_code": DELTA_WALKIN},
            }
            assert client.post("/admin/connections", json=delta, headers=AUTH).status_code == 201
            worker_env = {
                "SAGE_API_URL": f"{sandbox_url}/graphql",
                "SAGE_AUTH_URL": sandbox_url,
                "SAGE_TIMEOUT": "5",
                **env,
            }
            start_worker(pool="threads", concurrency=4, **worker_env)
            start_beat(**worker_env)
            hub = ServicesHub(services, ttl=0.0)
            yield Deployment(client, services, hub, sandbox_app, orgs)
    finally:
        services.close()


def test_each_order_lands_in_its_own_organisation_and_nowhere_else(
    deployment: Deployment,
) -> None:
    d = deployment
    assert (
        d.shopify("alpha", SHOP_A, payload("shopify", ORDER_1), SECRETS["alpha"]).status_code == 202
    )
    assert (
        d.shopify("beta", SHOP_B, payload("shopify", ORDER_3), SECRETS["beta"]).status_code == 202
    )
    raw = json.dumps(payload("stripe", STRIPE_INVOICE)).encode()
    answer = d.client.post(
        "/webhooks/stripe/gamma", data=raw, headers=stripe_headers(raw, STRIPE_C)
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)

    a = f"shopify:{SHOP_A}:5910000001013"
    b = f"shopify:{SHOP_B}:5910000003039"
    wait_for(lambda: d.order_numbers("alpha") == {a}, "shop A's invoice in organisation A")
    wait_for(lambda: d.order_numbers("beta") == {b}, "shop B's invoice in organisation B")
    wait_for(lambda: len(d.order_numbers("gamma")) == 1, "the Stripe invoice in organisation C")
    [stripe_reference] = d.order_numbers("gamma")
    assert "in_1TDemoEndive0101" in stripe_reference

    # nowhere else: the environment's organisation and the others hold none of them
    seeded = d.sandbox.extensions["sandbox"].state.default_books()
    assert not {i.sales_order_number for i in seeded.invoices.values()} & {a, b, stripe_reference}
    assert d.order_numbers("alpha") == {a}
    assert d.order_numbers("beta") == {b}
    # and each connection's ledger and links are its own
    beta = d.hub.services("beta")
    assert beta is not None
    assert beta.links.order(b) is not None
    assert beta.links.order(a) is None


def test_a_webhook_signed_by_shop_a_claiming_shop_b_is_refused(deployment: Deployment) -> None:
    d = deployment
    before = set(d.services.redis.keys("bridge:beta:*"))
    forged = d.shopify("beta", SHOP_B, payload("shopify", ORDER_1), SECRETS["alpha"])
    assert forged.status_code == 401
    # the environment's own shop delivered once, so its connection serves that shop only
    home = d.shopify(
        "default", "home-shop.myshopify.com", payload("shopify", ORDER_1), SHOPIFY_SECRET
    )
    assert home.status_code == 202
    unknown = d.shopify(
        "x", "stranger.myshopify.com", payload("shopify", ORDER_1), SECRETS["alpha"]
    )
    assert unknown.status_code == 404
    assert set(d.services.redis.keys("bridge:beta:*")) == before


def test_a_disabled_connection_holds_its_events_and_enabling_processes_them(
    deployment: Deployment,
) -> None:
    d = deployment
    paused = d.client.patch("/admin/connections/beta", json={"enabled": False}, headers=AUTH)
    assert paused.status_code == 200
    assert paused.get_json()["enabled"] is False

    held = d.shopify("beta", SHOP_B, payload("shopify", ORDER_3), SECRETS["beta"])
    assert held.status_code == 202  # accepted and kept: a paused connection loses nothing
    held_ref = held.get_json()["id"]
    # A later order of another connection goes through: the worker is busy enough to have
    # taken B's event by now if it were going to.
    d.shopify("alpha", SHOP_A, payload("shopify", ORDER_1), SECRETS["alpha"])
    wait_for(lambda: d.order_numbers("alpha"), "shop A's order booked while B is paused")
    time.sleep(3)  # a few relay rounds and a beat tick (not a timing assertion: B must wait)
    assert d.event_status("beta", held_ref) == "queued"
    assert d.order_numbers("beta") == set()

    resumed = d.client.patch("/admin/connections/beta", json={"enabled": True}, headers=AUTH)
    assert resumed.status_code == 200

    b = f"shopify:{SHOP_B}:5910000003039"
    wait_for(lambda: d.order_numbers("beta") == {b}, "B's held order booked after enabling")
    wait_for(lambda: d.event_status("beta", held_ref) == "processed", "B's event processed")


def test_a_connection_payment_before_its_order_is_parked_then_settles(
    deployment: Deployment,
) -> None:
    """A payment parked in its connection (waiting for its order) settles once it is booked."""
    d = deployment
    tx = d.shopify(
        "alpha",
        SHOP_A,
        payload("shopify", "order-transactions-create-001-sale-shopify-payments"),
        SECRETS["alpha"],
        topic="order_transactions/create",
    )
    assert tx.status_code == 202
    ref = tx.get_json()["id"]
    wait_for(lambda: d.event_status("alpha", ref) == "parked", "the payment parked")

    d.shopify("alpha", SHOP_A, payload("shopify", ORDER_1), SECRETS["alpha"])

    wait_for(lambda: d.event_status("alpha", ref) == "processed", "the parked payment processed")
    alpha = d.hub.services("alpha")
    assert alpha is not None
    link = alpha.links.order(f"shopify:{SHOP_A}:5910000001013")
    assert link is not None
    assert link.status == "Collected"


def test_bridge_doctor_holds_only_the_connection_whose_mapping_is_wrong(
    deployment: Deployment,
) -> None:
    """Delta's walk-in customer is missing in its Sage: the worker's check at start holds
    delta's events (queued, no attempt spent) while alpha's are booked; once the customer
    is created and the doctor runs again, delta's wait is over."""
    d = deployment
    hold = {
        name: DoctorStore(d.services.redis, d.hub_settings(name)) for name in ("alpha", "delta")
    }

    def held(name: str) -> str:
        report = hold[name].load()
        return report.hold_message() if report else ""

    message = wait_for(lambda: held("delta"), "the worker's check at start to hold delta")
    assert f"BRIDGE_WALKIN_CUSTOMER '{DELTA_WALKIN}'" in message
    # alpha was checked at start too (side by side with delta), and holds nothing
    wait_for(lambda: hold["alpha"].load(), "the worker's check of alpha at start")
    assert held("alpha") == ""

    refs = []
    for name, shop in (("delta", SHOP_D), ("alpha", SHOP_A)):
        order = d.shopify(name, shop, payload("shopify", ORDER_1), SECRETS[name])
        tx = d.shopify(name, shop, payload("shopify", TX_1), SECRETS[name], topic=TX_TOPIC)
        assert order.status_code == tx.status_code == 202
        if name == "delta":
            refs = [order.get_json()["id"], tx.get_json()["id"]]
    a = f"shopify:{SHOP_A}:5910000001013"
    alpha = d.hub.services("alpha")
    assert alpha is not None
    wait_for(lambda: _status(alpha, a) == "Collected", "alpha's order Collected, delta held")
    time.sleep(3)  # a few relay rounds and a beat tick (not a timing assertion: delta waits)
    delta = d.hub.services("delta")
    assert delta is not None
    for ref in refs:
        record = delta.events.get(ref)
        assert record is not None
        assert record.status.value == "queued", (ref, record.status, record.error)
        assert record.attempts == []
    assert d.order_numbers("delta") == set()

    delta.sage.create_customer(CustomerInput(code=DELTA_WALKIN, social_name="Comptoir delta"))
    make_celery(d.services.settings).send_task("tasks.doctor.check")  # beat's next run, now
    wait_for(lambda: held("delta") == "", "the hold of delta lifted")

    b = f"shopify:{SHOP_D}:5910000001013"
    wait_for(lambda: _status(delta, b) == "Collected", "delta's held order Collected after the fix")

    def processed() -> bool:
        return all(d.event_status("delta", ref) == "processed" for ref in refs)

    wait_for(processed, "delta's events processed")
    assert d.order_numbers("delta") == {b}


def _status(services: Services, reference: str) -> str | None:
    link = services.links.order(reference)
    return link.status if link else None
