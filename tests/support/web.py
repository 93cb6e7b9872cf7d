"""The web tests' admin token and one booked order (`booked_order`)."""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Order
from bridge.services import Services
from bridge.store.links import OrderLink, PaymentLink, RefundLink
from bridge.translate import TranslationContext, translate
from tests.support.pipeline import payload

ADMIN_TOKEN = "admin-test-token"

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
