"""A registered connection's periodic work (the beat's `tasks.connections.tick` calls it).

What the environment's connection gets from its own beat entries, for one connection: the
ledger's sweep (stranded and due parked events back to its outbox), the outbound pump (due
deliveries claimed and handed to `deliver`) and, at most every `poll_interval` seconds
across all processes (a `SET NX EX` key), a Sage poll cycle handed to `poll`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.services import Services
from bridge.store.event_models import SweepResult

PUMP_BATCH = 500


@dataclass(frozen=True)
class TickResult:
    swept: SweepResult
    deliveries: int
    poll: bool


def tick_connection(
    services: Services,
    deliver: Callable[[str], None],
    poll: Callable[[], None],
    poll_interval: float,
) -> TickResult:
    """Sweep, pump and (when due) poll for the connection `services` serve.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    swept = services.events.sweep()
    due = services.outbound.claim_due(limit=PUMP_BATCH)
    for delivery_id in due:
        deliver(delivery_id)
    key = services.settings.key("poll", "due")
    polled = bool(services.redis.set(key, "1", nx=True, ex=max(1, int(poll_interval))))
    if polled:
        poll()
    return TickResult(swept=swept, deliveries=len(due), poll=polled)
