"""Shopify Markets and cross-border orders from signed webhooks to Sage, through a real
worker: GBP payments and refunds booked in EUR, duties / tip / gift card / discounted
shipping invoiced to the cent. Each webhook carries the API version its payload was
recorded in."""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal
from typing import Any

from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig
from tests.support.webhooks import shopify_headers

MARKETS = f"shopify:{SHOP}:5910000040045"  # 162.04 EUR, shown as 142.32 GBP
CROSS_BORDER = f"shopify:{SHOP}:5910000041052"  # 101.00 EUR
ORDER = "orders-create-040-markets-gbp-v2026-01"
FIRST = "order-transactions-create-009-markets-gbp-capture-v2026-01"  # 100.00 GBP
SECOND = "order-transactions-create-010-markets-gbp-exchange-adjustment-v2026-10"  # 42.32 GBP
REFUND = "refunds-create-007-markets-gbp-converted-v2026-10"  # one bottle, 19.50 GBP


def send(rig: Rig, topic: str, name: str, body: dict[str, Any] | None = None) -> str:
    """POST a recorded payload signed as Shopify does, in the API version of its name."""
    raw = json.dumps(body if body is not None else payload("shopify", name)).encode()
    delivery = str(uuid.uuid4())
    headers = shopify_headers(raw, topic=topic, webhook_id=delivery, shop=SHOP)
    headers["X-Shopify-API-Version"] = name.rsplit("-v", 1)[1]
    response = rig.client.post("/webhooks/shopify", data=raw, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return f"shopify:{delivery}"


def posted_notes(rig: Rig, invoice_id: str) -> list[Any] | None:
    from bridge.sync.sage_documents import credit_notes_of

    notes = [n for n in credit_notes_of(rig.services.sage, invoice_id) if n.status == "Posted"]
    return notes or None


def test_markets_order_paid_in_two_gbp_captures_and_refunded_in_gbp(rig: Rig) -> None:
    rig.worker()
    send(rig, "orders/create", ORDER)
    invoice = rig.wait_status(MARKETS, "Posted")
    assert invoice.total_liquid == Decimal("162.04")

    # given two captures reported in GBP only (no shop money), 100.00 + 42.32 = 142.32
    send(rig, "order_transactions/create", FIRST)
    partial = rig.wait_status(MARKETS, "PartiallyCollected")
    assert sum(i.outstanding for i in partial.open_items) == Decimal("48.18")  # 162.04 - 113.86
    second = copy.deepcopy(payload("shopify", SECOND))
    second.pop("currency_exchange_adjustment")
    send(rig, "order_transactions/create", SECOND, second)

    # then the invoice is collected at its EUR total, to the cent
    collected = rig.wait_status(MARKETS, "Collected")
    assert sum(i.outstanding for i in collected.open_items) == 0
    link = rig.services.links.order(MARKETS)
    assert link is not None
    assert (link.paid, link.presentment_paid) == (Decimal("162.04"), Decimal("142.32"))
    for tx_id in ("7210000040902", "7210000040903"):
        assert len(rig.services.sage.accounting_entries_by_document_number(tx_id)) == 1

    # when one bottle is refunded in GBP (19.50 GBP, 22.20 EUR in Shopify's shop money)
    send(rig, "refunds/create", REFUND)
    [note] = rig.wait_for(lambda: posted_notes(rig, invoice.id), what="a posted credit note")
    assert note.total_liquid == Decimal("-22.20")
    assert [(ln.product_code, ln.total_quantity) for ln in note.lines] == [
        ("WINE-001", Decimal("-1"))
    ]


def test_a_payment_in_a_third_currency_fails_naming_it(rig: Rig) -> None:
    rig.worker()
    send(rig, "orders/create", ORDER)
    rig.wait_status(MARKETS, "Posted")
    body = copy.deepcopy(payload("shopify", FIRST))
    body["currency"] = "USD"

    ref = send(rig, "order_transactions/create", FIRST, body)

    rig.wait_for(lambda: rig.event_status(ref) == "failed", what="the USD payment failed")
    record = rig.services.events.get(ref)
    assert record is not None
    assert "is in USD, the invoice in EUR (the order was presented in GBP)" in (record.error or "")
    assert rig.wait_status(MARKETS, "Posted").total_liquid == Decimal("162.04")


def test_order_with_duties_tip_gift_card_and_discounted_shipping_is_posted_to_the_cent(
    rig: Rig,
) -> None:
    """...and its return, duties included, is credited to the cent."""
    rig.worker()
    send(rig, "orders/create", "orders-create-041-duties-tip-gift-card-fee-v2026-10")

    invoice = rig.wait_status(CROSS_BORDER, "Posted")

    assert invoice.total_liquid == Decimal("101.00")
    booked = sorted((ln.product_code or "", ln.total_quantity) for ln in invoice.lines)
    assert booked == [
        ("DUTIES", Decimal("1")),
        ("FEES", Decimal("1")),
        ("GEN-0", Decimal("1")),  # the shipping line, at the export's 0 %
        ("GEN-0", Decimal("2")),  # the T-shirts, exported at 0 %
        ("GIFT-CARD", Decimal("1")),
        ("TIP", Decimal("1")),
    ]

    # when the T-shirts come back and their duties are refunded with them
    send(rig, "refunds/create", "refunds-create-009-returned-with-duties-v2026-10")

    [note] = rig.wait_for(lambda: posted_notes(rig, invoice.id), what="a posted credit note")
    assert note.total_liquid == Decimal("-54.50")
    assert sorted((ln.product_code or "", ln.total_quantity) for ln in note.lines) == [
        ("DUTIES", Decimal("-1")),
        ("GEN-0", Decimal("-2")),
    ]
