from __future__ import annotations

import pytest
import redis
from pydantic import ValidationError

from bridge.outbound.delivery import InvalidSubscription, NotFound, Outbound
from bridge.outbound.events import EventType, InvoiceEventData, SyncFailedData
from bridge.settings import Settings
from tests.support.outbound import PUBLIC_DNS, FakeClock

HOOK = "https://hooks.example.com/in"


def test_create_answers_a_secret_that_listing_never_shows(
    outbound: Outbound, rclient: redis.Redis
) -> None:
    sub, secret = outbound.create_subscription(HOOK, ["invoice.posted", "invoice.posted"])
    assert sub.id.startswith("sub_")
    assert secret.startswith("whsec_")
    assert sub.event_types == [EventType.INVOICE_POSTED]
    assert sub.enabled
    listed = outbound.store.subscriptions()
    assert [s.id for s in listed] == [sub.id]
    assert secret not in listed[0].model_dump_json()
    assert outbound.store.secret(sub.id) == secret


def test_a_given_secret_is_kept(outbound: Outbound) -> None:
    given = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sub, secret = outbound.create_subscription(HOOK, ["sync.failed"], secret=given)
    assert secret == given
    assert outbound.store.secret(sub.id) == given


@pytest.mark.parametrize(
    ("url", "types", "secret", "message"),
    [
        (HOOK, ["invoice.paid"], None, "unknown event type 'invoice.paid'"),
        (HOOK, [], None, "at least one event type"),
        ("http://hooks.example.com/in", ["sync.failed"], None, "plain http is not allowed"),
        ("https://127.0.0.1/in", ["sync.failed"], None, "url refused: 127.0.0.1 is a loopback"),
        ("https://nowhere.example/in", ["sync.failed"], None, "cannot resolve"),
        (HOOK, ["sync.failed"], "hunter2", "starts with 'whsec_'"),
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_saved(
    outbound: Outbound, url: str, types: list[str], secret: str | None, message: str
) -> None:
    with pytest.raises(InvalidSubscription, match=message):
        outbound.create_subscription(url, types, secret)
    assert outbound.store.subscriptions() == []


def test_update_and_delete(outbound: Outbound, clock: FakeClock) -> None:
    sub, secret = outbound.create_subscription(HOOK, ["sync.failed"])
    clock.now += 10
    updated = outbound.update_subscription(sub.id, event_types=["invoice.collected"], enabled=False)
    assert updated.event_types == [EventType.INVOICE_COLLECTED]
    assert not updated.enabled
    assert updated.updated_at == clock.now
    assert outbound.store.secret(sub.id) == secret
    with pytest.raises(InvalidSubscription, match="loopback"):
        outbound.update_subscription(sub.id, url="https://127.0.0.1/", enabled=True)
    assert outbound.subscription(sub.id) == updated  # unchanged by the refused update
    outbound.delete_subscription(sub.id)
    with pytest.raises(NotFound):
        outbound.subscription(sub.id)
    with pytest.raises(NotFound):
        outbound.delete_subscription(sub.id)
    assert outbound.store.secret(sub.id) is None


def test_configured_subscriptions_are_created_once(
    rclient: redis.Redis, redis_url: str, clock: FakeClock
) -> None:
    configured = [
        {"url": HOOK, "event_types": ["invoice.posted"], "secret": "whsec_" + "A" * 32},
        {"url": "https://other.example.com/h", "event_types": ["sync.failed", "payment.settled"]},
    ]
    settings = Settings(redis_url=redis_url, connection="cfg", outbound_subscriptions=configured)
    outbound = Outbound(rclient, settings, clock=clock, resolver=PUBLIC_DNS)

    assert outbound.sync_configured() == 2
    assert outbound.sync_configured() == 0  # a restart changes nothing
    subs = outbound.store.subscriptions()
    assert {s.source for s in subs} == {"settings"}
    assert len(subs) == 2
    first = next(s for s in subs if s.url == HOOK)
    second = next(s for s in subs if s.url != HOOK)
    assert outbound.store.secret(first.id) == "whsec_" + "A" * 32
    generated = outbound.store.secret(second.id)

    # a secret rotated in the settings is applied; a generated one is kept
    configured[0]["secret"] = "whsec_" + "B" * 32
    rotated = Settings(redis_url=redis_url, connection="cfg", outbound_subscriptions=configured)
    assert Outbound(rclient, rotated, clock=clock, resolver=PUBLIC_DNS).sync_configured() == 0
    assert outbound.store.secret(first.id) == "whsec_" + "B" * 32
    assert outbound.store.secret(second.id) == generated


def test_a_bad_configured_subscription_names_its_entry(redis_url: str) -> None:
    # checked when the settings are built (at start), not on first use in a request
    with pytest.raises(ValidationError, match=r"BRIDGE_SUBSCRIPTIONS\[1\]: event_types"):
        Settings(
            redis_url=redis_url,
            outbound_subscriptions=[{"url": HOOK, "event_types": ["sync.failed"]}, {"url": HOOK}],
        )


def test_emit_refuses_bad_input_and_records_nothing(
    outbound: Outbound, rclient: redis.Redis
) -> None:
    outbound.create_subscription(HOOK, list(EventType))
    failed = SyncFailedData(event_ref="e", provider="stripe", topic="t", reason="r")
    with pytest.raises(ValueError, match="unknown event type"):
        outbound.emit("invoice.paid", failed)
    with pytest.raises(ValueError, match="carries InvoiceEventData, not SyncFailedData"):
        outbound.emit(EventType.INVOICE_POSTED, failed)
    with pytest.raises(ValidationError):
        outbound.emit("invoice.posted", {"invoice_id": "x", "total": 1.1})
    assert outbound.deliveries() == []


def test_emit_with_a_key_records_the_event_once(outbound: Outbound) -> None:
    outbound.create_subscription(HOOK, ["invoice.collected"])
    data = InvoiceEventData(
        invoice_id="i", status="Collected", total="5", currency="EUR", amount_due="0"
    )
    first = outbound.emit("invoice.collected", data, key="invoice.collected:i")
    again = outbound.emit("invoice.collected", data, key="invoice.collected:i")
    other = outbound.emit("invoice.collected", data)
    assert first == again != other
    assert len(outbound.deliveries()) == 2
