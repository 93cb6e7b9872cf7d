"""The embedded Redis is a real server: it persists across clients and stops cleanly."""

from __future__ import annotations

import pytest
import redis

from bridge.embedded_redis import EmbeddedRedis, EmbeddedRedisError, find_redis_server


def test_find_redis_server_returns_an_executable() -> None:
    path = find_redis_server()
    assert path.name == "redis-server"
    assert path.exists()


def test_embedded_server_serves_real_commands_and_stops(tmp_path) -> None:
    server = EmbeddedRedis(data_dir=tmp_path)
    with server:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        # A Lua script: something an imitation of Redis often gets wrong.
        assert client.eval("return redis.call('GET', KEYS[1])", 1, "k") == b"v"
        client.close()
    assert not server.running
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=0.2).ping()


def test_persistent_server_keeps_data_across_restart(tmp_path) -> None:
    with EmbeddedRedis(data_dir=tmp_path, persistent=True) as server:
        client = redis.Redis.from_url(server.url)
        client.set("kept", "1")
        client.close()
        port = server.port
    with EmbeddedRedis(data_dir=tmp_path, persistent=True, port=port) as again:
        client = redis.Redis.from_url(again.url)
        assert client.get("kept") == b"1"
        client.close()


def test_port_in_use_is_a_clear_error(tmp_path) -> None:
    with EmbeddedRedis() as first, pytest.raises(EmbeddedRedisError):
        EmbeddedRedis(data_dir=tmp_path, port=first.port).start(timeout=2)
