"""Liveness, readiness and metrics: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from flask.blueprints import BlueprintSetupState

from bridge.connections.metrics import render_deployment
from bridge.ops.gates import sage_status
from bridge.services import Services
from bridge.web.common import (
    CONNECTION_ARG,
    SERVICES_KEY,
    current_hub,
    current_services,
    json_error,
)

bp = Blueprint("health", __name__)
CIRCUIT_STATES = ("closed", "open", "half_open")


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (it checks nothing else)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when Redis answers PING; 503 otherwise (the error handler turns RedisError).

    `sage` tells how the Sage connection is (`ok`, `needs_login`, `circuit_open`,
    `circuit_half_open`) with details: webhooks are still taken while Sage is out (the
    events wait), so it does not make the process unready.
    """
    services = current_services()
    if not services.redis.ping():
        return json_error(503, "unavailable", "Redis did not answer PING")
    status = sage_status(services.redis, services.settings)
    detail: dict[str, object] = {"held_events": status.held}
    sage = "ok"
    if status.needs_login is not None:
        sage = "needs_login"
        detail["needs_login"] = {
            "since": status.needs_login.since,
            "reason": status.needs_login.reason,
            "fix": "run `bridge sage-login` (or set a new SAGE_REFRESH_TOKEN)",
        }
    if status.circuit.state != "closed":
        sage = sage if sage != "ok" else f"circuit_{status.circuit.state}"
        detail["circuit"] = {"state": status.circuit.state, "retry_in": status.circuit.retry_in}
    return jsonify({"status": "ready", "redis": "ok", "sage": sage, "sage_detail": detail})


@bp.record_once
def _measure_queues(state: BlueprintSetupState) -> None:
    """Queue depths are measured at each scrape: outbox, in flight, parked, Celery queue."""
    services: Services = state.app.extensions[SERVICES_KEY]

    def depths() -> dict[str, float]:
        lengths: dict[str, int] = services.events.queue_lengths()
        lengths["celery"] = int(services.redis.llen(services.settings.celery_queue))
        return {f'queue="{name}"': float(n) for name, n in lengths.items()}

    services.metrics.collector("bridge_queue_depth", depths)

    def sage() -> dict[str, float]:
        status = sage_status(services.redis, services.settings)
        return {"": 1.0 if status.needs_login else 0.0}

    def circuit() -> dict[str, float]:
        state = sage_status(services.redis, services.settings).circuit.state
        return {f'state="{name}"': float(state == name) for name in CIRCUIT_STATES}

    def held() -> dict[str, float]:
        counts = sage_status(services.redis, services.settings).held
        return {f'gate="{gate}"': float(n) for gate, n in counts.items()}

    services.metrics.collector("bridge_sage_needs_login", sage)
    services.metrics.collector("bridge_sage_circuit_state", circuit)
    services.metrics.collector("bridge_events_held", held)


@bp.get("/metrics")
def metrics() -> Response:
    """Every counter and gauge of the deployment, in the Prometheus text format."""
    # Every connection's series, each with its `connection` label (bridge.connections.metrics).
    page = render_deployment(current_hub()) if not g.get(CONNECTION_ARG) else None
    page = page or current_services().metrics.render()
    return Response(page, mimetype="text/plain; version=0.0.4")
