"""`bridge doctor` in the worker: at start (before the relay hands over the first event),
every minute from beat, and the hold it puts on processing while the mapping is wrong.

Every enabled connection is checked, each with its own `Services` (its mapping, its Sage
organisation), and its report is kept in Redis under its own key
(`bridge.ops.doctor.DoctorStore`, `bridge:<connection>:doctor`). The checks of the
connections run side by side, so one whose Sage hangs delays neither the others nor the
worker's start beyond one bound, and one that fails (Sage unreachable, secrets that cannot
be decrypted) does not stop the others'.

While a connection's report holds (a code of its mapping that its Sage does not have), the
outbox relay hands none of its events to Celery and `process_event` puts back on the outbox
any of its events it meets (`hold_message`), so they wait `queued`, with no attempt spent,
instead of failing one by one; the other connections go on. The next run that finds the
mapping fixed (beat's, or `bridge doctor` by hand) lifts that connection's hold.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from bridge.connections.hub import ServicesHub
from bridge.observability import log_context, report
from bridge.ops.doctor import DoctorStore, Report, diagnose
from bridge.services import Services
from tasks.app import app, get_hub

log = logging.getLogger(__name__)

HOLD_CACHE_SECONDS = 2.0  # how stale a process's view of a connection's hold may be
START_WAIT = 60.0  # the relay waits this long at most for the first checks (Sage may hang)
CHECK_WAIT = 50.0  # beat's run waits this long at most for every connection's check

# connection -> (when read, its hold message)
_cache: dict[str, tuple[float, str]] = {}
_cache_lock = threading.Lock()


def _remember(connection: str, message: str) -> None:
    with _cache_lock:
        _cache[connection] = (time.monotonic(), message)


def check_and_store(services: Services) -> Report:
    """Run the checks for the connection `services` serve, keep its report, log a change
    of its hold.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    store = DoctorStore(services.redis, services.settings)
    before = store.hold_message()
    found = diagnose(services, fresh=bool(before))
    store.save(found)
    after = found.hold_message()
    name = services.settings.connection
    if after and after != before:
        log.error("processing of %s held until the mapping is fixed: %s", name, after)
    elif before and not after:
        log.warning("mapping of %s fixed: processing resumes", name)
    _remember(name, after)
    return found


def hold_message(services: Services) -> str:
    """What holds the processing of the connection `services` serve now ('' if nothing),
    read from Redis at most every 2 s per connection.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    name = services.settings.connection
    with _cache_lock:
        at, message = _cache.get(name, (float("-inf"), ""))
        if time.monotonic() - at < HOLD_CACHE_SECONDS:
            return message
    message = DoctorStore(services.redis, services.settings).hold_message()
    _remember(name, message)
    return message


def _check_one(hub: ServicesHub, name: str) -> Report | None:
    """`name`'s check, stored; None if it could not run (logged: the others go on)."""
    with log_context(connection=name):
        try:
            services = hub.services(name)
            if services is None:
                return None
            return check_and_store(services)
        except Exception as exc:  # one connection's failure must not stop the others'
            log.warning("bridge doctor of %s could not run: %s", name, exc, exc_info=True)
            report(exc)
            return None


def check_connections(hub: ServicesHub, wait: float) -> dict[str, Report]:
    """Check every enabled connection, side by side; wait at most `wait` s in all (a check
    still running then goes on alone and stores its report when done).

    Returns the reports of the checks done in time.

    Raises:
        redis.RedisError: Redis is unreachable (reading the registry).
    """
    names = [name for name in hub.names() if hub.enabled(name)]
    reports: dict[str, Report] = {}

    def run(name: str) -> None:
        found = _check_one(hub, name)
        if found is not None:
            reports[name] = found

    threads = [
        threading.Thread(target=run, args=(name,), name=f"doctor-{name}", daemon=True)
        for name in names
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + wait
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return dict(reports)


def first_check(hub: ServicesHub, wait: float = START_WAIT) -> None:
    """The checks at worker start, every connection's together, waited for up to `wait` s
    in all (then they go on alone)."""
    try:
        reports = check_connections(hub, wait)
    except redis.RedisError:
        log.warning("bridge doctor at start: Redis unavailable", exc_info=True)
        return
    for name, found in reports.items():
        errors = [f"{f.check}: {f.detail}" for f in found.errors]
        if errors:
            log.error("bridge doctor of %s at start: %s", name, "; ".join(errors))
        else:
            log.info(
                "bridge doctor of %s at start: ready (%d warning(s))", name, len(found.warnings)
            )


@app.task(name="tasks.doctor.check")  # type: ignore[untyped-decorator]
def check() -> dict[str, int]:
    """Beat's periodic re-check of every enabled connection: lifts a connection's hold once
    its mapping is fixed."""
    reports = check_connections(get_hub(), CHECK_WAIT)
    return {
        "connections": len(reports),
        "errors": sum(len(r.errors) for r in reports.values()),
        "warnings": sum(len(r.warnings) for r in reports.values()),
        "holding": sum(1 for r in reports.values() if r.holding),
    }
