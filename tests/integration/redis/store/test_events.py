"""The event ledger on a real Redis: record + queue atomically, statuses, pages, sweep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.settings import Settings
from bridge.store.events import Attempt, EventStatus, EventStore, NewEvent
from tests.support.clock import Clock


@pytest.fixture
def store(redis_url: str, clock: Clock) -> Iterator[EventStore]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield EventStore(client, Settings(REDIS_URL=redis_url), clock=clock)
    client.close()


def event(
    n: int = 1, provider: str = "stripe", topic: str = "charge.succeeded", **kw: str
) -> NewEvent:
    return NewEvent.model_validate(
        {
            "provider": provider,
            "provider_id": f"evt_{n}",
            "topic": topic,
            "body": f'{{"n": {n}}}',
            **kw,
        }
    )


def outbox(store: EventStore) -> list[str]:
    return store._redis.lrange(store.outbox_key, 0, -1)


def test_record_writes_the_event_and_queues_it(store: EventStore) -> None:
    assert store.record(event(headers={"Stripe-Signature": "t=1,v1=x"}))
    record = store.get("stripe:evt_1")
    assert record is not None
    assert (record.status, record.topic, record.body) == ("queued", "charge.succeeded", '{"n": 1}')
    assert record.headers == {"Stripe-Signature": "t=1,v1=x"}
    assert record.attempts == []
    assert outbox(store) == ["stripe:evt_1"]
    assert store.counts()["queued"] == 1


def test_duplicate_is_not_recorded_or_queued_twice(store: EventStore) -> None:
    assert store.record(event()) is True
    assert store.record(event()) is False
    assert outbox(store) == ["stripe:evt_1"]
    assert store.counts() == {s.value: int(s == "queued") for s in EventStatus}


def test_ignored_event_is_recorded_but_not_queued(store: EventStore) -> None:
    assert store.record(event(status="ignored"))
    assert store.get("stripe:evt_1").status == "ignored"
    assert outbox(store) == []


def test_list_filters_and_pages_newest_first(store: EventStore, clock: Clock) -> None:
    for n in range(1, 8):
        clock.now += 1
        provider, topic = ("shopify", "orders/create") if n % 2 else ("stripe", "invoice.paid")
        store.record(event(n, provider=provider, topic=topic))
    page, cursor = store.list(limit=3)
    assert [e.provider_id for e in page] == ["evt_7", "evt_6", "evt_5"]
    page2, cursor2 = store.list(limit=3, cursor=cursor)
    assert [e.provider_id for e in page2] == ["evt_4", "evt_3", "evt_2"]
    page3, cursor3 = store.list(limit=3, cursor=cursor2)
    assert [e.provider_id for e in page3] == ["evt_1"]
    assert cursor3 is None
    shopify, _ = store.list(provider="shopify")
    assert [e.provider_id for e in shopify] == ["evt_7", "evt_5", "evt_3", "evt_1"]
    paid, _ = store.list(topic="invoice.paid", limit=2)
    assert [e.provider_id for e in paid] == ["evt_6", "evt_4"]


def test_list_pages_through_events_received_at_the_same_instant(store: EventStore) -> None:
    for n in range(5):
        store.record(event(n))
    seen, cursor = [], None
    for _ in range(5):
        page, cursor = store.list(limit=2, cursor=cursor)
        seen += [e.ref for e in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"stripe:evt_{n}" for n in range(5))


def test_list_by_status_and_bad_cursor(store: EventStore) -> None:
    store.record(event(1))
    store.record(event(2, status="ignored"))
    page, _ = store.list(status=EventStatus.IGNORED)
    assert [e.ref for e in page] == ["stripe:evt_2"]
    with pytest.raises(ValueError, match="invalid cursor"):
        store.list(cursor="nonsense")


def test_mark_moves_status_records_attempts_and_counts(store: EventStore) -> None:
    store.record(event())
    started = Attempt(task_id="t1", started_at="2025-01-01T00:00:00Z")
    assert (
        store.mark("stripe:evt_1", EventStatus.PROCESSING, attempt=("start", started)) == "queued"
    )
    done = started.model_copy(
        update={"finished_at": started.started_at, "outcome": "failed", "error": "boom"}
    )
    store.mark(
        "stripe:evt_1", EventStatus.FAILED, error="boom", outcome="failed", attempt=("finish", done)
    )
    record = store.get("stripe:evt_1")
    assert record is not None
    assert (record.status, record.error) == ("failed", "boom")
    assert [(a.task_id, a.outcome, a.error) for a in record.attempts] == [("t1", "failed", "boom")]
    assert store.counts()["failed"] == 1
    assert store.counts()["queued"] == 0
    assert store._metrics.values("counter", "bridge_events_processed_total") == {
        'outcome="failed",provider="stripe",topic="charge.succeeded"': 1.0
    }


def test_mark_respects_allowed_statuses_and_unknown_refs(store: EventStore) -> None:
    store.record(event())
    store.mark("stripe:evt_1", EventStatus.PROCESSED)
    assert (
        store.mark("stripe:evt_1", EventStatus.PROCESSING, allowed=(EventStatus.QUEUED,))
        == "processed"
    )
    assert store.get("stripe:evt_1").status == "processed"
    assert store.mark("stripe:nope", EventStatus.PROCESSED) is None
    assert store.requeue("stripe:nope") is None


def test_requeue_puts_a_failed_event_back_on_the_outbox(store: EventStore) -> None:
    store.record(event())
    store._redis.delete(store.outbox_key)
    store.mark("stripe:evt_1", EventStatus.FAILED, error="boom")
    assert store.requeue("stripe:evt_1") == "failed"
    assert store.get("stripe:evt_1").status == "queued"
    assert outbox(store) == ["stripe:evt_1"]


def test_relay_moves_to_inflight_and_confirms(store: EventStore) -> None:
    store.record(event(1))
    store.record(event(2))
    assert store.next_for_relay(timeout=0.1) == "stripe:evt_1"  # oldest first
    assert store.queue_lengths() == {"outbox": 1, "inflight": 1, "parked": 0}
    store.relayed("stripe:evt_1")
    assert store.queue_lengths() == {"outbox": 1, "inflight": 0, "parked": 0}


def test_relay_waits_at_most_its_timeout_on_an_empty_outbox(store: EventStore) -> None:
    assert store.next_for_relay(timeout=0.1) is None


def test_sweep_resends_refs_left_in_flight_after_the_grace(store: EventStore, clock: Clock) -> None:
    store.record(event())
    store.next_for_relay(timeout=0.1)  # a relay took it, then died before sending
    assert store.sweep(inflight_grace=60).inflight == 0  # first sighting
    clock.now += 61
    assert store.sweep(inflight_grace=60).inflight == 1
    assert outbox(store) == ["stripe:evt_1"]
    assert store.queue_lengths()["inflight"] == 0


def test_sweep_resends_parked_events_when_due(store: EventStore, clock: Clock) -> None:
    store.record(event())
    store._redis.delete(store.outbox_key)
    store.mark("stripe:evt_1", EventStatus.PARKED, error="waiting for order", retry_in=30)
    record = store.get("stripe:evt_1")
    assert record is not None
    assert record.due_at is not None
    assert store.sweep().parked == 0
    clock.now += 31
    assert store.sweep().parked == 1
    assert store.get("stripe:evt_1").status == "queued"
    assert outbox(store) == ["stripe:evt_1"]
    assert store.queue_lengths()["parked"] == 0


def test_sweep_resends_events_queued_for_too_long_once_per_grace(
    store: EventStore, clock: Clock
) -> None:
    store.record(event())
    store._redis.delete(store.outbox_key)  # the hand-off was lost somewhere
    assert store.sweep(queued_grace=300).stale == 0
    clock.now += 301
    assert store.sweep(queued_grace=300).stale == 1
    assert store.sweep(queued_grace=300).stale == 0  # not again before another grace
    assert outbox(store) == ["stripe:evt_1"]


def test_sweep_resends_events_stuck_processing(store: EventStore, clock: Clock) -> None:
    store.record(event())
    store._redis.delete(store.outbox_key)
    store.mark("stripe:evt_1", EventStatus.PROCESSING)  # its worker was killed
    assert store.sweep(processing_grace=1800).stale == 0
    clock.now += 1801
    assert store.sweep(processing_grace=1800).stale == 1
    assert store.get("stripe:evt_1").status == "queued"
    assert outbox(store) == ["stripe:evt_1"]
