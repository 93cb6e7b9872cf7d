"""The web app on the real test Redis, with webhook secrets and an admin token."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.models import Order
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.links import OrderLink, PaymentLink, RefundLink
from bridge.translate import TranslationContext, translate
from bridge.web import create_app
from tests.support.pipeline import payload
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET

ADMIN_TOKEN = "admin-test-token"


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(
        REDIS_URL=redis_url,
        SHOPIFY_WEBHOOK_SECRET=f"old-shopify-secret,{SHOPIFY_SECRET}",
        STRIPE_WEBHOOK_SECRET=f"whsec_old,{STRIPE_SECRET}",
        BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


SHOP = "shop.myshopify.com"
REF = f"shopify:{SHOP}:5910000001013"


def booked_order(services: Services) -> None:
    """Order REF as booked: invoiced, collected, refunded, its mug on a fallback product."""
    context = TranslationContext(shop_domain=SHOP, tolerance=Decimal("0.05"))
    body = payload("shopify", "orders-create-001-ttc-single-mug")
    order = translate("shopify", "orders/create", body, context)
    assert isinstance(order, Order)
    link = OrderLink(reference=REF, order=order, invoice_id="inv-1", number="FA-1")
    link.status, link.paid, link.fallback_lines = "Collected", Decimal("19.80"), [0]
    link.payments, link.refunds = ["7001"], ["re_9"]
    services.links.save_order(link)
    payment = PaymentLink(provider="shopify", payment_id="7001", order_reference=REF,
                          amount=Decimal("19.80"), entry_id="entry-1")  # fmt: skip
    services.links.save_payment(payment)
    # A Shopify order refunded through Stripe: found under the other provider.
    refund = RefundLink(provider="stripe", refund_id="re_9", order_reference=REF,
                        credit_note_id="cn-1")  # fmt: skip
    services.links.save_refund(refund)
