"""Liveness, readiness and metrics: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from flask.blueprints import BlueprintSetupState

from bridge.connections.metrics import render_deployment
from bridge.services import Services
from bridge.web.common import (
    CONNECTION_ARG,
    SERVICES_KEY,
    current_hub,
    current_services,
    json_error,
)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (it checks nothing else)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when Redis answers PING; 503 otherwise (the error handler turns RedisError)."""
    if not current_services().redis.ping():
        return json_error(503, "unavailable", "Redis did not answer PING")
    return jsonify({"status": "ready", "redis": "ok"})


@bp.record_once
def _measure_queues(state: BlueprintSetupState) -> None:
    """Queue depths are measured at each scrape: outbox, in flight, parked, Celery queue."""
    services: Services = state.app.extensions[SERVICES_KEY]

    def depths() -> dict[str, float]:
        lengths: dict[str, int] = services.events.queue_lengths()
        lengths["celery"] = int(services.redis.llen(services.settings.celery_queue))
        return {f'queue="{name}"': float(n) for name, n in lengths.items()}

    services.metrics.collector("bridge_queue_depth", depths)


@bp.get("/metrics")
def metrics() -> Response:
    """Every counter and gauge of the deployment, in the Prometheus text format."""
    # Every connection's series, each with its `connection` label (bridge.connections.metrics).
    page = render_deployment(current_hub()) if not g.get(CONNECTION_ARG) else None
    page = page or current_services().metrics.render()
    return Response(page, mimetype="text/plain; version=0.0.4")
