"""The console's order page (`/console/order/<reference>`) and attention page
(`/console/attention`): an order in words with its Sage documents, its events and why it
failed or waits; items needing attention with the entry to make in Sage, resolved with a
note (what was booked), as `POST /admin/attention/<id>/resolve` does."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.ops.attention_guide import guidance, kind_label
from bridge.store.links import OrderLink
from bridge.store.order_events import OrderEvents
from bridge.web.common import current_services
from bridge.web.console_parts import console_blueprint
from bridge.web.order_views import ORDER_CONTEXT, ORDER_PANELS, label_of, order_context

bp = console_blueprint("console_orders", __name__)
NOTE_MAX = 2000
PAGE = 100


@bp.get("/order/<path:reference>")
def order(reference: str) -> str:
    """One order: summary, Sage documents, attention items, lines, events (the panels)."""
    services = current_services()
    link = services.links.order(reference)
    if link is None and OrderEvents(services.redis, services.settings).refs(reference, 1):
        link = OrderLink(reference=reference)  # its events failed before anything was booked
    if link is None:
        abort(404, f"no order {reference!r}: it may be older than the links' retention")
    context: dict[str, Any] = order_context(services, link)
    for provide in ORDER_CONTEXT:
        context.update(provide(services, link))
    return render_template("console/order.html", link=link, panels=ORDER_PANELS, **context)


@bp.get("/attention")
def attention() -> str:
    """Open items (or resolved ones too with `?all=1`), each with the entry to book."""
    services = current_services()
    show_all = request.args.get("all") == "1"
    kind = (request.args.get("kind") or "")[:100] or None
    items = services.attention.items(limit=PAGE, include_resolved=show_all, kind=kind)
    refs = sorted({i.order_reference for i in items if i.order_reference})
    links = {link.reference: link for link in services.links.orders(refs)}
    ids = [i.id for i in items]
    return render_template(
        "console/attention.html",
        items=items,
        show_all=show_all,
        kind=kind,
        links=links,
        labels={r: label_of(links.get(r), r) for r in refs},
        guides={
            i.id: guidance(i, links.get(i.order_reference or ""), services.settings) for i in items
        },
        resolved=services.attention.resolved_at(ids),
        notes=services.attention.notes(ids),
        kind_label=kind_label,
    )


@bp.post("/attention/resolve")
def resolve() -> BaseResponse:
    """Resolve one item with the person's note, then go back where the form was."""
    item_id = request.form.get("item", "")
    note = request.form.get("note", "").strip()
    if len(note) > NOTE_MAX:
        abort(400, f"the note is longer than {NOTE_MAX} characters")
    store = current_services().attention
    item = store.get(item_id)
    if item is None or not store.resolve(item_id, note or None):
        abort(404, f"no attention item {item_id!r}")
    flash(f"Resolved: {kind_label(item.kind)}" + (f" ({note})" if note else ""))
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/console") else url_for("console_orders.attention"))
