"""The operator console at `/console`: server-rendered pages over the admin data.

Behind the admin token: the login form takes `BRIDGE_ADMIN_TOKEN` and sets a session cookie
(HttpOnly, SameSite=Strict) signed with a key derived from the token, so changing the token
logs everyone out. Every POST form carries a CSRF token kept in the session. With no admin
token configured the console is off (503), like the admin API.

Pages read the same stores as the admin API: events (status, errors, attempts, replay),
parked events and dead letters, orders and their Sage invoices, outbound subscriptions,
deliveries and attempts, and a chart of events and Sage requests per minute (inline SVG
drawn by the template; no JavaScript, no build step).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

import redis
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from bridge.activity import events_per_minute, sage_requests_per_minute
from bridge.ops.attention_guide import KIND_LABELS
from bridge.ops.doctor import DoctorStore
from bridge.ops.gates import sage_status
from bridge.ops.replay import ReplayFilter
from bridge.ops.replay import replay as bulk_replay
from bridge.outbound.delivery import OutboundError
from bridge.poller.writeback import WriteBackStore
from bridge.services import Services
from bridge.store.events import EventStatus
from bridge.store.outbound import DeliveryStatus
from bridge.web.common import SERVICES_KEY, current_services, is_admin_token
from bridge.web.console_sessions import (
    SESSION_SECONDS,
    ConsoleSessions,
    end_session,
    session_alive,
    start_session,
)
from bridge.web.order_views import label_of, search_page, views_of

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

CHART_MINUTES = 30
PAGE = 50
_OPEN = ("console.login", "console.static")


def _tokens() -> list[str]:
    return current_services().settings.admin_tokens


def _login_mark(token: str) -> str:
    """What the session holds once logged in: proves the token without storing it."""
    return hmac.new(token.encode(), b"bridge-console-login", hashlib.sha256).hexdigest()


@bp.record_once
def _configure_sessions(state: BlueprintSetupState) -> None:
    services: Services = state.app.extensions[SERVICES_KEY]
    tokens = services.settings.admin_tokens
    if tokens:
        # Every web process derives the same key, so any of them accepts the cookie.
        material = b"bridge-console-session:" + ",".join(sorted(tokens)).encode()
        state.app.secret_key = hashlib.sha256(material).hexdigest()
    if isinstance(state.app, Flask):
        state.app.session_interface = ConsoleSessions()
    state.app.config.update(
        SESSION_COOKIE_NAME="bridge_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_SECONDS),
    )


@bp.before_request
def console_guard() -> BaseResponse | tuple[str, int] | None:
    """Off without a token; login page unless logged in; CSRF check on every POST."""
    tokens = _tokens()
    if not tokens:
        return render_template("console/off.html"), 503
    if request.endpoint in _OPEN:
        return None
    # A session opened with a token dropped from BRIDGE_ADMIN_TOKEN is over.
    mark = str(session.get("login", ""))
    if not any([hmac.compare_digest(mark, _login_mark(token)) for token in tokens]):
        return redirect(url_for("console.login", next=request.path))
    if not session_alive():  # logged out (the cookie may have been kept): over
        session.clear()
        return redirect(url_for("console.login", next=request.path))
    if request.method == "POST":
        given = request.form.get("csrf", "")
        expected = str(session.get("csrf", ""))
        # A session with no token yet accepts no POST (an empty field would match "").
        if not expected or not hmac.compare_digest(given, expected):
            abort(400, "the form expired or did not come from the console: reload the page")
    return None


@bp.app_template_global()
def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """The login form; a right token opens a session."""
    if request.method == "GET":
        return render_template("console/login.html")
    given = request.form.get("token", "").strip()
    if not is_admin_token(given, _tokens()):
        return render_template("console/login.html", error="That is not the admin token."), 401
    session.clear()
    session.permanent = True
    session["login"] = _login_mark(given)
    start_session()
    target = request.args.get("next", "")
    # Only paths inside the console: never an open redirect.
    return redirect(target if target.startswith("/console") else url_for("console.overview"))


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session here and on the server: the cookie, even if kept, opens nothing."""
    end_session()
    return redirect(url_for("console.login"))


def _chart(services: Services) -> dict[str, Any]:
    now = time.time()
    index = services.events.index_key()
    events = events_per_minute(services.redis, index, CHART_MINUTES, now)
    sage = sage_requests_per_minute(services.redis, services.settings, CHART_MINUTES, now)
    peak = max([1, *(n for _, n in events), *(n for _, n in sage)])
    return {"events": events, "sage": sage, "peak": peak, "minutes": CHART_MINUTES}


@bp.get("/")
def overview() -> str:
    """Counts, the chart, dead letters, parked events and items needing attention (of one
    kind with `?kind=`, e.g. `unlinked_payment`)."""
    services = current_services()
    kind = (request.args.get("kind") or "")[:100] or None
    failed, _ = services.events.list(status=EventStatus.FAILED, limit=PAGE)
    parked, _ = services.events.list(status=EventStatus.PARKED, limit=PAGE)
    dead = services.outbound.deliveries(status=DeliveryStatus.DEAD, limit=PAGE)
    attention = services.attention.items(limit=PAGE, kind=kind)
    refs = sorted({item.order_reference for item in attention if item.order_reference})
    links = {link.reference: link for link in services.links.orders(refs)}
    return render_template(
        "console/overview.html",
        counts=services.events.counts(),
        queues=services.events.queue_lengths(),
        chart=_chart(services),
        failed=failed,
        parked=[services.events.get(e.ref) or e for e in parked],
        dead=dead,
        attention=attention,
        attention_kind=kind,
        attention_kinds=KIND_LABELS,
        attention_labels={ref: label_of(links.get(ref), ref) for ref in refs},
        doctor=DoctorStore(services.redis, services.settings).load(),
    )


@bp.get("/events")
def events() -> str:
    """Events newest first, by status, a page at a time."""
    status = request.args.get("status") or None
    if status is not None and status not in EventStatus.__members__.values():
        abort(400, f"unknown status {status!r}")
    try:
        page, cursor = current_services().events.list(
            status=EventStatus(status) if status else None,
            cursor=request.args.get("cursor") or None,
            limit=PAGE,
        )
    except ValueError:
        abort(400, "invalid cursor")
    return render_template(
        "console/events.html", events=page, cursor=cursor, status=status, statuses=EventStatus
    )


@bp.get("/events/<ref>")
def event(ref: str) -> str:
    """One event: its error, attempts, kept headers and body."""
    record = current_services().events.get(ref)
    if record is None:
        abort(404, f"no event {ref!r}")
    return render_template("console/event.html", event=record)


@bp.post("/events/<ref>/replay")
def replay(ref: str) -> BaseResponse:
    """Queue the event again, then go back where the button was."""
    previous = current_services().events.requeue(ref)
    if previous is None:
        abort(404, f"no event {ref!r}")
    flash(f"{ref}: {previous.value} -> queued for processing again")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/console") else url_for("console.event", ref=ref))


@bp.post("/events/replay")
def replay_all() -> BaseResponse:
    """ "Replay all" on the dead-letters page: every failed event queued again at once."""
    services = current_services()
    report = bulk_replay(services.events, services.redis, ReplayFilter(status="failed"))
    flash(f"{report.queued} of {report.matched} failed events queued for processing again")
    return redirect(url_for("console.events", status="failed"))


@bp.context_processor
def _sage_banner() -> dict[str, Any]:
    """The Sage connection's state for the banner on every page (None when unreadable)."""
    if not session.get("login"):
        return {"sage": None}
    try:
        services = current_services()
        return {"sage": sage_status(services.redis, services.settings)}
    except (redis.RedisError, HTTPException):  # unreadable, or no such connection (404 page)
        return {"sage": None}


@bp.get("/orders")
def orders() -> str:
    """Orders (and Stripe invoices) newest change first, with their date, customer, amounts,
    Sage invoice and state; `?q=` searches number, customer, reference; `?before=` pages."""
    services = current_services()
    query = (request.args.get("q") or "")[:200]
    try:
        before = float(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        abort(400, "invalid page cursor: go back to the first page")
    found, cursor = search_page(services.links, query, before, PAGE)
    marks = WriteBackStore(services.redis, services.settings).get_many(
        [link.reference for link in found]
    )
    return render_template(
        "console/orders.html",
        orders=found,
        write_back=marks,
        views=views_of(services, found),
        query=query,
        cursor=cursor,
        first_page=before is None,
    )


@bp.get("/clearing")
def clearing() -> str:
    """The processors' clearing accounts, their payouts and what explains their balance."""
    from bridge.month.view import month_end_status
    from bridge.payouts.clearing import clearing_status

    services = current_services()
    processors, attention = clearing_status(services)
    return render_template(
        "console/clearing.html",
        processors=processors,
        attention=attention,
        month_end=month_end_status(services),
    )


@bp.get("/outbound")
def outbound() -> str:
    """Subscriptions and recent deliveries (by status)."""
    status = request.args.get("status") or None
    if status is not None and status not in DeliveryStatus.__members__.values():
        abort(400, f"unknown status {status!r}")
    out = current_services().outbound
    deliveries = out.deliveries(status=DeliveryStatus(status) if status else None, limit=PAGE)
    return render_template(
        "console/outbound.html",
        subscriptions=out.store.subscriptions(),
        deliveries=deliveries,
        status=status,
        statuses=DeliveryStatus,
    )


@bp.get("/deliveries/<delivery_id>")
def delivery(delivery_id: str) -> str:
    """One delivery with every attempt."""
    out = current_services().outbound
    found = out.store.delivery(delivery_id)
    if found is None:
        abort(404, f"no delivery {delivery_id!r}")
    return render_template(
        "console/delivery.html", delivery=found, attempts=out.store.attempts(delivery_id)
    )


@bp.post("/deliveries/<delivery_id>/replay")
def replay_delivery(delivery_id: str) -> BaseResponse:
    """Send a delivery again from the start of its schedule."""
    try:
        current_services().outbound.replay(delivery_id)
    except OutboundError as exc:
        flash(f"{delivery_id}: not replayed: {exc}", "error")
    else:
        flash(f"{delivery_id}: queued for delivery again")
    return redirect(url_for("console.delivery", delivery_id=delivery_id))


@bp.errorhandler(HTTPException)
def _error_page(exc: HTTPException) -> tuple[str, int]:
    """Errors inside the console are pages, not JSON."""
    return render_template("console/error.html", error=exc), exc.code or 500


# The console's other blueprints (`bridge.web.console_parts.console_blueprint`) share
# these (and `console_guard`, the login and CSRF check): the Sage banner, error pages.
sage_banner = _sage_banner
error_page = _error_page
