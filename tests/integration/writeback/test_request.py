"""Which Collected invoices the poller hands to write-back (real Redis; no Shopify call)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bridge.models import Order
from bridge.poller.writeback import TOPIC, WriteBackStore, request_mark_paid
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.links import OrderLink
from bridge.translate import TranslationContext, translate
from connectors.sage_active.models import SalesInvoice
from tests.support.pipeline import payload

pytestmark = pytest.mark.integration

SHOP = "demo.myshopify.com"
REFERENCE = f"shopify:{SHOP}:5910000001013"


@pytest.fixture
def services(redis_url: str) -> Iterator[Services]:
    settings = Settings(
        REDIS_URL=redis_url, BRIDGE_SHOPIFY_WRITE_BACK=True, SHOPIFY_SHOP_DOMAIN=SHOP
    )
    built = build_services(settings)
    order = translate(
        "shopify",
        "orders/create",
        payload("shopify", "orders-create-001-ttc-single-mug"),
        TranslationContext(shop_domain=SHOP, tolerance=Decimal("0.05")),
    )
    assert isinstance(order, Order)
    built.links.save_order(
        OrderLink(reference=REFERENCE, order=order, invoice_id="inv-1", status="Posted")
    )
    yield built
    built.close()


def invoice(status: str = "Collected", reference: str = REFERENCE, kind: str | None = None
            ) -> SalesInvoice:  # fmt: skip
    return SalesInvoice(id="inv-1", status=status, sales_order_number=reference, type=kind,
                        total_liquid=Decimal("19.80"))  # fmt: skip


def test_a_collection_the_bridge_did_not_book_is_recorded_once(services: Services) -> None:
    assert request_mark_paid(services, invoice()) is True
    record = services.events.get("shopify:writeback.paid.5910000001013")
    assert record is not None
    assert (record.topic, record.status.value) == (TOPIC, "queued")
    assert request_mark_paid(services, invoice()) is False  # seen again: nothing new


@pytest.mark.parametrize(
    "seen",
    [
        invoice(status="PartiallyCollected"),
        invoice(reference="shopify:other-shop.myshopify.com:5910000001013"),
        invoice(reference="stripe:default:pi_1"),
        invoice(reference=REFERENCE + ":refund:9", kind="CREDIT_NOTE"),
        invoice(reference="shopify:demo.myshopify.com:404"),  # not an order of the bridge
    ],
)
def test_other_invoices_are_left_alone(services: Services, seen: SalesInvoice) -> None:
    assert request_mark_paid(services, seen) is False
    assert services.redis.llen(services.events.outbox_key) == 0


def test_an_order_the_bridge_settled_itself_is_left_alone(services: Services) -> None:
    link = services.links.order(REFERENCE)
    assert link is not None
    link.paid = Decimal("19.80")
    services.links.save_order(link)
    assert request_mark_paid(services, invoice()) is False


def test_nothing_happens_with_write_back_off(redis_url: str, services: Services) -> None:
    off = build_services(Settings(REDIS_URL=redis_url, SHOPIFY_SHOP_DOMAIN=SHOP))
    assert request_mark_paid(off, invoice()) is False
    assert WriteBackStore(off.redis, off.settings).get(REFERENCE) is None
    off.close()
