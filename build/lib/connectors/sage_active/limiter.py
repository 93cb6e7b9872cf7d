"""Limits shared by every process and machine that talks to one Sage Active app.

`RateLimiter` is a GCRA (generic cell rate algorithm) in one Lua script: one Redis key
holds the theoretical arrival time, so all processes share `rate_limit_per_minute *
rate_headroom` requests per minute with at most `rate_burst` back to back. In any window
of W seconds at most `burst + W * rate / 60` requests pass. After a 429, `pause()` sets a
shared pause-until key that every process honours before its next request.

`MutationSlots` caps concurrent mutations (Sage recommends 10) with a sorted set of
leases: a member per holder scored by its lease expiry, so a crashed holder's slot is
reclaimed when its lease runs out.

Times come from the caller's clock (the client's injectable `clock`), in seconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

from connectors.sage_active.config import SageConfig
from connectors.sage_active.errors import SageRateLimited, SageTransientError

# Returns strings: Redis would truncate Lua numbers to integers.
_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return tostring(pause - now) end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat - tolerance
if allow_at > now then return tostring(allow_at - now) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""
_PAUSE = """
local now = tonumber(ARGV[1])
local pause_end = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if pause_end > current then
  redis.call('SET', KEYS[1], tostring(pause_end), 'PX', math.ceil((pause_end - now) * 1000) + 1000)
end
return 1
"""
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


class RateLimiter:
    """The shared request rate; see the module docstring."""

    def __init__(self, config: SageConfig, redis_client: redis.Redis) -> None:
        rate = config.rate_limit_per_minute * config.rate_headroom
        self.interval = 60.0 / rate
        self.tolerance = self.interval * (config.rate_burst - 1)
        self.max_wait = config.max_limiter_wait
        self._redis = redis_client
        prefix = config.limiter_prefix or config.key_prefix  # per app, not per organisation
        self._keys = [f"{prefix}:ratelimit:tat", f"{prefix}:ratelimit:pause_until"]
        self._gcra = redis_client.register_script(_GCRA)
        self._pause = redis_client.register_script(_PAUSE)

    def try_acquire(self, now: float) -> float:
        """Take one request if allowed now; otherwise return the seconds to wait (> 0)."""
        wait = self._gcra(
            keys=self._keys, args=[repr(now), repr(self.interval), repr(self.tolerance)]
        )
        return float(wait.decode() if isinstance(wait, bytes) else wait)

    def acquire(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_wait: Callable[[float], None] | None = None,
    ) -> float:
        """Wait until one request may go; return the seconds waited.

        Raises:
            SageRateLimited: waiting would exceed `max_limiter_wait`.
        """
        waited = 0.0
        while (wait := self.try_acquire(clock())) > 0:
            if waited + wait > self.max_wait:
                raise SageRateLimited(wait, "shared rate limit: waited too long for a slot")
            if on_wait is not None:
                on_wait(wait)
            sleep(wait)
            waited += wait
        return waited

    def pause(self, seconds: float, now: float) -> None:
        """Make every process wait `seconds` from `now` (after Sage answered 429)."""
        self._pause(keys=[self._keys[1]], args=[repr(now), repr(max(seconds, 0.0))])


class MutationSlots:
    """A lease-based semaphore capping concurrent mutations across processes."""

    def __init__(self, config: SageConfig, redis_client: redis.Redis) -> None:
        self.limit = config.max_concurrent_mutations
        self.lease = config.mutation_lease
        self._key = config.key("mutations")
        self._redis = redis_client
        self._acquire = redis_client.register_script(_ACQUIRE)

    def try_acquire(self, holder: str, now: float) -> bool:
        """Take a slot for `holder` until `now + lease`, if one is free."""
        args: list[str | int] = [
            repr(now),
            self.limit,
            repr(now + self.lease),
            holder,
            int(self.lease * 2000),
        ]
        return bool(self._acquire(keys=[self._key], args=args))

    def release(self, holder: str) -> None:
        self._redis.zrem(self._key, holder)

    def holders(self, now: float) -> int:
        """Slots currently held (leases not yet expired)."""
        return int(self._redis.zcount(self._key, f"({now!r}", "+inf"))

    @contextmanager
    def hold(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> Iterator[float]:
        """Hold a slot for the duration of the block; yields the seconds waited for it.

        Raises:
            SageTransientError: no slot came free within one lease.
        """
        holder = secrets.token_hex(8)
        start = clock()
        delay = 0.01
        while not self.try_acquire(holder, clock()):
            if clock() - start > self.lease:
                raise SageTransientError("no mutation slot came free within one lease")
            sleep(delay)
            delay = min(delay * 2, 0.25)
        try:
            yield clock() - start
        finally:
            self.release(holder)
