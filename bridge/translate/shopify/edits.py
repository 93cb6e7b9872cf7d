"""Shopify `orders/edited` -> a neutral OrderEdit (pure).

The webhook carries only the edit (`{"order_edit": ...}`): its id, the order's id, the
lines added and removed (`line_items.additions` / `.removals`, each a line id and the
`delta` of its quantity) and the shipping lines added and removed. No amounts: Shopify
follows the edit with an `orders/updated` carrying the whole order, which prices the
added lines (`bridge.sync.order_edits`).
"""

from __future__ import annotations

from bridge.models import EditedLine, OrderEdit, TranslationError
from bridge.translate.shopify.parts import order_reference
from connectors.shopify import payloads as sp


def _shipping_ids(refs: list[dict[str, object]]) -> list[str]:
    return [str(ref["id"]) for ref in refs if ref.get("id") is not None]


def edit_from_shopify(payload: sp.OrderEdited, *, shop_domain: str) -> OrderEdit:
    """The OrderEdit of an `orders/edited` body (dated when it was committed, else made).

    Raises:
        TranslationError: the edit carries neither `committed_at` nor `created_at`.
    """
    edit = payload.order_edit
    when = edit.committed_at or edit.created_at
    if when is None:
        raise TranslationError(f"shopify order edit {edit.id}: no committed_at or created_at")
    return OrderEdit(
        provider="shopify",
        provider_id=str(edit.id),
        order_reference=order_reference(shop_domain, edit.order_id),
        date=when.date(),
        added=[
            EditedLine(provider_line_id=str(d.id), quantity=d.delta)
            for d in edit.line_items.additions
        ],
        removed=[
            EditedLine(provider_line_id=str(d.id), quantity=d.delta)
            for d in edit.line_items.removals
        ],
        shipping_added=_shipping_ids(edit.shipping_lines.additions),
        shipping_removed=_shipping_ids(edit.shipping_lines.removals),
    )
