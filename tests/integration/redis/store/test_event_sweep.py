"""The sweep on a real Redis: orphans of dead workers re-sent at once, retention, index trim."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
import redis

from bridge.settings import Settings
from bridge.store import event_sweep
from bridge.store.events import Attempt, EventStatus, EventStore, NewEvent
from bridge.store.workers import WorkerId, WorkerRegistry
from tests.support.clock import Clock

DAY_MS = 86_400_000
A = WorkerId(hostname="celery@a", boot="boot-a1")


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as made:
        yield made


def make_store(client: redis.Redis, clock: Clock, **settings: object) -> EventStore:
    return EventStore(client, Settings(REDIS_URL="redis://unused", **settings), clock=clock)


@pytest.fixture
def store(client: redis.Redis, clock: Clock) -> EventStore:
    return make_store(client, clock)


@pytest.fixture
def workers(client: redis.Redis, store: EventStore) -> WorkerRegistry:
    return WorkerRegistry(client, store._settings)


def taken(store: EventStore, n: int = 1, worker: WorkerId | None = A) -> str:
    """An event recorded, taken off the outbox, and marked processing by `worker`."""
    ref = f"stripe:evt_{n}"
    store.record(NewEvent(provider="stripe", provider_id=f"evt_{n}", topic="x", body="{}"))
    store._redis.lrem(store.outbox_key, 0, ref)
    begun = Attempt(task_id=f"t{n}", started_at=dt.datetime.now(dt.UTC))
    store.mark(ref, EventStatus.PROCESSING, attempt=("start", begun), worker=worker)
    return ref


def outbox(store: EventStore) -> list[str]:
    return store._redis.lrange(store.outbox_key, 0, -1)  # type: ignore[return-value]


def test_an_event_of_a_live_worker_is_left_alone_even_past_the_grace(
    store: EventStore, workers: WorkerRegistry, clock: Clock
) -> None:
    workers.beat(A)
    ref = taken(store)
    clock.now += 3600  # a long task: the worker still beats, so it is not re-run
    result = store.sweep(processing_grace=1800)
    assert (result.orphaned, result.stale) == (0, 0)
    assert store.get(ref).status == "processing"  # type: ignore[union-attr]
    assert outbox(store) == []


def test_an_orphan_is_resent_as_soon_as_its_worker_stops_beating(
    store: EventStore, workers: WorkerRegistry
) -> None:
    workers.beat(A)
    ref = taken(store)
    store._redis.delete(workers.key(A.hostname))  # its heartbeat expired: SIGKILLed

    result = store.sweep(processing_grace=1800)  # no time has passed: no grace needed

    assert result.orphaned == 1
    assert store.get(ref).status == "queued"  # type: ignore[union-attr]
    assert outbox(store) == [ref]
    assert store.sweep().orphaned == 0  # re-sent once


def test_a_restarted_worker_of_the_same_name_does_not_hide_the_orphan(
    store: EventStore, workers: WorkerRegistry
) -> None:
    ref = taken(store)
    workers.beat(WorkerId(hostname=A.hostname, boot="boot-a2"))  # new process, same name
    assert store.sweep().orphaned == 1
    assert outbox(store) == [ref]


def test_an_event_taken_by_another_worker_meanwhile_is_not_resent(store: EventStore) -> None:
    ref = taken(store)
    b = WorkerId(hostname="celery@b", boot="boot-b")
    store.mark(ref, EventStatus.PROCESSING, worker=b)  # b took it after a replay
    moved = store.mark(
        ref, EventStatus.QUEUED, requeue=True, allowed=(EventStatus.PROCESSING,), only_from=A
    )
    assert moved == EventStatus.PROCESSING  # skipped: the current status is returned
    assert store._redis.hget(store.event_key(ref), "worker") == "celery@b"
    assert outbox(store) == []


def test_an_event_with_no_worker_still_waits_for_the_long_grace(
    store: EventStore, clock: Clock
) -> None:
    ref = taken(store, worker=None)
    assert store.sweep(processing_grace=1800).stale == 0
    clock.now += 1801
    assert store.sweep(processing_grace=1800).stale == 1
    assert outbox(store) == [ref]


def test_the_attempt_and_record_name_the_worker(store: EventStore) -> None:
    ref = f"stripe:evt_{1}"
    store.record(NewEvent(provider="stripe", provider_id="evt_1", topic="x", body="{}"))
    begun = Attempt(task_id="t1", started_at=dt.datetime.now(dt.UTC), worker=A.hostname)
    store.mark(ref, EventStatus.PROCESSING, attempt=("start", begun), worker=A)
    record = store.get(ref)
    assert record is not None
    assert [a.worker for a in record.attempts] == ["celery@a"]
    fields = store._redis.hmget(store.event_key(ref), ["worker", "worker_boot"])
    assert fields == ["celery@a", "boot-a1"]


def test_a_heartbeat_expires_and_a_clean_exit_drops_only_its_own(
    client: redis.Redis, clock: Clock
) -> None:
    store = make_store(client, clock, BRIDGE_WORKER_HEARTBEAT_TTL=12)
    workers = WorkerRegistry(client, store._settings)
    workers.beat(A)
    assert 11_000 < client.pttl(workers.key(A.hostname)) <= 12_000
    assert workers.alive([A]) == {A}
    newer = WorkerId(hostname=A.hostname, boot="boot-a2")
    workers.beat(newer)
    workers.forget(A)  # the old process's shutdown must not erase the new one's beat
    assert workers.alive([A, newer]) == {newer}
    workers.forget(newer)
    assert workers.alive([newer]) == set()


@pytest.mark.parametrize("final", [EventStatus.PROCESSED, EventStatus.IGNORED])
def test_a_final_event_and_its_attempts_expire_after_the_retention(
    store: EventStore, final: EventStatus
) -> None:
    ref = taken(store)
    store.mark(ref, final, outcome=final.value)
    for key in (store.event_key(ref), store.attempts_key(ref)):
        assert 35 * DAY_MS - 60_000 < store._redis.pttl(key) <= 35 * DAY_MS


def test_failed_and_replayed_events_are_kept(store: EventStore) -> None:
    ref = taken(store)
    store.mark(ref, EventStatus.PROCESSED)
    store.requeue(ref)  # replayed: it is live again, no longer expiring
    assert store._redis.pttl(store.event_key(ref)) == -1
    assert store._redis.pttl(store.attempts_key(ref)) == -1
    store.mark(ref, EventStatus.FAILED, error="boom")  # a dead letter stays visible
    assert store._redis.pttl(store.event_key(ref)) == -1


def test_the_sweep_trims_expired_records_from_every_index(
    client: redis.Redis, clock: Clock
) -> None:
    # retention of ~50 ms (Redis expires for real), the store's clock moved past it
    store = make_store(client, clock, BRIDGE_EVENT_RETENTION_DAYS=0.05 / 86_400)
    done, failed = taken(store, 1), taken(store, 2)
    store.mark(done, EventStatus.PROCESSED, outcome="processed")
    store.mark(failed, EventStatus.FAILED, error="boom")
    time.sleep(0.2)
    assert store.get(done) is None  # expired by Redis
    assert store.counts()["processed"] == 1  # the index still has it until a sweep

    clock.now += 1
    assert store.sweep().trimmed == 1

    assert store.counts() == {**dict.fromkeys(store.counts(), 0), "failed": 1}
    page, _ = store.list()
    assert [e.ref for e in page] == [failed]
    assert store.get(failed) is not None


def test_events_ignored_on_receipt_are_dropped_after_the_retention(
    store: EventStore, clock: Clock
) -> None:
    ignored = NewEvent(
        provider="stripe", provider_id="evt_9", topic="x", body="{}", status=EventStatus.IGNORED
    )
    store.record(ignored)  # recorded as ignored: no status move gave it a TTL
    clock.now += 34 * 86_400
    assert store.sweep().trimmed == 0  # within the retention
    assert store.get(ignored.ref) is not None
    clock.now += 2 * 86_400
    assert store.sweep().trimmed == 1
    assert store.get(ignored.ref) is None
    assert store.counts()["ignored"] == 0


def test_the_trim_walks_past_kept_entries_over_several_sweeps(
    store: EventStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_sweep, "BATCH", 2)
    kept = [taken(store, n) for n in (1, 2, 3)]
    for ref in kept:
        store.mark(ref, EventStatus.FAILED, error="boom")
        clock.now += 1
    gone = taken(store, 4)
    store.mark(gone, EventStatus.PROCESSED)
    store._redis.delete(store.event_key(gone))  # as if it expired
    clock.now += 36 * 86_400

    first = store.sweep().trimmed  # the two oldest (failed) entries: nothing to drop
    second = store.sweep().trimmed  # the walk goes on from there

    assert (first, second) == (0, 1)
    assert sorted(e.ref for e in store.list()[0]) == sorted(kept)


def test_after_a_redis_restart_everything_in_flight_is_re_sent_at_once(
    client: redis.Redis, store: EventStore, clock: Clock
) -> None:
    for n in range(3):
        store.record(NewEvent(provider="stripe", provider_id=f"evt_r{n}", topic="x", body="{}"))
    assert store.resend_after_restart() == 0  # first sight of this server: nothing known
    taken = [store.next_for_relay(timeout=0.1) for _ in range(2)]  # relays took two...
    assert client.llen(store.inflight_key) == 2
    # ...when Redis restarted (a new run id): their hand-off broke with the connection.
    client.set(store._run_id_key, "the run id before the restart")
    assert store.resend_after_restart() == 2
    assert client.llen(store.inflight_key) == 0
    assert sorted(client.lrange(store.outbox_key, 0, -1)) == sorted(
        ["stripe:evt_r0", "stripe:evt_r1", "stripe:evt_r2"]
    )
    assert set(taken) <= {"stripe:evt_r0", "stripe:evt_r1", "stripe:evt_r2"}
    store.next_for_relay(timeout=0.1)
    assert store.resend_after_restart() == 0  # same server: in flight is being sent
    assert client.llen(store.inflight_key) == 1


def test_after_a_redis_restart_events_celery_held_are_re_sent_too(
    client: redis.Redis, store: EventStore, clock: Clock
) -> None:
    for name in ("evt_celery", "evt_running", "evt_waiting"):
        store.record(NewEvent(provider="stripe", provider_id=name, topic="x", body="{}"))
    store.resend_after_restart()  # the server is known
    # evt_celery and evt_running were handed to Celery (off every list); evt_running started.
    for ref in ("stripe:evt_celery", "stripe:evt_running"):
        client.lrem(store.outbox_key, 1, ref)
    store.mark("stripe:evt_running", EventStatus.PROCESSING, worker=A)
    client.set(store._run_id_key, "the run id before the restart")
    assert store.resend_after_restart() == 2
    assert sorted(client.lrange(store.outbox_key, 0, -1)) == [
        "stripe:evt_celery", "stripe:evt_running", "stripe:evt_waiting"
    ]  # fmt: skip
    record = store.get("stripe:evt_running")
    assert record is not None
    assert record.status is EventStatus.QUEUED
