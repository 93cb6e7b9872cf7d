"""A per-order Redis lock with a lease and an owner token, kept alive while its holder works.

`SET key token NX PX lease` takes it; only the holder's token releases or extends it (Lua
compare-and-delete / compare-and-pexpire), so a holder whose lease ran out can never free
a lock someone else took since. While held, a daemon thread extends the lease every third
of it; if an extension finds the lock gone (the lease expired, e.g. the process stalled),
`lost` becomes true and `check()` raises before the holder makes another change in Sage.

A worker killed while holding a lock leaves it to expire after one lease.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType

import redis

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

DEFAULT_LEASE = 20.0
DEFAULT_WAIT = 10.0


class LockBusy(Exception):
    """Another worker holds the lock and did not release it within the wait."""


class LockLost(Exception):
    """The lease ran out while the lock was held: another worker may hold it now."""


class OrderLock:
    """`with OrderLock(redis, key):` holds `key` exclusively; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        lease: float = DEFAULT_LEASE,
        wait: float = DEFAULT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.token = secrets.token_hex(16)
        self._redis = client
        self._lease_ms = int(lease * 1000)
        self._wait = wait
        self._sleep = sleep
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> None:
        """Take the lock, polling until `wait` seconds have passed.

        Raises:
            LockBusy: still held by another owner after the wait.
            redis.RedisError: Redis is unreachable.
        """
        deadline = time.monotonic() + self._wait
        delay = 0.02
        while not self._redis.set(self.key, self.token, nx=True, px=self._lease_ms):
            if time.monotonic() >= deadline:
                raise LockBusy(f"{self.key} is held by another worker")
            self._sleep(delay)
            delay = min(delay * 2, 0.25)
        self._stop.clear()
        self._keeper = threading.Thread(target=self._keep, name=f"lock:{self.key}", daemon=True)
        self._keeper.start()

    def extend(self) -> bool:
        """Renew the lease if still ours; False (and `lost`) otherwise.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not self._extend(keys=[self.key], args=[self.token, self._lease_ms]):
            self.lost = True
        return not self.lost

    def check(self) -> None:
        """Raises: LockLost when the lease was lost; call before each change in Sage."""
        if self.lost:
            raise LockLost(f"{self.key}: the lease ran out while held")

    def release(self) -> bool:
        """Free the lock if it is still ours; True when it was.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(5)
            self._keeper = None
        return bool(self._release(keys=[self.key], args=[self.token]))

    def _keep(self) -> None:
        interval = self._lease_ms / 3000
        while not self._stop.wait(interval):
            try:
                if not self.extend():
                    return
            except redis.RedisError:
                continue  # the next tick tries again; `check` stops work once it is lost

    def __enter__(self) -> OrderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
