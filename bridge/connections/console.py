"""The console's *Connections* page: every connection, its queues, pause and resume.

Served under `/console/connections` behind the console's own login and CSRF check (its
`_guard`). Each connection links to the console seen as that connection
(`/console/?connection=<name>`: every page then shows that connection's events, orders and
deliveries, and the links between pages keep it). Secrets are never shown, only whether
they are set.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.connections.models import ConnectionView
from bridge.connections.registry import RegistryError
from bridge.connections.scheduler import FairScheduler
from bridge.connections.secrets import SecretKeyError
from bridge.web.common import current_hub
from bridge.web.console import _guard

bp = Blueprint("console_connections", __name__, url_prefix="/console/connections")
bp.before_request(_guard)  # the console's login and CSRF check


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
