"""Shopify Markets in the sync steps, against the sandbox over HTTP and the real Redis."""

from __future__ import annotations

from decimal import Decimal

from tests.support.pipeline import SHOP, Pipeline, payload

MARKETS = f"shopify:{SHOP}:5910000040045"  # 162.04 EUR, shown as 142.32 GBP
ORDER = "orders-create-040-markets-gbp-v2026-01"


def _gbp_payment(tx_id: int, amount: str) -> dict[str, object]:
    body = payload("shopify", "order-transactions-create-009-markets-gbp-capture-v2026-01")
    body.update(id=tx_id, amount=amount)
    return body


def test_a_gbp_payment_replayed_is_settled_once_at_its_eur_share(pipeline: Pipeline) -> None:
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    body = _gbp_payment(7210000040990, "142.32")

    first = pipeline.deliver("shopify", "order_transactions/create", body)
    again = pipeline.deliver("shopify", "order_transactions/create", body)

    assert (first.status, again.status) == ("processed", "processed")
    assert pipeline.invoice(MARKETS).status == "Collected"
    assert len(pipeline.services.sage.accounting_entries_by_document_number("7210000040990")) == 1
    link = pipeline.services.links.order(MARKETS)
    assert link is not None
    assert (link.paid, link.presentment_paid) == (Decimal("162.04"), Decimal("142.32"))
    plink = pipeline.services.links.payment("shopify", "7210000040990")
    assert plink is not None
    assert (plink.amount, plink.presentment_amount) == (Decimal("162.04"), Decimal("142.32"))


def test_an_order_booked_without_its_presentment_learns_it_from_an_update(
    pipeline: Pipeline,
) -> None:
    # given an order whose snapshot was recorded before the bridge kept presentment money
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    link = pipeline.services.links.order(MARKETS)
    assert link is not None
    assert link.order is not None
    link.order = link.order.model_copy(update={"presentment": None})
    pipeline.services.links.save_order(link)
    refused = pipeline.deliver(
        "shopify", "order_transactions/create", _gbp_payment(7210000040991, "142.32")
    )
    assert refused.status == "failed"
    assert "is in GBP, the invoice in EUR" in (refused.detail or "")

    # when Shopify sends the order again (it does after every payment and refund)
    pipeline.deliver("shopify", "orders/updated", payload("shopify", ORDER))

    # then the GBP payment is booked in EUR
    paid = pipeline.deliver(
        "shopify", "order_transactions/create", _gbp_payment(7210000040992, "142.32")
    )
    assert paid.status == "processed", paid.detail
    assert pipeline.invoice(MARKETS).status == "Collected"


def test_shop_money_given_then_gbp_only_still_collects_the_eur_total(pipeline: Pipeline) -> None:
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    first = _gbp_payment(7210000040993, "100.00")
    first["amount_set"] = {
        "shop_money": {"amount": "113.90", "currency_code": "EUR"},
        "presentment_money": {"amount": "100.00", "currency_code": "GBP"},
    }

    pipeline.deliver("shopify", "order_transactions/create", first)
    last = pipeline.deliver(
        "shopify", "order_transactions/create", _gbp_payment(7210000040994, "42.32")
    )

    assert last.status == "processed", last.detail
    assert pipeline.invoice(MARKETS).status == "Collected"
    plink = pipeline.services.links.payment("shopify", "7210000040994")
    assert plink is not None
    assert plink.amount == Decimal("48.14")  # 162.04 - 113.90
