"""The reconciliation job: `bridge backfill` over the last `BRIDGE_RECONCILE_WINDOW` seconds
(48 h), every `BRIDGE_RECONCILE_INTERVAL` seconds (1 h; 0 turns it off).

Scheduled by beat only when a provider API is configured (`STRIPE_API_KEY`, or
`SHOPIFY_SHOP_DOMAIN` + `SHOPIFY_ACCESS_TOKEN`). One run at a time across the deployment: a
lock with a kept-alive lease (a run that finds it held returns "busy"). A run that fails
(provider or Redis unreachable) is logged and reported; the next tick reads the window again,
and what a run already queued stays queued, so there is nothing to retry here.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from celery import Task

from bridge.observability import log_context, report
from bridge.ops.backfill import Backfill, Reader, open_readers
from bridge.payouts import shopify as shopify_payouts
from bridge.services import Services
from bridge.sync.locks import LockBusy, OrderLock
from connectors.http import ProviderApiError
from tasks.app import app, get_services, services_for

log = logging.getLogger(__name__)
LEASE = 60.0  # seconds; kept alive while the run goes on


@app.task(bind=True, name="tasks.backfill.reconcile", ignore_result=True)  # type: ignore[untyped-decorator]
def reconcile(self: Task, connection: str | None = None) -> str:
    """Backfill the recent window of `connection` (None: the environment's): "off",
    "busy", "ok" or "failed"."""
    task_id = str(self.request.id or "local")
    with log_context(
        provider="backfill", event_id="reconcile", task_id=task_id, connection=connection
    ):
        services = services_for(connection) if connection else get_services()
        if services is None:
            return "off"  # the connection was removed
        settings = services.settings
        try:
            readers = open_readers(settings)
        except ValueError:
            return "off"  # no provider API configured
        lock = OrderLock(services.redis, settings.key("lock", "reconcile"), lease=LEASE, wait=0)
        try:
            with lock:
                _backfill_window(services, readers)
        except LockBusy:
            return "busy"
        except (ProviderApiError, redis.RedisError) as exc:
            log.warning("reconcile failed: %s", exc)
            report(exc)
            return "failed"
        finally:
            for reader in readers.values():
                reader.close()
        return "ok"


def _backfill_window(services: Services, readers: dict[str, Reader]) -> None:
    """Backfill the last `reconcile_window` seconds from each reader; count the outcomes.

    Raises:
        ProviderApiError, redis.RedisError: a provider or Redis failed.
    """
    until = dt.datetime.now(dt.UTC)
    since = until - dt.timedelta(seconds=services.settings.reconcile_window)
    runner = Backfill(services, progress=log.debug)
    for name, reader in readers.items():
        tally = runner.read(reader, since, until)
        for outcome, count in (("queued", tally.queued), ("known", tally.known)):
            labels = {"provider": name, "outcome": outcome}
            services.metrics.incr("bridge_backfill_events_total", labels, count)
        log.info("reconcile: %s", tally.line(name))
    if "shopify" in readers:
        _feed_shopify_payouts(services, since)


def _feed_shopify_payouts(services: Services, since: dt.datetime) -> None:
    """Shopify Payments payouts have no webhook: feed those of the window (bridge.payouts).

    Raises:
        ProviderApiError, redis.RedisError: Shopify or Redis failed.
    """
    reader = shopify_payouts.open_reader(services.settings)
    try:
        queued, known = shopify_payouts.feed_payouts(services, reader, since.date())
    finally:
        reader.close()
    for outcome, count in (("queued", queued), ("known", known)):
        labels = {"provider": "shopify_payments", "outcome": outcome}
        services.metrics.incr("bridge_backfill_events_total", labels, count)
    log.info("reconcile: shopify payments: %d payouts queued, %d known", queued, known)
