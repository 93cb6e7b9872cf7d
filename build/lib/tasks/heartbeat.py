"""The worker's heartbeat: a thread that says in Redis, every few seconds, "still alive".

Each worker process beats under its Celery hostname with a boot id drawn at import (in
the main process, before a prefork pool forks: its children share it). `process_event`
records `current_worker(hostname)` with each attempt; when a worker is SIGKILLed its key
expires after `BRIDGE_WORKER_HEARTBEAT_TTL` seconds and the sweep re-sends, at once, the
events it left `processing` (see `bridge.store.event_sweep`).

The first beat is written synchronously at `worker_init`, before the worker takes any
task; the thread starts at `worker_ready` (after the pool forked, like the outbox relay)
and the key is deleted at a clean shutdown.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import redis
from celery import signals

from bridge.services import redis_client
from bridge.store.workers import WorkerId, WorkerRegistry
from tasks.app import settings

log = logging.getLogger(__name__)

BOOT_ID = uuid.uuid4().hex  # this process's incarnation: tells a restart from the dead one


def current_worker(hostname: str | None) -> WorkerId | None:
    """The `WorkerId` of this process running as Celery worker `hostname` (None: no worker)."""
    return WorkerId(hostname=hostname, boot=BOOT_ID) if hostname else None


class Heartbeat(threading.Thread):
    """Refreshes one worker's heartbeat key every third of its TTL until stopped."""

    def __init__(self, worker: WorkerId, client: redis.Redis) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker = worker
        self._client = client
        self._registry = WorkerRegistry(client, settings)
        self._stop_event = threading.Event()

    def beat(self) -> None:
        """One beat; a Redis outage is logged, the next beat tries again."""
        try:
            self._registry.beat(self.worker)
        except redis.RedisError:
            log.warning("worker heartbeat: Redis unavailable, retrying", exc_info=True)

    def run(self) -> None:
        interval = settings.worker_heartbeat_ttl / 3
        while True:
            self.beat()
            if self._stop_event.wait(interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and drop the key: a clean exit leaves no event to wait for."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        try:
            self._registry.forget(self.worker)
        except redis.RedisError:
            log.warning("worker heartbeat: could not drop the key", exc_info=True)
        self._client.close()


_heartbeat: Heartbeat | None = None


def _first_beat(sender: Any = None, **_: Any) -> None:
    global _heartbeat
    worker = current_worker(getattr(sender, "hostname", None))
    if settings.redis_url and worker is not None and _heartbeat is None:
        _heartbeat = Heartbeat(worker, redis_client(settings))
        _heartbeat.beat()


def _start(**_: Any) -> None:
    if _heartbeat is not None and not _heartbeat.is_alive():
        _heartbeat.start()


def _stop(**_: Any) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None


signals.worker_init.connect(_first_beat, weak=False)
signals.worker_ready.connect(_start, weak=False)
signals.worker_shutdown.connect(_stop, weak=False)
