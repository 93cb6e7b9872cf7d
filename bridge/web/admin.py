"""The admin API for inbound events (bearer token): list, one, replay, counts by status."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.store.events import EventStatus
from bridge.web.common import current_services, json_error, require_admin

bp = Blueprint("admin_events", __name__, url_prefix="/admin")


class EventQuery(BaseModel):
    """The query string of `GET /admin/events`."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["shopify", "stripe"] | None = None
    topic: str | None = Field(default=None, max_length=200)
    status: EventStatus | None = None
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=50, ge=1, le=500)


def _invalid(exc: ValidationError) -> Response:
    problems = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]
    return json_error(400, "invalid_query", problems)


@bp.get("/events")
@require_admin
def list_events() -> Response:
    """Events newest first, filtered by provider, topic, status; `next_cursor` pages on."""
    try:
        query = EventQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return _invalid(exc)
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
    """One event with its body, kept headers, attempts and last error."""
    event = current_services().events.get(ref)
    if event is None:
        return json_error(404, "not_found", f"no event {ref!r}")
    return jsonify(event.model_dump(mode="json"))


@bp.post("/events/<ref>/replay")
@require_admin
def replay_event(ref: str) -> Response:
    """Queue the event for processing again (whatever its status)."""
    previous = current_services().events.requeue(ref)
    if previous is None:
        return json_error(404, "not_found", f"no event {ref!r}")
    response = jsonify({"id": ref, "previous_status": previous.value, "status": "queued"})
    response.status_code = 202
    return response
