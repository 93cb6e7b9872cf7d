from __future__ import annotations

import json

import pytest

from bridge.outbound.delivery import RETRY_SCHEDULE, Outbound, OutboundError
from bridge.outbound.events import EventType, InvoiceEventData
from bridge.store.outbound import DeliveryStatus
from tests.support.outbound import OK, PUBLIC_DNS, FakeClock, ScriptedSend, fail

HOOK = "https://hooks.example.com/in"
INVOICE = InvoiceEventData(
    invoice_id="inv-1",
    operational_number="VT-0001",
    status="Posted",
    order_reference="shopify:demo.myshopify.com:1001",
    external_reference="#1001",
    total="12.30",
    currency="EUR",
    amount_due="12.30",
)


def one_delivery(outbound: Outbound, types: list[str] | None = None) -> str:
    outbound.create_subscription(HOOK, types or ["invoice.posted"])
    event_id = outbound.emit(EventType.INVOICE_POSTED, INVOICE)
    (delivery_id,) = outbound.event(event_id).delivery_ids
    return delivery_id


def run_until_done(outbound: Outbound, clock: FakeClock, send: ScriptedSend) -> list[float]:
    """Advance the clock to each due time and attempt; the times attempts were made."""
    times: list[float] = []
    for _ in range(40):
        pending = outbound.deliveries(status=DeliveryStatus.PENDING)
        if not pending:
            break
        first = min(pending, key=lambda d: d.next_attempt_at or 0)
        due_at = first.next_attempt_at
        assert due_at is not None
        clock.now = due_at - 0.5 - 1.0  # just before: not due, and an attempt is a no-op
        assert first.id not in outbound.due()
        assert outbound.attempt(first.id, send=send) is None
        clock.now = due_at
        assert first.id in outbound.due()
        assert outbound.attempt(first.id, send=send) is not None
        times.append(clock.now)
    return times


def test_an_always_failing_subscriber_gets_the_schedule_then_dead_letter(
    outbound: Outbound, clock: FakeClock
) -> None:
    start = clock.now
    delivery_id = one_delivery(outbound)
    send = ScriptedSend([fail(500)])

    times = run_until_done(outbound, clock, send)

    offsets = [round(t - start, 3) for t in times]
    expected, total = [], 0.0
    for wait in RETRY_SCHEDULE:
        total += wait
        expected.append(total)
    assert offsets == expected
    delivery = outbound.delivery(delivery_id)
    assert delivery.status is DeliveryStatus.DEAD
    assert delivery.attempt_count == 8
    assert delivery.dead_reason == "gave up after 8 attempts; last: HTTP 500"
    attempts = outbound.store.attempts(delivery_id)
    assert [a.number for a in attempts] == list(range(1, 9))
    assert attempts[-1].next_attempt_at is None
    assert attempts[0].status_code == 500
    assert outbound.due(now=clock.now + 10**6) == []


def test_every_retry_carries_the_same_id_and_body_but_a_fresh_timestamp(
    outbound: Outbound, clock: FakeClock
) -> None:
    one_delivery(outbound)
    send = ScriptedSend([fail(500), fail(500), OK])

    run_until_done(outbound, clock, send)

    assert len(send.calls) == 3
    assert len({c["headers"]["webhook-id"] for c in send.calls}) == 1
    assert send.calls[0]["headers"]["webhook-id"].startswith("msg_")
    assert len({c["body"] for c in send.calls}) == 1
    stamps = [int(c["headers"]["webhook-timestamp"]) for c in send.calls]
    assert stamps == sorted(stamps)
    assert stamps[0] < stamps[-1]
    body = json.loads(send.calls[0]["body"])
    assert body["type"] == "invoice.posted"
    assert body["data"]["total"] == "12.30"
    assert body["data"]["amount_paid"] == "0"
    assert body["timestamp"] == "2023-11-14T22:13:20.000Z"
    assert send.calls[0]["timeout"] == 1.0
    assert send.calls[0]["allow_private"] is False


@pytest.mark.parametrize(("rng", "factor"), [(0.0, 0.9), (1.0, 1.1)])
def test_waits_are_jittered_by_up_to_ten_percent(
    rclient: object, settings: object, clock: FakeClock, rng: float, factor: float
) -> None:
    outbound = Outbound(rclient, settings, clock=clock, rng=lambda: rng, resolver=PUBLIC_DNS)  # type: ignore[arg-type]
    delivery_id = one_delivery(outbound)
    outbound.attempt(delivery_id, send=ScriptedSend([fail(500)]))
    assert outbound.delivery(delivery_id).next_attempt_at == pytest.approx(clock.now + 5 * factor)


def test_success_ends_the_delivery(outbound: Outbound, clock: FakeClock) -> None:
    delivery_id = one_delivery(outbound)
    send = ScriptedSend([OK])
    attempt = outbound.attempt(delivery_id, send=send)
    assert attempt is not None
    assert attempt.ok
    assert attempt.status_code == 204
    assert outbound.delivery(delivery_id).status is DeliveryStatus.SUCCEEDED
    clock.now += 10**6
    assert outbound.attempt(delivery_id, send=send) is None  # a duplicate task: no-op
    assert len(send.calls) == 1
    assert outbound.due() == []


def test_410_disables_the_subscription(outbound: Outbound, clock: FakeClock) -> None:
    sub, _ = outbound.create_subscription(HOOK, ["invoice.posted", "invoice.collected"])
    first = outbound.event(outbound.emit(EventType.INVOICE_POSTED, INVOICE)).delivery_ids[0]
    second = outbound.event(outbound.emit("invoice.collected", INVOICE)).delivery_ids[0]
    send = ScriptedSend([fail(410), OK])

    outbound.attempt(first, send=send)

    assert not outbound.subscription(sub.id).enabled
    assert "410 Gone" in (outbound.subscription(sub.id).disabled_reason or "")
    assert outbound.delivery(first).status is DeliveryStatus.DEAD
    # the other pending delivery dies without being sent; new events make none
    assert outbound.attempt(second, send=send) is None
    assert outbound.delivery(second).status is DeliveryStatus.DEAD
    assert "disabled" in (outbound.delivery(second).dead_reason or "")
    assert outbound.event(outbound.emit("invoice.posted", INVOICE)).delivery_ids == []
    assert len(send.calls) == 1


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [(600.0, 600.0), (1.0, 5.0), (10**7, 24 * 3600.0), (None, 5.0)],
)
def test_retry_after_is_honoured_when_later_than_the_schedule(
    outbound: Outbound, clock: FakeClock, retry_after: float | None, wait: float
) -> None:
    delivery_id = one_delivery(outbound)
    outbound.attempt(delivery_id, send=ScriptedSend([fail(429, retry_after)]))
    assert outbound.delivery(delivery_id).next_attempt_at == clock.now + wait


def test_an_attempt_in_progress_is_not_repeated(outbound: Outbound) -> None:
    delivery_id = one_delivery(outbound)
    token = outbound.store.lock(delivery_id, 30)
    assert token is not None
    send = ScriptedSend([OK])
    assert outbound.attempt(delivery_id, send=send) is None
    assert send.calls == []
    outbound.store.unlock(delivery_id, token)
    assert outbound.attempt(delivery_id, send=send) is not None


def test_claims_are_exclusive_and_expire(outbound: Outbound, clock: FakeClock) -> None:
    delivery_id = one_delivery(outbound)
    assert outbound.claim_due() == [delivery_id]
    assert outbound.claim_due() == []
    assert not outbound.claim(delivery_id)
    clock.now += 301  # the worker that claimed it vanished: due again after the lease
    assert outbound.claim_due() == [delivery_id]


def test_a_stale_claim_on_a_not_yet_due_delivery_is_undone(
    outbound: Outbound, clock: FakeClock
) -> None:
    delivery_id = one_delivery(outbound)
    outbound.attempt(delivery_id, send=ScriptedSend([fail(500)]))  # next in 5 s
    clock.now += 5
    assert outbound.claim(delivery_id)
    clock.now -= 4  # a duplicated task arrives early
    assert outbound.attempt(delivery_id, send=ScriptedSend([OK])) is None
    assert outbound.due(now=clock.now + 4) == [delivery_id]


def test_replay_sends_a_dead_delivery_again_with_the_same_id(
    outbound: Outbound, clock: FakeClock
) -> None:
    delivery_id = one_delivery(outbound)
    run_until_done(outbound, clock, ScriptedSend([fail(500)]))
    clock.now += 100

    replayed = outbound.replay(delivery_id)

    assert replayed.status is DeliveryStatus.PENDING
    assert replayed.next_attempt_at == clock.now
    send = ScriptedSend([OK])
    assert outbound.due() == [delivery_id]
    assert outbound.attempt(delivery_id, send=send) is not None
    event_id = outbound.delivery(delivery_id).event_id
    assert send.calls[0]["headers"]["webhook-id"] == event_id
    assert outbound.delivery(delivery_id).attempt_count == 9


def test_recover_replays_dead_deliveries_since_a_time(outbound: Outbound, clock: FakeClock) -> None:
    old = one_delivery(outbound)
    clock.now += 1000
    since = clock.now
    sub, _ = outbound.create_subscription(HOOK, ["sync.failed"])
    gone, _ = outbound.create_subscription(HOOK, ["sync.failed"])
    event = outbound.event(
        outbound.emit(
            "sync.failed", {"event_ref": "e", "provider": "p", "topic": "t", "reason": "r"}
        )
    )
    run_until_done(outbound, clock, ScriptedSend([fail(500)]))
    for delivery_id in [old, *event.delivery_ids]:
        assert outbound.delivery(delivery_id).status is DeliveryStatus.DEAD
    outbound.update_subscription(gone.id, enabled=False)

    assert outbound.recover(since) == 1

    pending = outbound.deliveries(status=DeliveryStatus.PENDING)
    assert [d.subscription_id for d in pending] == [sub.id]
    assert outbound.delivery(old).status is DeliveryStatus.DEAD


def test_a_deleted_subscription_kills_its_pending_deliveries(outbound: Outbound) -> None:
    delivery_id = one_delivery(outbound)
    outbound.delete_subscription(outbound.delivery(delivery_id).subscription_id)
    send = ScriptedSend([OK])

    assert outbound.attempt(delivery_id, send=send) is None

    assert send.calls == []
    assert outbound.delivery(delivery_id).status is DeliveryStatus.DEAD
    assert outbound.delivery(delivery_id).dead_reason == "its subscription was deleted"
    assert outbound.due() == []
    with pytest.raises(OutboundError, match="was deleted"):
        outbound.replay(delivery_id)


def test_events_of_one_invoice_reach_a_subscriber_in_order(
    outbound: Outbound, clock: FakeClock
) -> None:
    outbound.create_subscription(HOOK, ["invoice.posted", "invoice.collected", "payment.settled"])
    other = INVOICE.model_copy(update={"invoice_id": "inv-2"})
    posted = outbound.emit(EventType.INVOICE_POSTED, INVOICE)
    collected = outbound.emit(
        EventType.INVOICE_COLLECTED, INVOICE.model_copy(update={"status": "Collected"})
    )
    elsewhere = outbound.emit(EventType.INVOICE_POSTED, other)
    (first,) = outbound.event(posted).delivery_ids
    (second,) = outbound.event(collected).delivery_ids
    (independent,) = outbound.event(elsewhere).delivery_ids
    # only the head of each invoice's chain is due: collected waits for posted
    assert sorted(outbound.due()) == sorted([first, independent])
    assert outbound.attempt(second, send=ScriptedSend([OK])) is None

    send = ScriptedSend([fail(503), OK])
    assert outbound.attempt(first, send=send) is not None  # fails: retried in 5 s
    assert second not in outbound.due()  # still behind it, even while it waits
    clock.now += RETRY_SCHEDULE[1]
    assert first in outbound.due()
    assert outbound.attempt(first, send=send) is not None  # succeeds
    assert second in outbound.due()  # now the next one goes
    assert outbound.attempt(second, send=send) is not None
    bodies = [json.loads(call["body"])["type"] for call in send.calls]
    assert bodies == ["invoice.posted", "invoice.posted", "invoice.collected"]


def test_a_dead_delivery_lets_the_next_of_its_invoice_go(
    outbound: Outbound, clock: FakeClock
) -> None:
    outbound.create_subscription(HOOK, ["invoice.posted", "invoice.collected"])
    (first,) = outbound.event(outbound.emit(EventType.INVOICE_POSTED, INVOICE)).delivery_ids
    (second,) = outbound.event(outbound.emit(EventType.INVOICE_COLLECTED, INVOICE)).delivery_ids
    outbound.attempt(first, send=ScriptedSend([fail(410)]))  # gone: dead, subscription off
    assert outbound.delivery(first).status is DeliveryStatus.DEAD
    assert second in outbound.due()


def test_replaying_a_waiting_delivery_takes_it_out_of_its_chain(
    outbound: Outbound, clock: FakeClock
) -> None:
    outbound.create_subscription(HOOK, ["invoice.posted", "invoice.collected", "payment.settled"])
    ids = [
        outbound.event(outbound.emit(kind, INVOICE)).delivery_ids[0]
        for kind in (EventType.INVOICE_POSTED, EventType.INVOICE_COLLECTED)
    ]
    first, second = ids
    outbound.replay(second)  # sent at once, on its own
    assert second in outbound.due()
    send = ScriptedSend([OK])
    assert outbound.attempt(second, send=send) is not None
    assert outbound.attempt(first, send=send) is not None
    assert outbound.due() == []  # the chain is empty: nothing is left stuck
    third = outbound.event(outbound.emit(EventType.INVOICE_COLLECTED, INVOICE)).delivery_ids[0]
    assert third in outbound.due()
