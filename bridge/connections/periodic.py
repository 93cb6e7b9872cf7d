"""A registered connection's periodic work (the beat's `tasks.connections.tick` calls it).

What the environment's connection gets from its own beat entries, for one connection: the
ledger's sweep (stranded and due parked events back to its outbox), the outbound pump (due
deliveries claimed and handed to `deliver`), at most every `poll_interval` seconds
across all processes (a `SET NX EX` key) a Sage poll cycle handed to `poll`, and the
reconciliation job (a backfill of the last window) of a connection with a provider API key,
and the month-end job (`tasks.month.tick`).
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


def _due(services: Services, name: str, interval: float) -> bool:
    """True once per `interval` seconds across every process (a `SET NX EX` key)."""
    key = services.settings.key(name, "due")
    return bool(services.redis.set(key, "1", nx=True, ex=max(1, int(interval))))


def tick_connection(
    services: Services,
    deliver: Callable[[str], None],
    poll: Callable[[], None],
    poll_interval: float,
    reconcile: Callable[[], None] | None = None,
    queued_grace: float = 300.0,
    month_end: Callable[[], None] | None = None,
) -> TickResult:
    """Sweep, pump and (when due) poll for the connection `services` serve; and, when it
    has a provider API key and `BRIDGE_RECONCILE_INTERVAL` is on, hand `reconcile` the
    reconciliation job once per interval. `queued_grace`: how long a queued event waits
    before the sweep re-sends it (infinite while `bridge doctor` holds the connection).
    `month_end` (bank reconciliation, fee invoices: `bridge.month`) is handed on once per
    `BRIDGE_MONTH_END_INTERVAL`.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    swept = services.events.sweep(queued_grace=queued_grace)
    due = services.outbound.claim_due(limit=PUMP_BATCH)
    for delivery_id in due:
        deliver(delivery_id)
    polled = _due(services, "poll", poll_interval)
    if polled:
        poll()
    settings = services.settings
    api = settings.stripe_api_key or (
        settings.shopify_shop_domain and settings.shopify_access_token
    )
    interval = settings.reconcile_interval
    if reconcile is not None and api and interval > 0 and _due(services, "reconcile", interval):
        reconcile()
    every = settings.month_end_interval
    if month_end is not None and every > 0 and _due(services, "month-end", every):
        month_end()
    return TickResult(swept=swept, deliveries=len(due), poll=polled)
