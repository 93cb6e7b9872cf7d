"""A real Redis server for the suite, started once per session by `bridge.embedded_redis`.

Set `TEST_REDIS_URL` to use a server of your own instead (its database is flushed!).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from bridge.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a running Redis server, for the whole session."""
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis URL, with the database emptied before each test."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
