"""An `Outbound` over the real test Redis, with a fake clock, no jitter and fake DNS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from tests.support.outbound import PUBLIC_DNS, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, connection="outbound-test", outbound_timeout=1.0)


@pytest.fixture
def rclient(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def outbound(rclient: redis.Redis, settings: Settings, clock: FakeClock) -> Outbound:
    # rng 0.5 means "no jitter": waits are exactly the schedule's
    return Outbound(rclient, settings, clock=clock, rng=lambda: 0.5, resolver=PUBLIC_DNS)
