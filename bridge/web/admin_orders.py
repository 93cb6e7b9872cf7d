"""The admin API's view of what was booked (bearer token): orders and their links.

`GET /admin/orders?cursor=&limit=` lists orders (and Stripe invoices) newest change first:
the Sage invoice, its status, the amounts paid and credited, and the lines booked on a
fallback product (`fallback_lines`, indexes into the order's lines: SKUs that matched no
Sage product). `GET /admin/orders/<reference>` gives one order's whole link with the
settlement of each payment and the credit note of each refund, and where marking it paid
in Shopify stands (`shopify_write_back`, see `bridge.poller.writeback`), and the chain
of its documents (`documents`: its invoice, then what its edits after the invoice added,
supplementary invoices and credit notes; `current_total` is the order's total now, which
they add up to).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.einvoice.retry import order_einvoicing
from bridge.poller.writeback import WriteBackStore
from bridge.store.links import LinkStore, OrderLink, PaymentLink, RefundLink
from bridge.web.common import current_services, invalid_query, json_error, require_admin
from bridge.web.order_views import label_of

bp = Blueprint("admin_orders", __name__, url_prefix="/admin")
PROVIDERS = ("shopify", "stripe")  # a Shopify order may be paid through Stripe
L = TypeVar("L", PaymentLink, RefundLink)


class OrderQuery(BaseModel):
    """The query string of `GET /admin/orders`."""

    model_config = ConfigDict(extra="forbid")

    cursor: float | None = Field(default=None, gt=0)
    limit: int = Field(default=50, ge=1, le=500)


def _summary(link: OrderLink) -> dict[str, Any]:
    order = link.order
    return {
        "reference": link.reference,
        "label": label_of(link, link.reference),
        "date": order.date.isoformat() if order else None,
        "customer": order.customer.name if order and order.customer else None,
        "invoice_id": link.invoice_id,
        "number": link.number,
        "status": link.status,
        "currency": order.currency if order else None,
        "total": str(link.order_total),
        "paid": str(link.paid),
        "credited": str(link.credited),
        "payments": len(link.payments),
        "refunds": len(link.refunds),
        "cancelled": link.cancelled,
        "fallback_lines": link.fallback_lines,
        "updated_at": link.updated_at.isoformat() if link.updated_at else None,
    }


@bp.get("/orders")
@require_admin
def list_orders() -> Response:
    """Orders newest change first; `next_cursor` pages on (null on the last page)."""
    try:
        query = OrderQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return invalid_query(exc)
    links = current_services().links
    page = links.order_page(query.cursor, query.limit)
    orders = [_summary(link) for link in links.orders([ref for ref, _ in page])]
    cursor = page[-1][1] if len(page) == query.limit else None
    return jsonify({"orders": orders, "next_cursor": cursor})


@bp.get("/orders/<path:reference>")
@require_admin
def get_order(reference: str) -> Response:
    """One order's link: the order as booked, its invoice, payments and refunds."""
    links = current_services().links
    link = links.order(reference)
    if link is None:
        return json_error(404, "not_found", f"no order {reference!r} (see GET /admin/orders)")
    services = current_services()
    mark = WriteBackStore(services.redis, services.settings).get(reference)
    payments = [_first(links.payment, pid) for pid in link.payments]
    refunds = [_first(links.refund, rid) for rid in link.refunds]
    return jsonify(
        {
            **_summary(link),
            "order": link.order.model_dump(mode="json") if link.order else None,
            "payment_links": [p.model_dump(mode="json") for p in payments if p is not None],
            "refund_links": [r.model_dump(mode="json") for r in refunds if r is not None],
            "shopify_write_back": mark.model_dump(mode="json") if mark else None,
            "documents": documents(links, link),
            "current_total": str(link.current.total if link.current else link.order_total),
            "edits": [e.model_dump(mode="json") for e in link.edits],
            "einvoicing": order_einvoicing(services, link),
        }
    )


def documents(links: LinkStore, link: OrderLink) -> list[dict[str, Any]]:
    """The order's documents, oldest first: its invoice, then its edits' (module doc)."""
    found = [
        {
            "kind": "invoice",
            "reference": link.reference,
            "invoice_id": link.invoice_id,
            "number": link.number,
            "status": link.status,
            "total": str(link.order_total),
        }
    ]
    for doc in link.chain:
        entry: dict[str, Any] = {
            "kind": doc.kind,
            "reference": doc.reference,
            "edit_id": doc.edit_id,
            "total": str(doc.total),
        }
        if doc.kind == "edit_invoice":
            edit = links.order(doc.reference)
            if edit is not None:
                entry.update(invoice_id=edit.invoice_id, number=edit.number, status=edit.status)
        else:
            note = _first(links.refund, doc.reference)
            if note is not None:
                entry.update(invoice_id=note.credit_note_id, number=note.number, status=note.status)
        found.append(entry)
    return found


def _first(read: Callable[[str, str], L | None], item_id: str) -> L | None:
    """The link of `item_id` under whichever provider has it."""
    return next((found for p in PROVIDERS if (found := read(p, item_id)) is not None), None)
