"""The worker's heartbeat thread on a real Redis: beats with a TTL, drops its key on stop."""

from __future__ import annotations

import time

import redis

from bridge.store.workers import WorkerRegistry
from tasks.app import settings
from tasks.heartbeat import BOOT_ID, Heartbeat, current_worker


def test_the_thread_keeps_the_key_alive_and_drops_it_on_stop(redis_url: str) -> None:
    worker = current_worker("celery@test-heartbeat")
    assert worker is not None
    assert worker.boot == BOOT_ID
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        key = WorkerRegistry(client, settings).key(worker.hostname)
        heartbeat = Heartbeat(worker, redis.Redis.from_url(redis_url, decode_responses=True))
        heartbeat.start()
        try:
            deadline = time.monotonic() + 5
            while client.get(key) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert client.get(key) == BOOT_ID
            ttl_ms = client.pttl(key)
            assert 0 < ttl_ms <= settings.worker_heartbeat_ttl * 1000
        finally:
            heartbeat.stop()
        assert not heartbeat.is_alive()
        assert client.exists(key) == 0


def test_no_hostname_means_no_worker() -> None:
    assert current_worker(None) is None
    assert current_worker("") is None
