"""Held connections: one per thread, kept, retried once when stale, closed with their thread."""

from __future__ import annotations

import gc
import multiprocessing
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from bridge.embedded_redis import free_port
from bridge.store.held import HeldConnections

NAME = "held-under-test"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    named = redis.Redis.from_url(redis_url, client_name=NAME, decode_responses=True)
    yield named
    named.close()


@pytest.fixture
def held(client: redis.Redis) -> Iterator[HeldConnections]:
    connections = HeldConnections(client.connection_pool)
    yield connections
    connections.close()


def named_connections(observer: redis.Redis) -> list[dict[str, str]]:
    return [c for c in observer.client_list() if c["name"] == NAME]


def test_a_thread_keeps_one_connection(held: HeldConnections, redis_client: redis.Redis) -> None:
    for n in range(5):
        assert held.execute("INCR", "counter") == n + 1
    assert len(named_connections(redis_client)) == 1


def test_each_thread_has_its_own(held: HeldConnections, redis_client: redis.Redis) -> None:
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def work() -> None:
        held.execute("INCR", "counter")
        barrier.wait()  # all three alive at once, each holding its connection
        counts.append(len(named_connections(redis_client)))
        barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [3, 3, 3]
    assert redis_client.get("counter") == b"3"


def test_a_finished_thread_releases_its_connection(
    held: HeldConnections, redis_client: redis.Redis
) -> None:
    thread = threading.Thread(target=held.execute, args=("PING",))
    thread.start()
    thread.join()
    gc.collect()
    # the server drops a closed connection from its list a moment later (under load)
    deadline = time.monotonic() + 10
    while named_connections(redis_client) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert named_connections(redis_client) == []


def test_a_dropped_connection_is_replaced_without_an_error(
    held: HeldConnections, redis_client: redis.Redis
) -> None:
    held.execute("SET", "key", "before")
    [connection] = named_connections(redis_client)
    redis_client.client_kill_filter(_id=connection["id"])
    assert (
        held.execute("SET", "key", "after") == "OK"
    )  # raw replies; sent again on a new connection
    assert redis_client.get("key") == b"after"
    [replacement] = named_connections(redis_client)
    assert replacement["id"] != connection["id"]


def test_an_error_reply_raises_and_keeps_the_connection(
    held: HeldConnections, redis_client: redis.Redis
) -> None:
    with pytest.raises(redis.exceptions.NoScriptError):
        held.execute("EVALSHA", "0" * 40, 0)
    assert held.execute("PING") == "PONG"
    assert len(named_connections(redis_client)) == 1


def test_unreachable_redis_raises_a_connection_error() -> None:
    client = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    held = HeldConnections(client.connection_pool)
    with pytest.raises(redis.ConnectionError):
        held.execute("PING")
    with pytest.raises(redis.ConnectionError):  # and again: nothing is left half-open
        held.execute("PING")


def test_close_disconnects_and_the_next_command_reconnects(
    held: HeldConnections, redis_client: redis.Redis
) -> None:
    held.execute("PING")
    held.close()
    assert named_connections(redis_client) == []
    assert held.execute("PING") == "PONG"
    assert len(named_connections(redis_client)) == 1


def _client_id_in_child(held: HeldConnections, results: multiprocessing.Queue[int]) -> None:
    results.put(held.execute("CLIENT", "ID"))


def test_a_forked_child_opens_its_own_and_leaves_the_parents_alone(held: HeldConnections) -> None:
    parent_id = held.execute("CLIENT", "ID")
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[int] = context.Queue()
    child = context.Process(target=_client_id_in_child, args=(held, results))
    child.start()
    child_id = results.get(timeout=10)
    child.join(10)
    assert child.exitcode == 0
    assert child_id != parent_id  # sharing one socket across processes would mix replies
    assert held.execute("CLIENT", "ID") == parent_id  # the parent's is still open and works
