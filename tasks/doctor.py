"""`bridge doctor` in the worker: at start (before the relay hands over the first event),
every minute from beat, and the hold it puts on processing while the mapping is wrong.

The report is kept in Redis (`bridge.ops.doctor.DoctorStore`). While it holds (a code of the
mapping that Sage does not have), the outbox relay hands no event to Celery and
`process_event` puts back on the outbox any event it meets (`hold_message`), so events wait
`queued`, with no attempt spent, instead of failing one by one. The next run that finds the
mapping fixed (beat's, or `bridge doctor` by hand) lifts the hold.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from bridge.ops.doctor import DoctorStore, Report, diagnose
from bridge.services import Services
from tasks.app import app, get_services

log = logging.getLogger(__name__)

HOLD_CACHE_SECONDS = 2.0  # how stale a process's view of the hold may be
START_WAIT = 60.0  # the relay waits this long at most for the first check (Sage may hang)

_cache: tuple[float, str] = (float("-inf"), "")
_cache_lock = threading.Lock()


def check_and_store(services: Services) -> Report:
    """Run the checks, keep the report, log a change of the hold.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    global _cache
    store = DoctorStore(services.redis, services.settings)
    before = store.hold_message()
    report = diagnose(services, fresh=bool(before))
    store.save(report)
    after = report.hold_message()
    if after and after != before:
        log.error("processing held until the mapping is fixed: %s", after)
    elif before and not after:
        log.warning("mapping fixed: processing resumes")
    with _cache_lock:
        _cache = (time.monotonic(), after)
    return report


def hold_message(services: Services) -> str:
    """What holds processing now ('' if nothing), read from Redis at most every 2 s.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    global _cache
    with _cache_lock:
        at, message = _cache
        if time.monotonic() - at < HOLD_CACHE_SECONDS:
            return message
    message = DoctorStore(services.redis, services.settings).hold_message()
    with _cache_lock:
        _cache = (time.monotonic(), message)
    return message


def first_check(services: Services, wait: float = START_WAIT) -> None:
    """The check at worker start, waited for up to `wait` s (then it goes on alone)."""

    def run() -> None:
        try:
            report = check_and_store(services)
        except redis.RedisError:
            log.warning("bridge doctor at start: Redis unavailable", exc_info=True)
            return
        errors = [f"{f.check}: {f.detail}" for f in report.errors]
        if errors:
            log.error("bridge doctor at start: %s", "; ".join(errors))
        else:
            log.info("bridge doctor at start: ready (%d warning(s))", len(report.warnings))

    thread = threading.Thread(target=run, name="doctor-at-start", daemon=True)
    thread.start()
    thread.join(wait)


@app.task(name="tasks.doctor.check")  # type: ignore[untyped-decorator]
def check() -> dict[str, int]:
    """Beat's periodic re-check: lifts the hold once the mapping is fixed."""
    report = check_and_store(get_services())
    return {
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "holding": len(report.holding),
    }
