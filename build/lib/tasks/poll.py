"""The poller's beat task: one cycle under the lease lock, every `BRIDGE_POLL_INTERVAL` s.

Thin: the lock, the cycle and its rules live in `bridge.poller.cycle`. A cycle that fails (Sage
or Redis unreachable) is logged and reported; the next beat tick simply tries again from the
watermark, so there is nothing to retry here.
"""

from __future__ import annotations

import logging
from functools import partial

import redis
from celery import Task

from bridge.observability import log_context, report
from bridge.poller.cycle import LockLost, poll_once
from bridge.poller.writeback import request_mark_paid
from connectors.sage_active.errors import SageAuthError, SageCircuitOpen, SageError
from tasks.app import app, get_services

log = logging.getLogger(__name__)


@app.task(bind=True, name="tasks.poll.poll", ignore_result=True)  # type: ignore[untyped-decorator]
def poll(self: Task) -> str:
    """Run one polling cycle: "busy" (another poller holds the lock), "ok" or "failed"."""
    task_id = str(self.request.id or "local")
    with log_context(provider="sage", event_id="poll", task_id=task_id):
        services = get_services()
        hook = None
        if services.settings.shopify_write_back:
            hook = partial(request_mark_paid, services)
        try:
            result = poll_once(services, services.sage, hook)
        except (SageError, redis.RedisError, LockLost) as exc:
            log.warning("poll cycle failed: %s", exc)
            if not _outage(exc):  # announced once already (bridge.ops.alerts), not per cycle
                report(exc)
            return "failed"
        if result is None:
            return "busy"
        if result.changes:
            log.info(
                "poll: %d changes, %d events, watermark %s",
                result.changes,
                len(result.emitted),
                result.watermark,
            )
        return "ok"


def _outage(exc: BaseException) -> bool:
    """Sage needs a login or its circuit is open: the gates handle it."""
    return isinstance(exc, SageCircuitOpen) or (isinstance(exc, SageAuthError) and exc.needs_login)
