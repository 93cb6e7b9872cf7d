"""The month-end job, every `BRIDGE_MONTH_END_INTERVAL` seconds (1 h; 0 turns it off):
booked payouts reconciled with their bank movements (`bridge.month.bank`), and, from day
`BRIDGE_CLOSE_MONTH_DAY` of a month with `BRIDGE_FEE_INVOICES` on, the previous month
closed (`bridge.month.close`) for each processor not closed yet.

One run at a time per connection (a lock; a run that finds it held returns "busy"). A run
that fails is logged and reported; the next one carries on from what Sage and Redis have.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from celery import Task

from bridge.month.bank import reconcile_payouts
from bridge.month.close import close_month
from bridge.month.fees import Month
from bridge.month.store import FINAL, MonthStore
from bridge.observability import log_context, report
from bridge.payouts.mapping import PROCESSORS
from bridge.services import ConfigurationError, Services
from bridge.sync.locks import LockBusy, OrderLock
from connectors.sage_active.errors import SageError
from tasks.app import app, get_services, services_for

log = logging.getLogger(__name__)
LEASE = 120.0


@app.task(bind=True, name="tasks.month.tick", ignore_result=True)  # type: ignore[untyped-decorator]
def tick(self: Task, connection: str | None = None, today: str | None = None) -> str:
    """One month-end run for `connection` (None: the environment's); `today` (ISO date)
    stands for the date (operators re-running a past day). "off", "busy", "ok", "failed"."""
    task_id = str(self.request.id or "local")
    with log_context(
        provider="month", event_id="month-end", task_id=task_id, connection=connection
    ):
        services = services_for(connection) if connection else get_services()
        if services is None:
            return "off"
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
        lock = OrderLock(
            services.redis, services.settings.key("lock", "month-end"), lease=LEASE, wait=0
        )
        try:
            with lock:
                run_month_end(services, day)
        except LockBusy:
            return "busy"
        except ConfigurationError as exc:
            log.info("month end off: %s", exc)
            return "off"
        except (SageError, redis.RedisError) as exc:
            log.warning("month end failed: %s", exc)
            report(exc)
            return "failed"
        return "ok"


def run_month_end(services: Services, day: dt.date) -> None:
    """The bank reconciliation, then the previous month's close when it is due.

    Raises:
        SageError, redis.RedisError, LockBusy: as `reconcile_payouts` / `close_month`.
    """
    tally = reconcile_payouts(services, day)
    log.info("month end: %s", tally.line())
    settings = services.settings
    if not settings.fee_invoices or not settings.close_month_day:
        return
    if day.day < settings.close_month_day:
        return
    month = Month.before(day)
    store = MonthStore(services.redis, settings)
    due = [
        p
        for p in PROCESSORS
        if (record := store.get(p, str(month))) is None or record.outcome not in FINAL
    ]
    if due:
        for record in close_month(services, month, due):
            log.info("month end: %s %s %s", record.processor, record.month, record.outcome)
