"""Counters and gauges kept in Redis, rendered as Prometheus text at `/metrics`.

They live in Redis hashes rather than in process memory so that every web and worker
process, on any machine, adds to the same numbers, and a scrape of any web process sees
the whole deployment. One hash per metric (`metrics:counter:<name>` or
`metrics:gauge:<name>`), one field per label set (`provider="shopify",topic="orders/create"`),
and a set `metrics:names` that lists them for rendering.

Hot paths that already talk to Redis (the ingress's Lua call, the event store's status
updates) count inside that same call with `counter_key` / `label_field`, so counting costs
no extra round trip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import redis

from bridge.settings import Settings

_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

HELP: dict[str, str] = {
    "bridge_events_received_total": "Webhook deliveries accepted, by provider and topic.",
    "bridge_events_duplicate_total": "Duplicate webhook deliveries, by provider.",
    "bridge_events_processed_total": "Event processing outcomes, by provider, topic, outcome.",
    "bridge_outbound_deliveries_total": "Outbound webhook attempts, by outcome.",
    "bridge_unlinked_payments_total": "Payments linked to nothing the bridge books, ignored.",
    "bridge_queue_depth": "Work waiting: outbox, relay in-flight, Celery queue, parked events.",
    "bridge_sage_needs_login": "1 while Sage refuses the connection's tokens (bridge sage-login).",
    "bridge_sage_circuit_state": "The shared Sage circuit breaker: 1 for its current state.",
    "bridge_events_held": "Events waiting for Sage (a login, or its circuit to close), by gate.",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def label_field(labels: Mapping[str, str]) -> str:
    """The hash field for a label set: `a="x",b="y"` with keys sorted, values escaped.

    Raises:
        ValueError: a label name is not a valid Prometheus label name.
    """
    for name in labels:
        if not _LABEL_RE.match(name):
            raise ValueError(f"invalid metric label name {name!r}")
    return ",".join(f'{k}="{_escape(str(labels[k]))}"' for k in sorted(labels))


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid metric name {name!r}")
    return name


class Metrics:
    """Deployment-wide counters and gauges in Redis."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._names_key = settings.key("metrics", "names")
        # Gauges measured at scrape time (e.g. queue lengths), registered by their owners.
        self._collectors: dict[str, Callable[[], Mapping[str, float]]] = {}

    def counter_key(self, name: str) -> str:
        """The Redis hash holding counter `name` (for counting inside a script or pipeline)."""
        return self._settings.key("metrics", "counter", _check_name(name))

    def gauge_key(self, name: str) -> str:
        return self._settings.key("metrics", "gauge", _check_name(name))

    @property
    def names_key(self) -> str:
        return self._names_key

    def incr(self, name: str, labels: Mapping[str, str] | None = None, value: int = 1) -> None:
        """Add `value` to counter `name{labels}` (one pipelined round trip).

        Raises:
            ValueError: invalid metric or label name.
            redis.RedisError: Redis is unreachable.
        """
        field = label_field(labels or {})
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(self.counter_key(name), field, value)
        pipe.sadd(self._names_key, f"counter:{name}")
        pipe.execute()

    def set_gauge(self, name: str, labels: Mapping[str, str] | None, value: float) -> None:
        """Set gauge `name{labels}` to `value`.

        Raises:
            ValueError: invalid metric or label name.
            redis.RedisError: Redis is unreachable.
        """
        field = label_field(labels or {})
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(self.gauge_key(name), field, repr(float(value)))
        pipe.sadd(self._names_key, f"gauge:{name}")
        pipe.execute()

    def collector(self, name: str, measure: Callable[[], Mapping[str, float]]) -> None:
        """Register a gauge measured at scrape time: `measure()` -> {label field: value}."""
        self._collectors[_check_name(name)] = measure

    def values(self, kind: str, name: str) -> dict[str, float]:
        """Current values of one metric, by label field (for tests and the console)."""
        key = self.counter_key(name) if kind == "counter" else self.gauge_key(name)
        raw: dict[str, str] = self._redis.hgetall(key)  # type: ignore[assignment]
        return {field: float(value) for field, value in raw.items()}

    def render(self) -> str:
        """All metrics in the Prometheus text exposition format (version 0.0.4).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        names: set[str] = self._redis.smembers(self._names_key)  # type: ignore[assignment]
        lines: list[str] = []
        for entry in sorted(names):
            kind, _, name = entry.partition(":")
            if kind not in ("counter", "gauge") or not _NAME_RE.match(name):
                continue
            self._render_one(lines, kind, name, self.values(kind, name))
        for name, measure in sorted(self._collectors.items()):
            self._render_one(lines, "gauge", name, dict(measure()))
        return "\n".join(lines) + "\n"

    @staticmethod
    def _render_one(lines: list[str], kind: str, name: str, values: Mapping[str, float]) -> None:
        lines.append(f"# HELP {name} {HELP.get(name, name.replace('_', ' '))}")
        lines.append(f"# TYPE {name} {kind}")
        for field in sorted(values):
            value = values[field]
            shown = str(int(value)) if value == int(value) else repr(value)
            lines.append(f"{name}{{{field}}} {shown}" if field else f"{name} {shown}")
