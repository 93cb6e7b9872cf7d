"""The per-order lock: exclusive, released only by its owner, kept alive while held."""

from __future__ import annotations

import time

import pytest
import redis

from bridge.sync.locks import LockBusy, LockLost, OrderLock


def test_second_holder_waits_then_gives_up(redis_client: redis.Redis) -> None:
    with OrderLock(redis_client, "lock:a"):
        other = OrderLock(redis_client, "lock:a", wait=0.2)
        with pytest.raises(LockBusy):
            other.acquire()


def test_release_frees_only_your_own_lock(redis_client: redis.Redis) -> None:
    first = OrderLock(redis_client, "lock:b", lease=0.3)
    first.acquire()
    first._stop.set()  # no keep-alive: let the lease run out
    time.sleep(0.5)
    second = OrderLock(redis_client, "lock:b", wait=0.5)
    second.acquire()

    assert first.release() is False  # its lease ran out: it must not free the new owner's
    assert redis_client.get("lock:b") == second.token.encode()
    assert second.release() is True
    assert redis_client.get("lock:b") is None


def test_lease_is_extended_while_held(redis_client: redis.Redis) -> None:
    with OrderLock(redis_client, "lock:c", lease=0.3) as lock:
        time.sleep(0.8)  # more than two leases
        assert redis_client.get("lock:c") == lock.token.encode()
        lock.check()


def test_lost_lease_stops_work(redis_client: redis.Redis) -> None:
    lock = OrderLock(redis_client, "lock:d", lease=0.3)
    lock.acquire()
    redis_client.delete("lock:d")  # as if it expired and was taken over

    assert lock.extend() is False
    with pytest.raises(LockLost):
        lock.check()
    lock.release()
