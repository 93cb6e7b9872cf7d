"""The gate probe: every few seconds, let events held by a Sage outage go again.

Thin: `bridge.gates.check` tries the token while the connection needs a login, releases
the held events when a token works, one probe event when the circuit is half-open, and
all of them when it has closed.
"""

from __future__ import annotations

import logging

import redis

from bridge.gates import check
from bridge.observability import log_context
from bridge.services import ConfigurationError
from tasks.app import app, get_services

log = logging.getLogger(__name__)


@app.task(name="tasks.gate.probe", ignore_result=True)  # type: ignore[untyped-decorator]
def probe() -> dict[str, int]:
    """Open the gates that may open; events released by gate (empty when it could not)."""
    with log_context(provider="sage", event_id="gate"):
        try:
            released = check(get_services())
        except (redis.RedisError, ConfigurationError) as exc:
            log.warning("gate probe skipped: %s", exc)
            return {}
        if any(released.values()):
            log.info("gate probe released %s", released)
        return released
