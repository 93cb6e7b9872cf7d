"""Real workers beat in Redis, and each attempt names the process that runs it.

The boot id recorded with an attempt must be the one the worker beats with, in every pool:
with prefork the task runs in a forked child, and a mismatch would make the sweep take a
live worker's event for an orphan.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from bridge.settings import Settings
from bridge.store.events import EventStore, NewEvent
from bridge.store.workers import WorkerRegistry
from tests.support.celery import WorkerHandle

pytestmark = pytest.mark.integration


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_an_attempt_records_the_boot_id_its_worker_beats_with(
    redis_url: str, start_worker: Callable[..., WorkerHandle], pool: str
) -> None:
    worker = start_worker(pool=pool, concurrency=2)
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        settings = Settings(REDIS_URL=redis_url)
        store = EventStore(client, settings)
        # no handler for this topic: the worker marks it ignored without calling Sage
        store.record(NewEvent(provider="stripe", provider_id="evt_hb", topic="x.y", body="{}"))
        wait_for(lambda: client.hget(store.event_key("stripe:evt_hb"), "status") == "ignored",
                 30, "the event processed")  # fmt: skip

        hostname, boot = client.hmget(store.event_key("stripe:evt_hb"), ["worker", "worker_boot"])
        assert hostname is not None
        assert hostname.startswith(worker.name.split("@")[0] + "@")
        registry = WorkerRegistry(client, settings)
        assert client.get(registry.key(hostname)) == boot  # the same process identity
        assert 0 < client.pttl(registry.key(hostname)) <= 30_000

        worker.stop()  # a clean shutdown drops the heartbeat
        assert client.exists(registry.key(hostname)) == 0
