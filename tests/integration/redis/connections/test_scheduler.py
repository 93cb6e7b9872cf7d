"""The fair scheduler: round-robin across connections, a bound per connection, in Redis."""

from __future__ import annotations

import redis

from bridge.connections.scheduler import FairScheduler, connection_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def fill(client: redis.Redis, name: str, count: int) -> None:
    """`count` refs on `name`'s outbox, oldest first out (as the ingress LPUSHes them)."""
    for index in range(count):
        client.lpush(connection_key(name, "outbox"), f"{name}:{index}")


def test_refs_are_taken_round_robin_oldest_first(redis_client: redis.Redis) -> None:
    fill(redis_client, "a", 3)
    fill(redis_client, "b", 3)
    scheduler = FairScheduler(redis_client, max_in_flight=10)

    taken = scheduler.take(["a", "b"], most=4)

    assert sorted(taken) == [("a", "a:0"), ("a", "a:1"), ("b", "b:0"), ("b", "b:1")]
    assert [name for name, _ in taken] in (["a", "b", "a", "b"], ["b", "a", "b", "a"])


def test_a_flood_puts_at_most_the_bound_in_front_of_a_quiet_connection(
    redis_client: redis.Redis,
) -> None:
    scheduler = FairScheduler(redis_client, max_in_flight=4)
    fill(redis_client, "flood", 10_000)
    first = scheduler.take(["flood", "quiet"], most=1000)
    assert len(first) == 4  # the bound, not 10,000

    fill(redis_client, "quiet", 1)
    second = scheduler.take(["flood", "quiet"], most=1000)

    assert second == [("quiet", "quiet:0")]  # the flood is at its bound: the quiet goes now
    assert redis_client.llen(connection_key("flood", "outbox")) == 9_996  # waiting, not lost


def test_a_finished_event_frees_its_slot(redis_client: redis.Redis) -> None:
    scheduler = FairScheduler(redis_client, max_in_flight=1)
    fill(redis_client, "a", 2)
    [(name, ref)] = scheduler.take(["a"])
    assert scheduler.take(["a"]) == []
    assert scheduler.in_flight("a") == 1

    scheduler.sent(name, ref)
    scheduler.release(name, ref)

    assert scheduler.take(["a"]) == [("a", "a:1")]
    assert redis_client.lrange(connection_key("a", "outbox", "inflight"), 0, -1) == [b"a:1"]


def test_a_lease_lost_with_a_worker_ends(redis_client: redis.Redis) -> None:
    clock = Clock()
    scheduler = FairScheduler(redis_client, max_in_flight=1, lease=60, clock=clock)
    fill(redis_client, "a", 2)
    assert len(scheduler.take(["a"])) == 1
    assert scheduler.take(["a"]) == []

    clock.now += 61

    assert scheduler.take(["a"]) == [("a", "a:1")]


def test_a_connection_left_out_keeps_its_events(redis_client: redis.Redis) -> None:
    scheduler = FairScheduler(redis_client, max_in_flight=5)
    fill(redis_client, "paused", 3)
    fill(redis_client, "live", 1)

    assert scheduler.take(["live"]) == [("live", "live:0")]
    assert redis_client.llen(connection_key("paused", "outbox")) == 3

    assert len(scheduler.take(["live", "paused"])) == 3  # enabled again: all of them


def test_the_state_is_redis_so_a_new_scheduler_sees_it(redis_client: redis.Redis) -> None:
    fill(redis_client, "a", 5)
    FairScheduler(redis_client, max_in_flight=2).take(["a"])
    restarted = FairScheduler(redis_client, max_in_flight=2)
    assert restarted.in_flight("a") == 2
    assert restarted.take(["a"]) == []
