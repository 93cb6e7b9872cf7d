"""Processing an event: outcomes recorded in the ledger (in-process), and a real worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import EventRecord, NewEvent
from bridge.sync import dispatch
from bridge.sync.dispatch import (
    Ignored,
    Outcome,
    Parked,
    PermanentError,
    Processed,
    TransientError,
    handler,
    run_event,
)
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.webhooks import STRIPE_SECRET, stripe_event, stripe_headers

pytestmark = pytest.mark.integration
TOPIC = "test.event"


@pytest.fixture
def services(redis_url: str) -> Iterator[Services]:
    built = build_services(
        Settings(REDIS_URL=redis_url, STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, BRIDGE_ADMIN_TOKEN="t")
    )
    yield built
    built.close()


@pytest.fixture
def register() -> Iterator[Callable[[Callable[[EventRecord, Services], Outcome]], None]]:
    def add(func: Callable[[EventRecord, Services], Outcome]) -> None:
        handler("stripe", TOPIC)(func)

    yield add
    dispatch._HANDLERS.pop(("stripe", TOPIC), None)


def recorded(services: Services, n: int = 1) -> str:
    event = NewEvent(provider="stripe", provider_id=f"evt_{n}", topic=TOPIC, body="{}")
    services.events.record(event)
    return event.ref


def test_processed(services: Services, register: Callable[..., None]) -> None:
    register(lambda event, _: Processed(f"invoice for {event.ref}"))
    ref = recorded(services)
    result = run_event(services, ref, "task-1")
    assert (result.status, result.detail) == ("processed", "invoice for stripe:evt_1")
    record = services.events.get(ref)
    assert record is not None
    assert record.status == "processed"
    assert [(a.task_id, a.outcome) for a in record.attempts] == [("task-1", "processed")]
    assert record.attempts[0].finished_at is not None
    # Idempotent: a second delivery of the same task does nothing.
    assert run_event(services, ref, "task-2").status == "skipped"
    assert len(services.events.get(ref).attempts) == 1  # type: ignore[union-attr]


def test_no_handler_means_ignored(services: Services) -> None:
    ref = recorded(services)
    assert run_event(services, ref, "t").status == "ignored"
    assert services.events.get(ref).status == "ignored"  # type: ignore[union-attr]


def test_parked_waits_in_the_parked_set(services: Services, register: Callable[..., None]) -> None:
    register(lambda *_: Parked(retry_in=30, reason="order not there yet"))
    ref = recorded(services)
    assert run_event(services, ref, "t").status == "parked"
    record = services.events.get(ref)
    assert record is not None
    assert (record.status, record.error) == ("parked", "order not there yet")
    assert services.events.queue_lengths()["parked"] == 1


def test_transient_error_asks_for_a_bounded_retry(
    services: Services, register: Callable[..., None]
) -> None:
    def flaky(*_: object) -> Outcome:
        raise TransientError("Sage 503", retry_in=7)

    register(flaky)
    ref = recorded(services)
    result = run_event(services, ref, "t", retries=0)
    assert result.status == "queued"
    assert result.retry_in is not None
    assert 7 <= result.retry_in <= dispatch.RETRY_CAP
    record = services.events.get(ref)
    assert record is not None
    assert (record.status, record.error, record.attempts[-1].outcome) == (
        "queued",
        "Sage 503",
        "retry",
    )
    last = run_event(services, ref, "t", retries=dispatch.MAX_ATTEMPTS - 1)
    assert (last.status, last.retry_in) == ("failed", None)
    assert "gave up after 8" in services.events.get(ref).error  # type: ignore[union-attr, operator]


def test_retry_delay_backs_off_with_jitter_and_is_bounded() -> None:
    low = [dispatch.retry_delay(n, None, lambda: 0.0) for n in range(12)]
    high = [dispatch.retry_delay(n, None, lambda: 1.0) for n in range(12)]
    assert low[:3] == [2.5, 5.0, 10.0]
    assert high[:3] == [5.0, 10.0, 20.0]
    assert max(high) == dispatch.RETRY_CAP
    assert dispatch.retry_delay(0, 60, lambda: 0.5) == 60.5


def test_permanent_error_dead_letters(services: Services, register: Callable[..., None]) -> None:
    def refuse(*_: object) -> Outcome:
        raise PermanentError("global.businessErrors.customerUnknown")

    register(refuse)
    ref = recorded(services)
    assert run_event(services, ref, "t").status == "failed"
    record = services.events.get(ref)
    assert record is not None
    assert (record.status, record.error) == ("failed", "global.businessErrors.customerUnknown")


def test_a_dead_lettered_event_is_announced_as_sync_failed(
    services: Services, register: Callable[..., None]
) -> None:
    # Given a subscriber to sync.failed (a real URL check, so an https name that resolves)
    sub, _ = services.outbound.create_subscription("https://93.184.215.14/hooks", ["sync.failed"])

    def refuse(*_: object) -> Outcome:
        raise PermanentError("global.businessErrors.customerUnknown")

    register(refuse)
    ref = recorded(services)
    # When the event is dead-lettered
    assert run_event(services, ref, "t").status == "failed"
    # Then one sync.failed delivery is due for the subscriber, carrying the reason
    (delivery,) = services.outbound.deliveries(subscription=sub.id)
    assert delivery.event_type == "sync.failed"
    body = json.loads(services.outbound.event(delivery.event_id).body)
    assert body["data"] == {
        "event_ref": ref,
        "provider": "stripe",
        "topic": TOPIC,
        "reason": "global.businessErrors.customerUnknown",
    }


def test_a_bug_is_recorded_as_failed_and_raised(
    services: Services, register: Callable[..., None]
) -> None:
    def bug(*_: object) -> Outcome:
        raise KeyError("oops")

    register(bug)
    ref = recorded(services)
    with pytest.raises(KeyError):
        run_event(services, ref, "t")
    record = services.events.get(ref)
    assert record is not None
    assert record.status == "failed"
    assert record.error == "unexpected error: KeyError: 'oops'"


def test_unknown_ref_is_missing(services: Services) -> None:
    assert run_event(services, "stripe:evt_none", "t").status == "missing"


def test_handler_registered_twice_is_refused(register: Callable[..., None]) -> None:
    register(lambda *_: Ignored())
    with pytest.raises(ValueError, match="already registered"):
        handler("stripe", TOPIC)(lambda *_: Ignored())


DONE = ("processed", "ignored", "parked", "failed")


def _wait_status(
    services: Services, ref: str, status: str | tuple[str, ...], timeout: float = 20.0
) -> EventRecord:
    wanted = (status,) if isinstance(status, str) else status
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = services.events.get(ref)
        if record is not None and record.status in wanted:
            return record
        time.sleep(0.05)
    raise AssertionError(f"{ref} never reached {status}: {services.events.get(ref)}")


def test_real_worker_relays_processes_and_replays(
    services: Services, start_worker: Callable[..., WorkerHandle]
) -> None:
    client = create_app(services=services).test_client()
    body = stripe_event("evt_w1", "charge.dispute.created")
    assert (
        client.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code == 202
    )
    start_worker(STRIPE_WEBHOOK_SECRET=STRIPE_SECRET)
    # Whatever the handler decides (Sage is not configured here), the outcome is recorded.
    record = _wait_status(services, "stripe:evt_w1", DONE)
    assert [a.outcome for a in record.attempts] == [record.status]
    assert record.attempts[0].task_id not in ("", "local")
    replay = client.post(
        "/admin/events/stripe:evt_w1/replay", headers={"Authorization": "Bearer t"}
    )
    assert replay.status_code == 202
    deadline = time.monotonic() + 20
    while len(services.events.get("stripe:evt_w1").attempts) < 2:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "replay was not processed"
        time.sleep(0.05)
    assert services.events.queue_lengths() == {"outbox": 0, "inflight": 0, "parked": 0}


def test_a_ref_stranded_in_flight_is_resent_by_the_sweep(
    services: Services, start_worker: Callable[..., WorkerHandle]
) -> None:
    ref = recorded(services, 9)
    # A relay took it and died before sending it to Celery.
    assert services.events.next_for_relay(timeout=0.1) == ref
    start_worker()
    time.sleep(0.5)
    assert services.events.get(ref).status == "queued"  # type: ignore[union-attr]
    services.events.sweep(inflight_grace=0)  # first sighting
    services.events.sweep(inflight_grace=0)  # past the grace: re-sent
    _wait_status(services, ref, "ignored")


def test_events_wait_in_the_outbox_while_no_worker_runs(
    services: Services, start_worker: Callable[..., WorkerHandle]
) -> None:
    first = start_worker()
    first.kill()  # SIGKILL: no shutdown, no goodbye
    assert not first.alive
    ref = recorded(services, 11)
    time.sleep(0.3)
    assert services.events.queue_lengths()["outbox"] == 1  # nobody took it
    start_worker(pool="threads", concurrency=2)
    _wait_status(services, ref, DONE)
    assert services.events.queue_lengths()["outbox"] == 0
