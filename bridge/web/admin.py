"""The admin API (bearer token): inbound events (list, one, replay, counts by status) and
the items that need a person's attention (list, resolve). Orders and their links are in
`bridge.web.admin_orders`, outbound subscriptions in `bridge.web.subscriptions`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.ops.attention_guide import guidance, kind_label
from bridge.ops.replay import ReplayFilter, replay
from bridge.store.event_models import event_ref
from bridge.store.events import EventStatus
from bridge.web.common import current_services, invalid_query, json_error, require_admin

bp = Blueprint("admin_events", __name__, url_prefix="/admin")
NOTE_MAX = 2000  # characters of a resolution note


class EventQuery(BaseModel):
    """The query string of `GET /admin/events`."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["shopify", "stripe"] | None = None
    topic: str | None = Field(default=None, max_length=200)
    status: EventStatus | None = None
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=50, ge=1, le=500)


class AttentionQuery(BaseModel):
    """The query string of `GET /admin/attention`."""

    model_config = ConfigDict(extra="forbid")

    include_resolved: bool = False
    limit: int = Field(default=100, ge=1, le=500)
    kind: str | None = Field(default=None, min_length=1, max_length=100)


@bp.get("/events")
@require_admin
def list_events() -> Response:
    """Events newest first, filtered by provider, topic, status; `next_cursor` pages on."""
    try:
        query = EventQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return invalid_query(exc)
    try:
        page, cursor = current_services().events.list(
            provider=query.provider,
            topic=query.topic,
            status=query.status,
            cursor=query.cursor,
            limit=query.limit,
        )
    except ValueError as exc:
        return json_error(400, "invalid_cursor", str(exc))
    return jsonify({"events": [e.model_dump(mode="json") for e in page], "next_cursor": cursor})


@bp.get("/events/counts")
@require_admin
def event_counts() -> Response:
    """How many events are in each status."""
    return jsonify({"counts": current_services().events.counts()})


@bp.get("/events/<ref>")
@require_admin
def get_event(ref: str) -> Response:
    """One event with its body, kept headers, attempts and last error (ref or bare id)."""
    ref = event_ref(ref)
    event = current_services().events.get(ref)
    if event is None:
        return json_error(404, "not_found", f"no event {ref!r}")
    return jsonify(event.model_dump(mode="json"))


@bp.post("/events/replay")
@require_admin
def replay_events() -> Response:
    """Bulk replay: queue again every failed (or parked) event the JSON body's filter names
    (`status`, `provider`, `topic`, `since`, `until`, `dry_run`); answers how many."""
    body = request.get_json(silent=True)
    if body is None and request.get_data().strip():
        return json_error(400, "invalid_body", "the body must be a JSON object")
    try:
        wanted = ReplayFilter.model_validate(body or {})
    except ValidationError as exc:
        return invalid_query(exc)
    services = current_services()
    report = replay(services.events, services.redis, wanted)
    response = jsonify(
        {"matched": report.matched, "queued": report.queued, "dry_run": report.dry_run}
    )
    response.status_code = 200 if wanted.dry_run else 202
    return response


@bp.post("/events/<ref>/replay")
@require_admin
def replay_event(ref: str) -> Response:
    """Queue the event for processing again, whatever its status (ref or bare id)."""
    ref = event_ref(ref)
    previous = current_services().events.requeue(ref)
    if previous is None:
        return json_error(404, "not_found", f"no event {ref!r}")
    response = jsonify({"id": ref, "previous_status": previous.value, "status": "queued"})
    response.status_code = 202
    return response


@bp.get("/attention")
@require_admin
def list_attention() -> Response:
    """Items needing attention newest first (open ones, or all with `include_resolved`;
    only those of `kind`, e.g. `unlinked_payment`, when given)."""
    try:
        query = AttentionQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return invalid_query(exc)
    store = current_services().attention
    items = store.items(limit=query.limit, include_resolved=query.include_resolved, kind=query.kind)
    ids = [item.id for item in items]
    resolved, notes = store.resolved_at(ids), store.notes(ids)
    services = current_services()
    links = {link.reference: link for link in services.links.orders(
        sorted({i.order_reference for i in items if i.order_reference}))}  # fmt: skip
    listed = [
        {
            **item.model_dump(mode="json"),
            "resolved_at": _iso(resolved.get(item.id)),
            "resolution_note": notes.get(item.id),
            "label": kind_label(item.kind),
            "book_in_sage": guidance(
                item, links.get(item.order_reference or ""), services.settings
            ),
        }
        for item in items
    ]
    return jsonify({"items": listed})


class ResolveBody(BaseModel):
    """The optional JSON body of `POST /admin/attention/<id>/resolve`."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=NOTE_MAX)


@bp.post("/attention/<path:item_id>/resolve")
@require_admin
def resolve_attention(item_id: str) -> Response:
    """Mark an item handled (idempotent), with an optional `{"note": "what was booked"}`;
    it leaves the default list."""
    body = request.get_json(silent=True)
    if body is None and request.get_data().strip():
        return json_error(400, "invalid_body", "the body must be a JSON object")
    try:
        wanted = ResolveBody.model_validate(body or {})
    except ValidationError as exc:
        return invalid_query(exc)
    store = current_services().attention
    if not store.resolve(item_id, (wanted.note or "").strip() or None):
        return json_error(404, "not_found", f"no attention item {item_id!r}")
    resolved = store.resolved_at([item_id])
    return jsonify(
        {
            "id": item_id,
            "resolved_at": _iso(resolved.get(item_id)),
            "resolution_note": store.notes([item_id]).get(item_id),
        }
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
