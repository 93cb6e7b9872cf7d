"""Worker heartbeats: which Celery workers are alive, so their orphaned events are re-sent.

Keys (under `bridge:<connection>:`):
    worker:<hostname>      string: the boot id of the process running as that worker, with a
                           TTL (`settings.worker_heartbeat_ttl`) refreshed by the worker

A worker is a `WorkerId`: its Celery hostname plus a boot id drawn when the process starts.
The boot id tells a restarted worker (same hostname, new process) from the one that died:
an event taken by the dead process is orphaned even though a worker of that name beats.
A worker SIGKILLed mid-task stops beating; once its key expires, the sweep re-sends the
events it left `processing` (`EventStore.sweep`).
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from pydantic import BaseModel, ConfigDict, Field

from bridge.settings import Settings

# KEYS: worker key. ARGV: boot id. Deletes the key only if this process still owns it.
FORGET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WorkerId(BaseModel):
    """One worker process: its Celery hostname and the boot id of this process."""

    model_config = ConfigDict(frozen=True)

    hostname: str = Field(min_length=1, max_length=255)
    boot: str = Field(min_length=1, max_length=64)


class WorkerRegistry:
    """Heartbeats of the workers of this connection."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._forget = client.register_script(FORGET)

    def key(self, hostname: str) -> str:
        return self._settings.key("worker", hostname)

    def beat(self, worker: WorkerId) -> None:
        """Say `worker` is alive for the next `worker_heartbeat_ttl` seconds.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        ttl_ms = int(self._settings.worker_heartbeat_ttl * 1000)
        self._redis.set(self.key(worker.hostname), worker.boot, px=ttl_ms)

    def forget(self, worker: WorkerId) -> None:
        """Drop `worker`'s heartbeat at a clean shutdown (unless a newer process owns it).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        self._forget(keys=[self.key(worker.hostname)], args=[worker.boot])

    def alive(self, workers: Iterable[WorkerId]) -> set[WorkerId]:
        """Those of `workers` whose process still beats.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        wanted = list(dict.fromkeys(workers))
        if not wanted:
            return set()
        boots = self._redis.mget([self.key(w.hostname) for w in wanted])
        return {w for w, boot in zip(wanted, boots, strict=True) if boot == w.boot}
