"""What every blueprint of the web app shares: the process's Services, JSON errors, admin auth.

Blueprints get the `Services` built by the app factory with `current_services()`, answer
errors with `json_error(...)` (`{"error": <slug>, "detail": ...}`), and protect admin
endpoints with `@require_admin`: `Authorization: Bearer <BRIDGE_ADMIN_TOKEN>`, compared in
constant time; several comma-separated tokens are accepted together (rotation). With no
token configured, admin endpoints answer 503: never open by default.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, g, has_request_context, jsonify, request
from pydantic import ValidationError
from werkzeug.datastructures import ImmutableMultiDict

from bridge.connections.hub import ServicesHub
from bridge.connections.secrets import SecretKeyError
from bridge.services import Services

SERVICES_KEY = "bridge.services"
HUB_KEY = "bridge.connections"
CONNECTION_ARG = "connection"
F = TypeVar("F", bound=Callable[..., Any])


def current_hub() -> ServicesHub:
    """Every connection's `Services` (set by `create_app`)."""
    return cast(ServicesHub, current_app.extensions[HUB_KEY])


def take_connection_arg() -> None:
    """Before each request: move `?connection=` out of the query into `g`, so that every
    endpoint's own query validation (unknown parameters refused) is left as it was."""
    if CONNECTION_ARG in request.args:
        g.setdefault(CONNECTION_ARG, request.args.get(CONNECTION_ARG))
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != CONNECTION_ARG]
        request.args = ImmutableMultiDict(kept)


def keep_connection_arg(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for` of a console page keeps the connection the page is seen as."""
    if endpoint.startswith("console.") and CONNECTION_ARG not in values:
        name = g.get(CONNECTION_ARG) if has_request_context() else None
        if name:
            values[CONNECTION_ARG] = name


def current_services() -> Services:
    """The `Services` of the running app (set by `create_app`), or, for a request with
    `?connection=<name>`, that connection's: every admin endpoint and console page serves
    the connection it is asked about (the environment's by default).

    Raises:
        HTTPException: 404 for an unknown connection, 503 when its secrets cannot be read.
    """
    base = cast(Services, current_app.extensions[SERVICES_KEY])
    name = g.get(CONNECTION_ARG) if has_request_context() else None
    if not name or name == base.settings.connection or HUB_KEY not in current_app.extensions:
        return base
    try:
        services = current_hub().services(name)
    except SecretKeyError as exc:
        abort(503, description=str(exc))
    if services is None:
        abort(404, description=f"no connection named {name!r}")
    return services


def json_error(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error response: `{"error": error, "detail": detail}` with `status`."""
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def invalid_query(exc: ValidationError) -> Response:
    """400 listing each query parameter that failed validation, and why."""
    problems = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]
    return json_error(400, "invalid_query", problems)


def is_admin_token(given: str, tokens: list[str]) -> bool:
    """Whether `given` is one of `tokens`; every one is compared, each in constant time."""
    matches = [hmac.compare_digest(given.encode(), token.encode()) for token in tokens]
    return any(matches)


def admin_denial() -> Response | None:
    """Why the current request may not use the admin API, or None if it may."""
    tokens = current_services().settings.admin_tokens
    if not tokens:
        return json_error(
            503, "admin_disabled", "the admin API is off: set BRIDGE_ADMIN_TOKEN to turn it on"
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return json_error(
            401,
            "unauthorized",
            "send Authorization: Bearer <BRIDGE_ADMIN_TOKEN>",
            {"WWW-Authenticate": 'Bearer realm="bridge-admin"'},
        )
    if not is_admin_token(given.strip(), tokens):
        return json_error(
            401,
            "unauthorized",
            "the bearer token is not the admin token",
            {"WWW-Authenticate": 'Bearer realm="bridge-admin", error="invalid_token"'},
        )
    return None


def require_admin(view: F) -> F:
    """Decorator: the view runs only for requests carrying the admin bearer token."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        denial = admin_denial()
        if denial is not None:
            return denial
        return view(*args, **kwargs)

    return cast(F, wrapper)
