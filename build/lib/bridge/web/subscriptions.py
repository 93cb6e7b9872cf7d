"""The admin API for outbound webhooks (bearer token): subscriptions and deliveries.

    POST   /admin/subscriptions              {"url", "event_types", "secret"?} -> 201 + secret
    GET    /admin/subscriptions              every subscription (never a secret)
    GET    /admin/subscriptions/<id>
    PATCH  /admin/subscriptions/<id>         {"url"?, "event_types"?, "enabled"?, "secret"?}
    DELETE /admin/subscriptions/<id>         -> 204
    GET    /admin/deliveries?status=&subscription=&limit=
    GET    /admin/deliveries/<id>            with its attempts
    POST   /admin/deliveries/<id>/replay     -> 202, sent by the pump within seconds
    POST   /admin/deliveries/recover         {"since": ISO 8601 or unix seconds} -> 202

A malformed body is a 400; a refused URL, unknown event type or bad secret a 422; nothing
is saved in either case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bridge.outbound.delivery import InvalidSubscription, NotFound, Outbound, OutboundError
from bridge.store.outbound import DeliveryStatus
from bridge.web.common import current_services, json_error, require_admin

M = TypeVar("M", bound=BaseModel)

bp = Blueprint("admin_outbound", __name__, url_prefix="/admin")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateBody(_Body):
    url: str = Field(min_length=1, max_length=2048)
    event_types: list[str] = Field(min_length=1, max_length=20)
    secret: str | None = Field(default=None, max_length=200)


class UpdateBody(_Body):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=20)
    enabled: bool | None = None
    secret: str | None = Field(default=None, max_length=200)


class DeliveryQuery(_Body):
    status: DeliveryStatus | None = None
    subscription: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=100, ge=1, le=500)


class RecoverBody(_Body):
    since: float = Field(allow_inf_nan=False)

    @field_validator("since", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        """Unix seconds, or an ISO 8601 time (UTC when it names no offset)."""
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        return value


def _outbound() -> Outbound:
    return current_services().outbound


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]


def _body(model: type[M]) -> M | Response:
    """The JSON body as `model`, or the 400 answer saying what is wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return json_error(400, "invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return json_error(400, "invalid_body", _problems(exc))


def _refused(exc: OutboundError) -> Response:
    if isinstance(exc, NotFound):
        return json_error(404, "not_found", str(exc))
    if isinstance(exc, InvalidSubscription):
        return json_error(422, "invalid_subscription", str(exc))
    return json_error(409, "conflict", str(exc))


@bp.post("/subscriptions")
@require_admin
def create_subscription() -> Response:
    """Create a subscription; the answer is the only place its secret is shown."""
    body = _body(CreateBody)
    if isinstance(body, Response):
        return body
    try:
        sub, secret = _outbound().create_subscription(body.url, body.event_types, body.secret)
    except OutboundError as exc:
        return _refused(exc)
    response = jsonify({**sub.model_dump(mode="json"), "secret": secret})
    response.status_code = 201
    return response


@bp.get("/subscriptions")
@require_admin
def list_subscriptions() -> Response:
    subs = _outbound().store.subscriptions()
    return jsonify({"subscriptions": [s.model_dump(mode="json") for s in subs]})


@bp.get("/subscriptions/<sub_id>")
@require_admin
def get_subscription(sub_id: str) -> Response:
    try:
        return jsonify(_outbound().subscription(sub_id).model_dump(mode="json"))
    except OutboundError as exc:
        return _refused(exc)


@bp.patch("/subscriptions/<sub_id>")
@require_admin
def update_subscription(sub_id: str) -> Response:
    """Change url, event types, enabled or secret; a new secret is echoed once."""
    body = _body(UpdateBody)
    if isinstance(body, Response):
        return body
    try:
        sub = _outbound().update_subscription(sub_id, **body.model_dump(exclude_none=True))
    except OutboundError as exc:
        return _refused(exc)
    answer = sub.model_dump(mode="json")
    if body.secret is not None:
        answer["secret"] = body.secret
    return jsonify(answer)


@bp.delete("/subscriptions/<sub_id>")
@require_admin
def delete_subscription(sub_id: str) -> Response:
    try:
        _outbound().delete_subscription(sub_id)
    except OutboundError as exc:
        return _refused(exc)
    return Response(status=204)


@bp.get("/deliveries")
@require_admin
def list_deliveries() -> Response:
    """Recent deliveries, newest first, by status and/or subscription."""
    try:
        query = DeliveryQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return json_error(400, "invalid_query", _problems(exc))
    found = _outbound().deliveries(query.status, query.subscription, query.limit)
    return jsonify({"deliveries": [d.model_dump(mode="json") for d in found]})


@bp.get("/deliveries/<delivery_id>")
@require_admin
def get_delivery(delivery_id: str) -> Response:
    outbound = _outbound()
    try:
        delivery = outbound.delivery(delivery_id)
    except OutboundError as exc:
        return _refused(exc)
    attempts = [a.model_dump(mode="json") for a in outbound.store.attempts(delivery_id)]
    return jsonify({**delivery.model_dump(mode="json"), "attempts": attempts})


@bp.post("/deliveries/<delivery_id>/replay")
@require_admin
def replay_delivery(delivery_id: str) -> Response:
    """Send the delivery again from the start of the schedule (same webhook-id)."""
    try:
        delivery = _outbound().replay(delivery_id)
    except OutboundError as exc:
        return _refused(exc)
    response = jsonify(delivery.model_dump(mode="json"))
    response.status_code = 202
    return response


@bp.post("/deliveries/recover")
@require_admin
def recover_deliveries() -> Response:
    """Replay every dead delivery created since a time; how many."""
    body = _body(RecoverBody)
    if isinstance(body, Response):
        return body
    response = jsonify({"recovered": _outbound().recover(body.since), "since": body.since})
    response.status_code = 202
    return response
