"""Fair hand-off of inbound events to Celery across connections (the relay's policy).

Every connection keeps its own outbox (`bridge:<name>:outbox`, filled by the ingress in the
same atomic call that records the event). One relay per worker process takes refs from all
of them, round-robin, in one Lua call (`take`), and sends each as a Celery task. What makes
it fair is a bound: each connection has at most `max_in_flight` events handed to Celery and
not finished (`bridge:<name>:fair:leases`, ref -> lease end), so a connection with 10,000
events waiting puts at most that many in front of a quiet connection's next event, which is
taken on the very next round. The state is in Redis, so it survives restarts of every
process: outboxes hold what waits, leases what is out (a lease lost with a crashed worker
ends after `lease` seconds; the sweep re-sends the event itself).

A disabled connection is simply not taken from: its events wait in its outbox, and the
worker puts back one that was already on its way (`tasks.ingest.process_event`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import redis
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# KEYS: per connection in turn: outbox, in-flight list, leases.
# ARGV: now, lease end, max in flight per connection, most refs to take in this call.
# Returns flat pairs {connection index (1-based), ref, ...}, interleaved round-robin.
_TAKE = """
local now, lease_end = tonumber(ARGV[1]), ARGV[2]
local bound, most = tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 3
local out, done, taken = {}, {}, 0
for i = 1, n do redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', now) end
local progress = true
while progress and taken < most do
  progress = false
  for i = 1, n do
    if not done[i] and taken < most then
      local outbox, inflight, leases = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
      local ref = false
      if redis.call('ZCARD', leases) < bound then
        ref = redis.call('LMOVE', outbox, inflight, 'RIGHT', 'LEFT')
      end
      if ref then
        redis.call('ZADD', leases, lease_end, ref)
        out[#out + 1] = i
        out[#out + 1] = ref
        taken = taken + 1
        progress = true
      else
        done[i] = true
      end
    end
  end
end
return out
"""


def connection_key(name: str, *parts: str) -> str:
    """A key in connection `name`'s namespace (as `Settings.key` of that connection)."""
    return ":".join(("bridge", name, *parts))


class FairScheduler:
    """Takes refs round-robin from every connection's outbox, bounded per connection."""

    def __init__(
        self,
        client: redis.Redis,
        max_in_flight: int,
        lease: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.max_in_flight = max_in_flight
        self.lease = lease
        self._clock = clock
        self._take = client.register_script(_TAKE)
        self._turn = random.randrange(1_000_000)  # noqa: S311 - where a round starts, not security

    def take(self, names: list[str], most: int = 64) -> list[tuple[str, str]]:
        """Up to `most` (connection, ref) pairs, round-robin, each moved to its connection's
        in-flight list and leased. Rounds start at a different connection each call.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not names:
            return []
        self._turn += 1
        start = self._turn % len(names)
        order = names[start:] + names[:start]
        keys: list[str] = []
        for name in order:
            keys += [
                connection_key(name, "outbox"),
                connection_key(name, "outbox", "inflight"),
                connection_key(name, "fair", "leases"),
            ]
        now = self._clock()
        args: list[str | int] = [repr(now), repr(now + self.lease), self.max_in_flight, most]
        flat = self._take(keys=keys, args=args)
        pairs = []
        for index in range(0, len(flat), 2):
            ref = flat[index + 1]
            pairs.append(
                (order[int(flat[index]) - 1], ref.decode() if isinstance(ref, bytes) else str(ref))
            )
        return pairs

    def sent(self, name: str, ref: str) -> None:
        """`ref` is in Celery: drop it from the in-flight list (its lease stays).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.lrem(connection_key(name, "outbox", "inflight"), 1, ref)
        pipe.hdel(connection_key(name, "outbox", "seen"), ref)
        pipe.execute()

    def release(self, name: str, ref: str) -> None:
        """`ref`'s task finished (or went back to wait): its slot is free.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        self._redis.zrem(connection_key(name, "fair", "leases"), ref)

    def in_flight(self, name: str) -> int:
        """Events of `name` handed to Celery and not finished (leases not ended)."""
        key = connection_key(name, "fair", "leases")
        return int(self._redis.zcount(key, f"({self._clock()!r}", "+inf"))


class FairRelay(threading.Thread):
    """The worker's relay thread: `FairScheduler.take`, send each task, confirm."""

    def __init__(
        self,
        scheduler: FairScheduler,
        names: Callable[[], list[str]],
        send: Callable[[str, str], None],
        client: redis.Redis,
        idle: float = 0.05,
        on_start: Callable[[], None] | None = None,
        on_recover: Callable[[], None] | None = None,
    ) -> None:
        """`names()`: the connections to take from now (enabled ones); `send(name, ref)`
        sends the task; `idle`: the pause after a round that found nothing; `on_start`
        runs before the first round (the mapping check); `on_recover` at start and each
        time Redis answers again after an outage (re-send what a restart dropped)."""
        super().__init__(name="outbox-relay", daemon=True)
        self._scheduler = scheduler
        self._names = names
        self._send = send
        self._client = client
        self._idle = idle
        self._on_start = on_start
        self._on_recover = on_recover
        self._stop_event = threading.Event()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        self.join(timeout)
        self._client.close()

    def run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        # Refs taken and not yet confirmed sent. On a Redis error they are kept and sent as
        # soon as Redis answers: a restart costs them a second or two, not the sweep's grace.
        pending: list[tuple[str, str]] = []
        recovering = True  # at start, and after an outage: was Redis restarted meanwhile?
        while not self._stop_event.is_set():
            try:
                if not pending:
                    pending = self._scheduler.take(self._names())
                    if not pending:
                        self._stop_event.wait(self._idle)
                while pending:
                    name, ref = pending[0]
                    self._send(name, ref)
                    self._scheduler.sent(name, ref)
                    pending.pop(0)
                if recovering and self._on_recover is not None:
                    self._on_recover()
                recovering = False
            except (redis.RedisError, OperationalError):
                # Wait for Redis to come back; what is pending is sent then.
                log.warning("outbox relay: Redis unavailable, retrying", exc_info=True)
                recovering = True
                self._stop_event.wait(1.0)
