"""Connections on the real test Redis: a registry (constants in `tests.support.connections`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from pydantic import SecretStr

from bridge.connections.registry import ConnectionRegistry
from bridge.connections.secrets import SecretBox
from tests.support.connections import KEY


@pytest.fixture
def registry(redis_client: redis.Redis) -> Iterator[ConnectionRegistry]:
    return ConnectionRegistry(redis_client, lambda: SecretBox([SecretStr(KEY)]))
