"""A registered connection's periodic work: sweep, outbound pump, poll once per interval."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bridge.connections.hub import ServicesHub
from bridge.connections.periodic import tick_connection
from bridge.outbound.events import EventType
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent
from tests.support.connections import KEY, spec


@pytest.fixture
def alpha(redis_url: str) -> Iterator[Services]:
    settings = Settings(
        REDIS_URL=redis_url, BRIDGE_SECRET_KEY=KEY, BRIDGE_OUTBOUND_ALLOW_PRIVATE=True
    )
    base = build_services(settings)
    hub = ServicesHub(base, ttl=0.0)
    hub.registry.add(spec("alpha"))
    services = hub.services("alpha")
    assert services is not None
    yield services
    hub.close()
    base.close()


def test_a_due_parked_event_goes_back_to_its_connections_outbox(alpha: Services) -> None:
    alpha.events.record(
        NewEvent(provider="shopify", provider_id="p1", topic="orders/paid", body="{}")
    )
    alpha.redis.delete(alpha.events.outbox_key)
    alpha.events.mark("shopify:p1", EventStatus.PARKED, retry_in=0.0)

    result = tick_connection(alpha, deliver=lambda _: None, poll=lambda: None, poll_interval=30)

    assert result.swept.parked == 1
    assert alpha.redis.lrange("bridge:alpha:outbox", 0, -1) == ["shopify:p1"]
    assert alpha.redis.llen("bridge:default:outbox") == 0


def test_due_deliveries_are_handed_over_once_and_polls_are_spaced(alpha: Services) -> None:
    alpha.outbound.create_subscription(url="http://127.0.0.1:9/hook", event_types=["sync.failed"])
    data = {
        "event_ref": "shopify:1",
        "provider": "shopify",
        "topic": "orders/create",
        "reason": "x",
    }
    alpha.outbound.emit(EventType.SYNC_FAILED, data)
    sent: list[str] = []
    polls: list[int] = []

    first = tick_connection(alpha, sent.append, lambda: polls.append(1), poll_interval=30)
    second = tick_connection(alpha, sent.append, lambda: polls.append(1), poll_interval=30)

    assert (first.deliveries, second.deliveries) == (1, 0)  # claimed: never sent twice
    assert len(sent) == 1
    assert (first.poll, second.poll, len(polls)) == (True, False, 1)


def test_reconciliation_is_handed_over_only_with_a_provider_api_key(
    alpha: Services, redis_url: str
) -> None:
    runs: list[int] = []
    tick_connection(alpha, lambda _: None, lambda: None, 30, reconcile=lambda: runs.append(1))
    assert runs == []  # no Shopify access token for this connection

    with_key = alpha.settings.model_copy(update={"stripe_api_key": SecretStr("sk_test_key_1")})
    keyed = Services(
        settings=with_key, redis=alpha.redis, events=alpha.events, metrics=alpha.metrics
    )
    tick_connection(keyed, lambda _: None, lambda: None, 30, reconcile=lambda: runs.append(1))
    tick_connection(keyed, lambda _: None, lambda: None, 30, reconcile=lambda: runs.append(1))
    assert runs == [1]  # once per BRIDGE_RECONCILE_INTERVAL
