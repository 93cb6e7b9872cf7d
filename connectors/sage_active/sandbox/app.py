"""The sandbox's Flask app: `/graphql`, `/connect/token`, `/connect/authorize`, `/_sandbox`.

Order of checks on /graphql, as a client meets them at Sage: 401 without a valid bearer
token and `x-api-key`; 429 beyond the client's rate; 400 for an invalid request; then
faults, if any are set; a document over the field cost limit is refused unrun (HTTP 200,
`cost.py`); then execution.
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

from flask import Flask, Response, current_app, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from connectors.sage_active.sandbox import control_lifecycle  # noqa: F401 - its routes
from connectors.sage_active.sandbox.auth import OAuthError
from connectors.sage_active.sandbox.bank_control import bank_blueprint
from connectors.sage_active.sandbox.config import SandboxConfig
from connectors.sage_active.sandbox.control import blueprint, json_response
from connectors.sage_active.sandbox.cost import complexity_error, document_cost
from connectors.sage_active.sandbox.execution import BadRequest, Request, parse_request, run
from connectors.sage_active.sandbox.money import dumps
from connectors.sage_active.sandbox.runtime import Sandbox


def sandbox() -> Sandbox:
    """The running sandbox of the current app."""
    found: Sandbox = current_app.extensions["sandbox"]
    return found


def create_app(config: SandboxConfig | None = None) -> Flask:
    """A sandbox WSGI app; call `app.extensions["sandbox"].close()` when done with a state file.

    Raises:
        StateFileError: `config.state_file` exists but is not a sandbox state.
    """
    app = Flask(__name__)
    app.extensions["sandbox"] = Sandbox(config or SandboxConfig())
    app.register_blueprint(blueprint)
    app.register_blueprint(bank_blueprint)
    app.add_url_rule("/graphql", "graphql", graphql_endpoint, methods=["POST"])
    app.add_url_rule("/connect/token", "token", token_endpoint, methods=["POST"])
    app.add_url_rule("/connect/authorize", "authorize", authorize_endpoint, methods=["GET"])
    return app


def token_endpoint() -> Response:
    form = {key: value for key, value in request.form.items()}
    if request.authorization and request.authorization.type == "basic":
        form.setdefault("client_id", request.authorization.username or "")
        form.setdefault("client_secret", request.authorization.password or "")
    try:
        answer = sandbox().tokens.grant(form)
    except OAuthError as exc:
        return json_response({"error": exc.error}, exc.status)
    response = json_response(answer, 200)
    response.headers["Cache-Control"] = "no-store"
    return response


def authorize_endpoint() -> WerkzeugResponse:
    args = request.args
    redirect_uri = args.get("redirect_uri")
    try:
        code = sandbox().tokens.authorize(
            args.get("client_id"), redirect_uri, args.get("response_type")
        )
    except OAuthError as exc:
        return json_response({"error": exc.error}, exc.status)
    assert redirect_uri is not None
    query = {"code": code, "scope": args.get("scope", ""), "iss": request.host_url.rstrip("/")}
    if args.get("state") is not None:
        query["state"] = args["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(query)}", 302)


def graphql_endpoint() -> Response:
    box = sandbox()
    operations: list[str] = []
    response = _answer(box, operations)
    box.stats.record(operations, response.status_code)
    return response


def _answer(box: Sandbox, operations: list[str]) -> Response:
    client = box.tokens.client_for(
        request.headers.get("Authorization"), request.headers.get("x-api-key")
    )
    if client is None:
        response = json_response({"errors": [{"message": "Unauthorized"}]}, 401)
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    wait = box.limiter.admit(client)
    if wait is not None:
        return _too_many(wait)
    try:
        parsed = parse_request(request.get_data())
    except BadRequest as exc:
        return Response(exc.body, 400, mimetype="application/json")
    operations.extend(parsed.root_fields)
    box.stats.begin(operations)
    faulted = _faults(box, parsed)
    if faulted is not None:
        return faulted
    cost = document_cost(parsed.document, parsed.operation, parsed.variables)
    if cost > box.config.max_field_cost:
        return json_response(complexity_error(cost, box.config.max_field_cost), 200)
    try:
        status, body = run(box.state, parsed, request.headers.get("X-OrganizationId"))
    except BadRequest as exc:
        return Response(exc.body, 400, mimetype="application/json")
    if parsed.is_mutation and box.faults.take_drop(operations):
        return Response(b"", 502)  # committed, but the answer is "lost on the way"
    return Response(body, status, mimetype="application/json")


def _faults(box: Sandbox, parsed: Request) -> Response | None:
    operations = parsed.root_fields
    delay = box.faults.latency(operations)
    if delay:
        threading.Event().wait(delay)
    retry_after = box.faults.take_burst(operations)
    if retry_after is not None:
        return _too_many(retry_after)
    hang = box.faults.take_hang(operations)
    if hang is not None:
        seconds, wake = hang
        wake.wait(seconds)
        return Response(b"", 504)
    status = box.faults.take_error(operations)
    if status is not None:
        return Response(
            dumps({"errors": [{"message": "injected fault"}]}), status, mimetype="application/json"
        )
    return None


def _too_many(retry_after: int) -> Response:
    response = json_response({"errors": [{"message": "Too Many Requests"}]}, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response
