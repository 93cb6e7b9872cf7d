"""The admin API of connections (bearer token, like every `/admin` endpoint).

    GET    /admin/connections            the environment's connection and every registered one
    POST   /admin/connections            ConnectionCreate -> 201 (secrets never shown again)
    GET    /admin/connections/<name>
    PATCH  /admin/connections/<name>     ConnectionUpdate (e.g. {"enabled": false}) -> 200
    DELETE /admin/connections/<name>     -> 200; its events and links stay in Redis

A body that is not a JSON object, or that does not validate (unknown field, bad shop
domain, a secret too short...), is a 400 listing each problem; an unknown name a 404; a
name, shop or Stripe account already taken a 409; no usable `BRIDGE_SECRET_KEY` a 503.
Nothing is saved in any of these cases. Every other admin endpoint serves one connection
when asked with `?connection=<name>` (`bridge.web.common.current_services`).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from bridge.connections.hub import ServicesHub
from bridge.connections.models import (
    ConnectionCreate,
    ConnectionUpdate,
    ConnectionView,
    StoredConnection,
)
from bridge.connections.registry import RegistryError
from bridge.connections.scheduler import FairScheduler
from bridge.connections.secrets import SecretKeyError
from bridge.web.common import current_hub, json_error, require_admin

M = TypeVar("M", bound=BaseModel)

bp = Blueprint("admin_connections", __name__, url_prefix="/admin")


class BadBody(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("bad body")
        self.response = response


def _body(model: type[M]) -> M:
    """The request body as `model`.

    Raises:
        BadBody: not a JSON object, or it does not validate (400 with each problem).
    """
    try:
        data = json.loads(request.get_data() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadBody(json_error(400, "malformed_json", "the body must be JSON")) from None
    if not isinstance(data, dict):
        raise BadBody(json_error(400, "malformed_json", "the body must be a JSON object"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise BadBody(json_error(400, "invalid_body", problems)) from None


def _queues(hub: ServicesHub, name: str) -> dict[str, int]:
    services = hub.services(name) if name != hub.default_name else hub.base
    lengths = services.events.queue_lengths() if services else {}
    fair = FairScheduler(hub.base.redis, hub.base.settings.connection_max_in_flight)
    return {**lengths, "in_flight": fair.in_flight(name)}


def _view(hub: ServicesHub, stored: StoredConnection) -> dict[str, Any]:
    view = ConnectionView.of(stored).model_dump(mode="json")
    try:
        view["queues"] = _queues(hub, stored.name)
    except SecretKeyError:
        view["queues"] = None
    return view


def _default(hub: ServicesHub) -> dict[str, Any]:
    settings = hub.base.settings
    return {
        "name": hub.default_name,
        "from": "environment",
        "shop_domain": hub.env_shop(),  # SHOPIFY_SHOP_DOMAIN, else the one learnt
        "sage_organization_id": settings.sage.organization_id,
        "enabled": True,
        "queues": _queues(hub, hub.default_name),
    }


def _refusal(exc: Exception) -> Response:
    if isinstance(exc, BadBody):
        return exc.response
    if isinstance(exc, RegistryError):
        return json_error(exc.status, exc.error, exc.detail)
    return json_error(503, "not_configured", str(exc))


@bp.get("/connections")
@require_admin
def list_connections() -> Response:
    hub = current_hub()
    registered = [_view(hub, stored) for stored in hub.registry.all()]
    return jsonify({"default": _default(hub), "connections": registered})


@bp.post("/connections")
@require_admin
def add_connection() -> Response:
    hub = current_hub()
    try:
        stored = hub.add(_body(ConnectionCreate))
    except (BadBody, RegistryError, SecretKeyError) as exc:
        return _refusal(exc)
    hub.refresh()
    response = jsonify(_view(hub, stored))
    response.status_code = 201
    return response


@bp.get("/connections/<name>")
@require_admin
def get_connection(name: str) -> Response:
    hub = current_hub()
    if name == hub.default_name:
        return jsonify(_default(hub))
    try:
        stored = hub.registry.require(name)
    except RegistryError as exc:
        return _refusal(exc)
    return jsonify(_view(hub, stored))


@bp.patch("/connections/<name>")
@require_admin
def update_connection(name: str) -> Response:
    hub = current_hub()
    try:
        change = _body(ConnectionUpdate)
        stored = hub.registry.update(name, change)
    except (BadBody, RegistryError, SecretKeyError) as exc:
        return _refusal(exc)
    hub.refresh()
    return jsonify(_view(hub, stored))


@bp.delete("/connections/<name>")
@require_admin
def remove_connection(name: str) -> Response:
    hub = current_hub()
    try:
        stored = hub.registry.remove(name)
    except RegistryError as exc:
        return _refusal(exc)
    hub.refresh()
    return jsonify({"removed": stored.name})
