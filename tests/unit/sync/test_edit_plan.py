"""What an order edit after the invoice adds to the order's documents (pure planning)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from bridge.models import Order, OrderEdit
from bridge.sync.edit_plan import EditNotPlanned, plan_edit
from bridge.translate import TranslationContext, translate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
SHOP = "boutique-demo.myshopify.com"
REF = f"shopify:{SHOP}:5910000001043"


def _translated(name: str, topic: str) -> Any:
    body = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return translate("shopify", topic, body, TranslationContext(shop_domain=SHOP))


def _order(name: str) -> Order:
    order = _translated(name, "orders/updated")
    assert isinstance(order, Order)
    return order


def _edit(name: str) -> OrderEdit:
    edit = _translated(name, "orders/edited")
    assert isinstance(edit, OrderEdit)
    return edit


BEFORE = _order("orders-create-043-ttc-before-edit-v2026-10")
AFTER = _order("orders-updated-043-ttc-after-edit-v2026-10")
ADD = _edit("orders-edited-043-add-mug-v2026-10")
REMOVE = _edit("orders-edited-044-remove-one-v2026-10")
BEFORE_REMOVAL = _order("orders-create-044-ttc-before-removal-v2026-10")
AFTER_REMOVAL = _order("orders-updated-044-ttc-after-removal-v2026-10")
REF_44 = f"shopify:{SHOP}:5910000001044"


def test_an_added_line_is_a_supplementary_invoice_priced_from_the_update() -> None:
    plan = plan_edit(BEFORE, AFTER, ADD, REF)

    assert plan.credit is None
    assert plan.invoice is not None
    assert plan.invoice.reference == f"{REF}:edit:1043000000001"
    assert [(x.sku, x.quantity, x.gross) for x in plan.invoice.lines] == [
        ("MUG-001", D(1), D("20.00"))
    ]
    assert (plan.invoice.total, plan.invoice.vat_total, plan.change) == (
        D("20.00"),
        D("3.33"),
        D("20.00"),
    )
    assert BEFORE.total + plan.change == AFTER.total


def test_the_edit_waits_for_an_update_that_shows_its_line() -> None:
    with pytest.raises(EditNotPlanned) as waiting:
        plan_edit(BEFORE, BEFORE, ADD, REF)

    assert waiting.value.waiting
    assert "waiting for orders/updated" in waiting.value.reason


def test_a_removed_quantity_is_a_credit_of_it_at_the_invoiced_price() -> None:
    # two T-shirts at 24.00 TTC (20.00 + 4.00), one removed: the order is now 24.00
    plan = plan_edit(BEFORE_REMOVAL, AFTER_REMOVAL, REMOVE, REF_44)

    assert plan.invoice is None
    assert plan.credit is not None
    assert plan.credit.provider_id == "edit:1044000000001"
    assert plan.credit.order_reference == REF_44
    assert [(x.provider_line_id, x.quantity, x.amount) for x in plan.credit.lines] == [
        ("14010000044001", D(1), D("24.00"))
    ]
    assert BEFORE_REMOVAL.total + plan.change == AFTER_REMOVAL.total == D("24.00")


def test_a_removal_sage_cannot_price_to_the_cent_does_not_add_up() -> None:
    # the 1043 invoice has 2 x 20.835 (41.67 + 8.33 = 50.00): one of them, in Sage's
    # cents, is 20.84 + 4.17 = 25.01, not Shopify's 25.00; the chain check (`apply_edits`)
    # then refuses to post it, as 50.00 - 25.01 is not the order's new total of 25.00
    removed = REMOVE.removed[0].model_copy(update={"provider_line_id": "14010000043001"})
    edit = REMOVE.model_copy(update={"removed": [removed]})

    plan = plan_edit(BEFORE, BEFORE, edit, REF)

    assert plan.change == D("-25.01")
    assert BEFORE.total + plan.change != D("25.00")


def test_removing_more_than_was_invoiced_is_refused_for_good() -> None:
    edit = REMOVE.model_copy(
        update={"removed": [REMOVE.removed[0].model_copy(update={"quantity": D(3)})]}
    )

    with pytest.raises(EditNotPlanned) as refused:
        plan_edit(BEFORE_REMOVAL, AFTER_REMOVAL, edit, REF_44)

    assert not refused.value.waiting
    assert "credit it by hand" in refused.value.reason


def test_an_edit_removal_is_not_counted_again_when_the_update_lists_it() -> None:
    # the order after the edit keeps quantity 2 with current_quantity 1: it sells one
    assert [line.quantity for line in AFTER_REMOVAL.lines] == [D(1)]
