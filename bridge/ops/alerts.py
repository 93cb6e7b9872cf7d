"""The operator is told once when Sage stops taking the connection's tokens.

`Alerts.sage_needs_login` is the `on_needs_login` hook of the Sage client: the token
manager calls it in the one process that marks the connection "needs login" (a Redis
`SET NX`), so each outage is announced once however many workers see it: an error log
line, one Sentry report and one outbound `connection.auth_failed` event. The console
banner, the `/readyz` detail and the `bridge_sage_needs_login` gauge read the mark itself
(`bridge.ops.gates.sage_status`). Circuit transitions are logged. Both also queue an alert
for the operator's e-mail / chat (`bridge.ops.notify`), when configured.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

import redis
from pydantic import ValidationError

from bridge.observability import report
from bridge.outbound.events import ConnectionAuthFailedData, EventType
from bridge.outbound.subscriptions import OutboundError
from bridge.store.alert_queue import AlertKind, queue_alert
from connectors.sage_active.errors import SageAuthError

if TYPE_CHECKING:
    from collections.abc import Callable

    from bridge.outbound.delivery import Outbound
    from bridge.settings import Settings

log = logging.getLogger(__name__)


class Alerts:
    """Hooks of the Sage client that tell people what happened to the connection."""

    def __init__(
        self,
        settings: Settings,
        outbound: Callable[[], Outbound],
        client: redis.Redis | None = None,
    ) -> None:
        self._settings = settings
        self._outbound = outbound  # built on first use: most connections never need it
        self._redis = client  # where operator alerts are queued (none: not queued)

    def _alert(self, kind: AlertKind, title: str, detail: str, key: str) -> None:
        if self._redis is not None:
            queue_alert(self._redis, self._settings, kind, title, detail, key, "/console/")

    def sage_needs_login(self, reason: str) -> None:
        """Announce once that Sage refused the tokens (never raises: the caller is a
        request to Sage that must end with its own `SageAuthError`)."""
        settings = self._settings
        since = dt.datetime.now(dt.UTC)
        report(SageAuthError(f"Sage needs a new login (bridge sage-login): {reason}"))
        data = ConnectionAuthFailedData(
            connection=settings.connection,
            organization_id=settings.sage.organization_id,
            reason=reason,
            since=since.isoformat(),
        )
        self._alert(
            "needs_login",
            "Sage needs a new login",
            f"Sage refused the connection's token ({reason}). Run `bridge sage-login` "
            "(or set a new SAGE_REFRESH_TOKEN and restart): events wait, none fails.",
            key=f"needs_login:{since.timestamp():.0f}",
        )
        try:
            key = f"connection.auth_failed:{settings.connection}:{since.timestamp():.3f}"
            self._outbound().emit(EventType.CONNECTION_AUTH_FAILED, data, key=key)
        except (redis.RedisError, ValueError, ValidationError, OutboundError):
            log.exception("could not record the connection.auth_failed event")

    def sage_circuit(self, before: str, after: str) -> None:
        """Log the shared circuit breaker's transitions."""
        if after == "open":
            log.warning("Sage keeps failing: circuit open, events wait (was %s)", before)
            # one alert per connection and 10 minutes, however many processes see it open
            self._alert(
                "circuit_open",
                "Sage is unavailable (circuit open)",
                "Sage keeps failing: requests to it are paused and events wait; "
                "they go on by themselves once Sage answers.",
                key=f"circuit_open:{int(time.time() // 600)}",
            )
        else:
            log.warning("Sage answers again: circuit %s (was %s)", after, before)
