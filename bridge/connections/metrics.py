"""`/metrics` for a deployment of several connections: every series names its connection.

Each connection counts in its own namespace (`bridge:<name>:metrics:*`, through its own
`Metrics`). With no registered connection the page is exactly the environment's, as
before. Otherwise every connection's counters and gauges are merged into one family per
metric (Prometheus wants each family once), each series with a `connection` label, and the
queue depths (outbox, in flight, parked) and the Sage gauges (`bridge_sage_needs_login`,
`bridge_sage_circuit_state`, `bridge_events_held`) are measured per connection, the
environment's included, so that an alert on them keeps firing once connections are added.
"""

from __future__ import annotations

import redis

from bridge.connections.hub import ServicesHub
from bridge.metrics import HELP, Metrics, label_field
from bridge.ops.gates import sage_status
from bridge.services import Services

CIRCUIT_STATES = ("closed", "open", "half_open")

Families = dict[tuple[str, str], dict[str, float]]  # (kind, name) -> {label field: value}


def _labelled(name: str, field: str) -> str:
    own = label_field({"connection": name})
    return f"{own},{field}" if field else own


def _collect(families: Families, connection: str, metrics: Metrics, client: redis.Redis) -> None:
    names: set[object] = client.smembers(metrics.names_key)  # type: ignore[assignment]
    for entry in names:
        text = entry.decode() if isinstance(entry, bytes) else str(entry)
        kind, _, metric = text.partition(":")
        if kind not in ("counter", "gauge"):
            continue
        family = families.setdefault((kind, metric), {})
        for field, value in metrics.values(kind, metric).items():
            family[_labelled(connection, field)] = value


def _sage_gauges(families: Families, connection: str, services: Services) -> None:
    """The connection's Sage gauges, as `/metrics` shows them for a single connection."""
    status = sage_status(services.redis, services.settings)
    needs = families.setdefault(("gauge", "bridge_sage_needs_login"), {})
    needs[label_field({"connection": connection})] = 1.0 if status.needs_login else 0.0
    circuit = families.setdefault(("gauge", "bridge_sage_circuit_state"), {})
    for state in CIRCUIT_STATES:
        field = label_field({"connection": connection, "state": state})
        circuit[field] = float(status.circuit.state == state)
    held = families.setdefault(("gauge", "bridge_events_held"), {})
    for gate, count in status.held.items():
        held[label_field({"connection": connection, "gate": gate})] = float(count)


def render_deployment(hub: ServicesHub) -> str:
    """The Prometheus page of every connection (see the module docstring).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    base = hub.base
    names = hub.names()
    if len(names) == 1:
        return base.metrics.render()
    families: Families = {}
    depths = families.setdefault(("gauge", "bridge_queue_depth"), {})
    for name in names:
        services = hub.services(name)
        if services is None:
            continue
        _collect(families, name, services.metrics, base.redis)
        _sage_gauges(families, name, services)
        for queue, length in services.events.queue_lengths().items():
            depths[label_field({"connection": name, "queue": queue})] = float(length)
    celery = float(base.redis.llen(base.settings.celery_queue))
    depths[label_field({"connection": "all", "queue": "celery"})] = celery
    lines: list[str] = []
    for (kind, metric), values in sorted(families.items()):
        lines.append(f"# HELP {metric} {HELP.get(metric, metric.replace('_', ' '))}")
        lines.append(f"# TYPE {metric} {kind}")
        for field in sorted(values):
            value = values[field]
            shown = str(int(value)) if value == int(value) else repr(value)
            lines.append(f"{metric}{{{field}}} {shown}")
    return "\n".join(lines) + "\n"
