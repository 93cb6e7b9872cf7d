"""Liveness, readiness and metrics: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.web.common import current_services, json_error

bp = Blueprint("health", __name__)

CELERY_QUEUE = "celery"  # Celery's default queue: a Redis list in the broker's database


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


@bp.get("/metrics")
def metrics() -> Response:
    """Every counter and gauge, plus queue depths, in the Prometheus text format."""
    services = current_services()
    depths = services.events.queue_lengths()
    depths["celery"] = int(services.redis.llen(CELERY_QUEUE))
    services.metrics.collector(
        "bridge_queue_depth", lambda: {f'queue="{name}"': n for name, n in depths.items()}
    )
    return Response(services.metrics.render(), mimetype="text/plain; version=0.0.4")
