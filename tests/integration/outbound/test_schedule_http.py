"""The retry schedule against a real HTTP subscriber, with an injectable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.outbound.delivery import RETRY_SCHEDULE, Outbound
from bridge.outbound.events import EventType, SyncFailedData
from bridge.settings import Settings
from bridge.store.outbound import DeliveryStatus
from tests.support.outbound import FakeClock
from tests.support.subscriber import Subscriber

pytestmark = pytest.mark.integration

FAILED = SyncFailedData(
    event_ref="shopify:1", provider="shopify", topic="orders/create", reason="x"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbound(redis_url: str, clock: FakeClock) -> Iterator[Outbound]:
    settings = Settings(redis_url=redis_url, outbound_allow_private=True, outbound_timeout=2.0)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield Outbound(client, settings, clock=clock, rng=lambda: 0.5)
    client.close()


def emit_to(outbound: Outbound, url: str) -> str:
    outbound.create_subscription(url, ["sync.failed"])
    (delivery_id,) = outbound.event(outbound.emit(EventType.SYNC_FAILED, FAILED)).delivery_ids
    return delivery_id


def test_an_always_failing_subscriber_is_retried_on_schedule_then_dead(
    outbound: Outbound, clock: FakeClock, subscriber: Subscriber
) -> None:
    start = clock.now
    delivery_id = emit_to(outbound, subscriber.url("/redirect"))
    attempted_at = []
    for _ in range(len(RETRY_SCHEDULE)):
        (due,) = outbound.claim_due()
        attempt = outbound.attempt(due)
        assert attempt is not None
        assert attempt.status_code == 302
        attempted_at.append(clock.now - start)
        if attempt.next_attempt_at is not None:
            clock.now = attempt.next_attempt_at

    expected = [sum(RETRY_SCHEDULE[: i + 1]) for i in range(len(RETRY_SCHEDULE))]
    assert attempted_at == expected
    assert len(subscriber.received) == len(RETRY_SCHEDULE)
    assert len({r.headers["Webhook-Id"] for r in subscriber.received}) == 1
    assert outbound.delivery(delivery_id).status is DeliveryStatus.DEAD
    clock.now += 10**6
    assert outbound.claim_due() == []


def test_410_disables_the_subscription(
    outbound: Outbound, clock: FakeClock, subscriber: Subscriber
) -> None:
    delivery_id = emit_to(outbound, subscriber.url("/gone"))
    outbound.attempt(delivery_id)
    delivery = outbound.delivery(delivery_id)
    assert delivery.status is DeliveryStatus.DEAD
    assert not outbound.subscription(delivery.subscription_id).enabled


@pytest.mark.parametrize(("path", "wait"), [("/busy", 7.0), ("/down", 11.0)])
def test_retry_after_sets_the_next_attempt(
    outbound: Outbound, clock: FakeClock, subscriber: Subscriber, path: str, wait: float
) -> None:
    delivery_id = emit_to(outbound, subscriber.url(path))
    attempt = outbound.attempt(delivery_id)
    assert attempt is not None
    assert attempt.retry_after == wait
    assert outbound.delivery(delivery_id).next_attempt_at == clock.now + wait


def test_a_timeout_fails_the_attempt_and_schedules_the_next(
    redis_url: str, clock: FakeClock, subscriber: Subscriber
) -> None:
    settings = Settings(redis_url=redis_url, outbound_allow_private=True, outbound_timeout=0.3)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        outbound = Outbound(client, settings, clock=clock, rng=lambda: 0.5)
        delivery_id = emit_to(outbound, subscriber.url("/slow"))
        attempt = outbound.attempt(delivery_id)
        assert attempt is not None
        assert attempt.error == "timed out after 0.3 s"
        assert outbound.delivery(delivery_id).next_attempt_at == clock.now + RETRY_SCHEDULE[1]
    finally:
        client.close()
