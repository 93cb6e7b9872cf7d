"""Status and poller parts over the real test Redis (no Sage: invoices are built here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from tests.support.poller_parts import Parts


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, connection="poller-test")


@pytest.fixture
def rclient(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def parts(rclient: redis.Redis, settings: Settings) -> Parts:
    return Parts(redis=rclient, settings=settings, outbound=Outbound(rclient, settings))
