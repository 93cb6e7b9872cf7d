"""The gate probe: every few seconds, let events held by a Sage outage go again.

Each worker runs it in a thread (`GateProbe`, started when the worker is ready, like the
outbox relay), so recovery needs nothing but a worker. `bridge.ops.gates.check` tries the token
while the connection needs a login, releases the held events when a token works, one probe
event when the circuit is half-open, and all of them when it has closed. Several workers
probing at once is harmless: each step is atomic in Redis (a token refresh is taken by one
process, a held event is popped by one, one probe turn per cool-down).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import signals

from bridge.connections.secrets import SecretKeyError
from bridge.observability import log_context
from bridge.ops.gates import check
from bridge.services import ConfigurationError, Services
from tasks.app import get_hub, services_for, settings

log = logging.getLogger(__name__)


def probe_once(services: Services) -> dict[str, int]:
    """One probe; events released by gate (empty when Redis or Sage is not configured)."""
    with log_context(provider="sage", event_id="gate"):
        try:
            released = check(services.gates, services.sage.client)
        except (redis.RedisError, ConfigurationError) as exc:
            log.warning("gate probe skipped: %s", exc)
            return {}
        if any(released.values()):
            log.info("gate probe released %s", released)
        return released


class GateProbe(threading.Thread):
    """Runs `probe_once` every `BRIDGE_SAGE_PROBE_INTERVAL` seconds until stopped."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="sage-gate-probe", daemon=True)
        self._interval = interval
        self._stop_event = threading.Event()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            probe_all()


def probe_all() -> None:
    """`probe_once` for every connection: each has its own token and circuit."""
    try:
        names = get_hub().names()
    except (redis.RedisError, ConfigurationError) as exc:
        log.warning("gate probe skipped: %s", exc)
        return
    for name in names:
        try:
            services = services_for(name)
        except (redis.RedisError, SecretKeyError) as exc:
            log.warning("gate probe of connection %s skipped: %s", name, exc)
            continue
        if services is not None:
            with log_context(connection=name):
                probe_once(services)


_probe: GateProbe | None = None


def _start_probe(**_: Any) -> None:
    global _probe
    if settings.redis_url and settings.sage.api_url and _probe is None:
        _probe = GateProbe(settings.sage_probe_interval)
        _probe.start()


def _stop_probe(**_: Any) -> None:
    global _probe
    if _probe is not None:
        _probe.stop()
        _probe = None


signals.worker_ready.connect(_start_probe, weak=False)
signals.worker_shutdown.connect(_stop_probe, weak=False)
