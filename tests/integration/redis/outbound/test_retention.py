"""Outbound records expire after `BRIDGE_OUTBOUND_RETENTION_DAYS`; the index is trimmed to it."""

from __future__ import annotations

import redis

from bridge.outbound.delivery import Outbound
from bridge.outbound.events import EventType
from bridge.settings import Settings
from tests.integration.redis.outbound.test_schedule import HOOK, INVOICE
from tests.support.outbound import PUBLIC_DNS, FakeClock


def test_events_and_deliveries_expire_after_the_configured_retention(
    rclient: redis.Redis, redis_url: str, clock: FakeClock
) -> None:
    settings = Settings(redis_url=redis_url, connection="outbound-ttl", outbound_retention_days=2)
    outbound = Outbound(rclient, settings, clock=clock, rng=lambda: 0.5, resolver=PUBLIC_DNS)
    outbound.create_subscription(HOOK, ["invoice.posted"])
    first = outbound.emit(EventType.INVOICE_POSTED, INVOICE)
    (old_delivery,) = outbound.event(first).delivery_ids

    clock.now += 2 * 86_400 + 1  # the first one is now older than the retention
    second = outbound.emit(EventType.INVOICE_POSTED, INVOICE, key="second")

    ttl = int(rclient.ttl(settings.key("outbound", "event", second)))
    assert 2 * 86_400 - 60 < ttl <= 2 * 86_400
    (delivery,) = outbound.event(second).delivery_ids
    assert 0 < int(rclient.ttl(settings.key("outbound", "delivery", delivery))) <= 2 * 86_400
    index = [str(i) for i in rclient.zrange(settings.key("outbound", "deliveries"), 0, -1)]
    assert index == [delivery]  # the older delivery left the index with the retention
    assert old_delivery not in index
