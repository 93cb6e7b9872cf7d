"""The console's *Connections* page: every connection, its queues, pause and resume.

Served under `/console/connections` behind the console's own login and CSRF check (its
`console_guard`). Each connection links to the console seen as that connection
(`/console/?connection=<name>`: every page then shows that connection's events, orders and
deliveries, and the links between pages keep it). Secrets are never shown, only whether
they are set.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.connections.models import ConnectionView
from bridge.connections.registry import RegistryError
from bridge.connections.scheduler import FairScheduler
from bridge.connections.secrets import SecretKeyError
from bridge.ops.sage_login import authorize_url
from bridge.services import ConfigurationError, Services
from bridge.web.common import current_hub
from bridge.web.console import console_guard
from connectors.sage_active.errors import SageError

bp = Blueprint("console_connections", __name__, url_prefix="/console/connections")
LOGIN_TTL = 600  # seconds a Sage login started from the console may take
_CALLBACK = "console_connections.sage_callback"


@bp.before_request
def _guarded() -> Any:
    """The console's login and CSRF check, except on Sage's redirect back: it arrives from
    Sage's site, so the SameSite=Strict session cookie is not sent with it; it is checked
    by its one-time `state` instead."""
    if request.endpoint == _CALLBACK:
        return None
    return console_guard()


def _row(name: str, view: ConnectionView | None) -> dict[str, Any]:
    hub = current_hub()
    try:
        services = hub.services(name)
        queues = services.events.queue_lengths() if services else {}
    except SecretKeyError:
        queues = {}
    fair = FairScheduler(hub.base.redis, hub.base.settings.connection_max_in_flight)
    return {"name": name, "view": view, "queues": queues, "in_flight": fair.in_flight(name)}


@bp.get("/")
def connections() -> str:
    hub = current_hub()
    rows = [_row(hub.default_name, None)]
    rows += [_row(stored.name, ConnectionView.of(stored)) for stored in hub.registry.all()]
    settings = hub.base.settings
    return render_template("console/connections.html", rows=rows, settings=settings)


@bp.post("/<name>/<action>")
def toggle(name: str, action: str) -> BaseResponse:
    hub = current_hub()
    if action not in ("enable", "disable"):
        flash(f"unknown action {action!r}", "error")
        return redirect(url_for("console_connections.connections"))
    try:
        hub.registry.set_enabled(name, action == "enable")
    except RegistryError as exc:
        flash(exc.detail, "error")
    else:
        hub.refresh()
        flash(f"{name}: {action}d", "ok")
    return redirect(url_for("console_connections.connections"))


def _login_key(state: str) -> str:
    return f"bridge:_connections:sage-login:{state}"


def _services_of(name: str) -> Services | None:
    hub = current_hub()
    try:
        return hub.services(name)
    except SecretKeyError as exc:
        flash(str(exc), "error")
        return None


@bp.get("/<name>/sage-login")
def sage_login(name: str) -> BaseResponse:
    """Send the person to Sage to log in for connection `name` (OAuth code flow).

    The Sage app must list `<bridge>/console/connections/sage-callback` as a callback.
    """
    services = _services_of(name)
    if services is None:
        flash(f"no connection named {name!r}", "error")
        return redirect(url_for("console_connections.connections"))
    state = secrets.token_urlsafe(24)
    services.redis.set(_login_key(state), name, ex=LOGIN_TTL)
    callback = url_for(_CALLBACK, _external=True)
    settings = services.settings.model_copy(
        update={"sage": services.settings.sage.model_copy(update={"redirect_uri": callback})}
    )
    return redirect(authorize_url(settings, state))


@bp.get("/sage-callback")
def sage_callback() -> BaseResponse:
    """Sage's redirect: the one-time `state` names the connection; trade the code."""
    back = redirect(url_for("console_connections.connections"))
    state = request.args.get("state", "")
    hub = current_hub()
    name = hub.base.redis.getdel(_login_key(state)) if state else None
    if not name:
        flash("that Sage login was not started here, or took too long: start it again", "error")
        return back
    name = name.decode() if isinstance(name, bytes) else str(name)
    code = request.args.get("code")
    if not code:
        refused = request.args.get("error_description") or request.args.get("error") or "no code"
        flash(f"{name}: Sage refused the login: {refused}", "error")
        return back
    services = _services_of(name)
    if services is None:
        return back
    try:
        services.sage.client.tokens.exchange_code(code, url_for(_CALLBACK, _external=True))
    except (SageError, ConfigurationError) as exc:
        flash(f"{name}: Sage refused the authorization code: {exc}", "error")
        return back
    flash(f"{name}: logged in to Sage; its refresh token is kept (and rotated) in Redis", "ok")
    return back
