"""The beat schedule: one entry per periodic task. Add yours here, one entry each.

Entries take the settings so intervals can follow configuration.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from bridge.settings import Settings
from bridge.store.alert_queue import alerts_enabled


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The Celery `beat_schedule` for these settings."""
    schedule: dict[str, dict[str, Any]] = {
        # Re-sends dropped relay hand-offs, stale queued events and due parked events.
        "ingest-sweep": {"task": "tasks.ingest.sweep", "schedule": 15.0},
        # The same (and the pump, and polls) for every registered connection.
        "connections-tick": {"task": "tasks.connections.tick", "schedule": 5.0},
        # Hands due outbound webhook deliveries to workers (each claimed once).
        "outbound-pump": {"task": "tasks.outbound.pump", "schedule": 2.0},
        # Sage invoice status changes -> outbound events; a tick not run in time is dropped.
        "sage-poll": {
            "task": "tasks.poll.poll",
            "schedule": settings.poll_interval,
            "options": {"expires": settings.poll_interval},
        },
        # `bridge doctor` again: lifts the hold on processing once the mapping is fixed.
        "doctor": {"task": "tasks.doctor.check", "schedule": 60.0, "options": {"expires": 60}},
    }
    if settings.month_end_interval > 0:
        # Payouts reconciled with the bank; the previous month's fee invoices when due.
        schedule["month-end"] = {
            "task": "tasks.month.tick",
            "schedule": settings.month_end_interval,
            "options": {"expires": settings.month_end_interval},
        }
    shopify = settings.shopify_shop_domain and settings.shopify_access_token
    if settings.reconcile_interval > 0 and (settings.stripe_api_key or shopify):
        # What the providers' APIs say happened lately and the webhooks did not bring.
        schedule["reconcile"] = {
            "task": "tasks.backfill.reconcile",
            "schedule": settings.reconcile_interval,
            "options": {"expires": settings.reconcile_interval},
        }
    if alerts_enabled(settings):
        # Operator alerts by e-mail / chat (bridge.ops.notify), and their daily digest.
        schedule["alerts-flush"] = {
            "task": "tasks.alerts.flush",
            "schedule": 10.0,
            "options": {"expires": 10},
        }
        if settings.alert_digest == "daily":
            schedule["alerts-digest"] = {
                "task": "tasks.alerts.digest",
                "schedule": crontab(minute=0, hour=settings.alert_digest_hour),
            }
    return schedule
