"""Resolved attention items are dropped a retention after their resolution; open ones stay."""

from __future__ import annotations

import redis

from bridge.settings import Settings
from bridge.store.attention import AttentionItem, AttentionStore
from tests.support.clock import Clock


def _item(n: int) -> AttentionItem:
    return AttentionItem(id=f"order_adjustment:refund/{n}", kind="order_adjustment",
                         reason=f"refund {n} needs a person", source=f"refund {n}")  # fmt: skip


def test_a_resolved_item_goes_after_the_retention_an_open_one_stays(
    redis_url: str, clock: Clock
) -> None:
    settings = Settings(redis_url=redis_url, connection="attention-ttl", link_retention_days=1)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    for key in client.scan_iter(match=settings.key("*")):
        client.delete(key)
    store = AttentionStore(client, settings, clock)
    store.add(_item(1))
    store.add(_item(2))
    store.resolve(_item(1).id)

    clock.now += 86_400 - 1  # within the retention: still listed as resolved
    store.add(_item(3))
    assert store.get(_item(1).id) is not None

    clock.now += 2
    store.add(_item(4))

    assert store.get(_item(1).id) is None
    assert [i.id for i in store.items(include_resolved=True)] == [_item(n).id for n in (4, 3, 2)]
    assert client.zcard(settings.key("attention", "resolved")) == 0
    client.close()
