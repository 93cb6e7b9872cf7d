import pytest
import redis

from connectors.sage_active.errors import SageRateLimited
from connectors.sage_active.limiter import MutationSlots, RateLimiter
from tests.support.sage_fakes import FakeTime, make_config


def test_gcra_allows_the_burst_then_paces(redis_client: redis.Redis) -> None:
    # 60/min with headroom 1 -> one request per second, burst 3.
    limiter = RateLimiter(
        make_config(rate_limit_per_minute=60, rate_headroom=1.0, rate_burst=3), redis_client
    )
    now = 1000.0
    assert [limiter.try_acquire(now) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire(now)
    assert 0.99 < wait <= 1.0
    assert limiter.try_acquire(now + wait) == 0.0
    assert limiter.try_acquire(now + wait) > 0


def test_every_window_stays_within_rate_plus_burst(redis_client: redis.Redis) -> None:
    config = make_config(rate_limit_per_minute=120, rate_headroom=0.5, rate_burst=2)
    limiter = RateLimiter(config, redis_client)
    fake = FakeTime()
    times = []
    for _ in range(200):
        limiter.acquire(fake.clock, fake.sleep)
        times.append(fake.now)
    # 60 per minute allowed: any 60 s window holds at most 60 + burst.
    worst = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    assert 60 <= worst <= 62


def test_pause_is_honoured_by_every_limiter(redis_client: redis.Redis) -> None:
    config = make_config()
    first, second = RateLimiter(config, redis_client), RateLimiter(config, redis_client)
    first.pause(5.0, now=2000.0)
    assert second.try_acquire(2001.0) == 4.0
    first.pause(1.0, now=2001.0)  # a shorter pause never shortens the current one
    assert second.try_acquire(2004.5) == 0.5
    assert second.try_acquire(2005.0) == 0.0


def test_acquire_gives_up_after_max_wait(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(make_config(max_limiter_wait=10.0), redis_client)
    limiter.pause(60.0, now=0.0)
    fake = FakeTime(now=0.0)
    with pytest.raises(SageRateLimited, match="waited too long"):
        limiter.acquire(fake.clock, fake.sleep)
    assert fake.sleeps == []


def test_mutation_slots_cap_and_reclaim_crashed_leases(redis_client: redis.Redis) -> None:
    slots = MutationSlots(
        make_config(max_concurrent_mutations=2, mutation_lease=30.0), redis_client
    )
    assert slots.try_acquire("a", 100.0)
    assert slots.try_acquire("b", 100.0)
    assert not slots.try_acquire("c", 100.0)
    slots.release("a")
    assert slots.try_acquire("c", 101.0)
    assert not slots.try_acquire("d", 129.0)
    # "b" crashed without releasing: its lease ends at 130.
    assert slots.try_acquire("d", 130.5)
    assert slots.holders(130.5) == 2


def test_hold_waits_for_a_slot_and_releases_it(redis_client: redis.Redis) -> None:
    slots = MutationSlots(make_config(max_concurrent_mutations=1, mutation_lease=1.0), redis_client)
    fake = FakeTime(now=500.0)
    assert slots.try_acquire("crashed", fake.now)
    with slots.hold(fake.clock, fake.sleep) as waited:
        assert waited >= 1.0
        assert slots.holders(fake.now) == 1
    assert slots.holders(fake.now) == 0
