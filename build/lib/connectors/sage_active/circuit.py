"""A circuit breaker per organisation, shared by every process through Redis.

When Sage is down (5xx, timeouts, connection failures), sending every request only to see
it fail wastes time, burns retries and hammers a service that is struggling. A 429 is not
a failure here: Sage answered, and the shared limiter already makes every process wait its
`Retry-After` (`limiter.RateLimiter.pause`).
The breaker counts consecutive failures: a success resets the count, time does not (on a
quiet connection the failures of one event's retries may be minutes apart, and they still
say that Sage has not answered once):

    closed ──`circuit_threshold` failures──▶ open ──`circuit_cooldown` s──▶ half-open
      ▲                                        ▲                               │
      └──────────── the probe succeeds ────────┴──── the probe fails ──────────┘

- closed: requests go out.
- open: requests are not sent; `allow` raises `SageCircuitOpen` with the cool-down left.
- half-open: the cool-down is over; ONE request (the probe) is let through, holding a
  lease (`probe_lease` s, so a probe whose process died does not block the circuit); the
  others still get `SageCircuitOpen`. A success closes the circuit, a failure opens it for
  another cool-down.

State lives in one Redis hash (`<prefix>:circuit`); the connector's key prefix is per
connection, and a connection is one organisation. Each step is one Lua script, so every
worker sees the same state and exactly one probe goes out per cool-down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import redis

from connectors.sage_active.config import SageConfig
from connectors.sage_active.errors import SageCircuitOpen

CircuitName = Literal["closed", "open", "half_open"]
Transition = Callable[[str, str], None]  # (old state, new state)

# KEYS: circuit hash. ARGV: now, cooldown, probe lease.
# Returns {verdict, value}: 'closed' (send; value = failures counted), 'probe' (send, as
# the probe), 'open' (wait; value = seconds).
_ALLOW = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'open' then return {'closed', redis.call('HGET', KEYS[1], 'failures') or '0'} end
local now = tonumber(ARGV[1])
local left = tonumber(redis.call('HGET', KEYS[1], 'opened_at')) + tonumber(ARGV[2]) - now
if left > 0 then return {'open', tostring(left)} end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if probe > now then return {'open', tostring(probe - now)} end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[3])))
return {'probe', '0'}
"""
# KEYS: circuit hash. Returns the state before: 'closed' or 'open'.
_SUCCESS = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', '0', 'probe_until', '0')
  return 'open'
end
if tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') > 0 then
  redis.call('HSET', KEYS[1], 'failures', '0')
end
return 'closed'
"""
# KEYS: circuit hash. ARGV: now, threshold, was this the probe ('1'/'0').
# Returns {state before, state after}.
_FAILURE = """
local now = tonumber(ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then
  if ARGV[3] == '1' then
    redis.call('HSET', KEYS[1], 'opened_at', tostring(now), 'probe_until', '0')
  end
  return {'open', 'open'}
end
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') + 1
redis.call('HSET', KEYS[1], 'failures', tostring(failures), 'last_failure_at', tostring(now))
if failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', tostring(now), 'probe_until', '0')
  redis.call('HINCRBY', KEYS[1], 'opened_count', 1)
  return {'closed', 'open'}
end
return {'closed', 'closed'}
"""


@dataclass(frozen=True)
class Ticket:
    """A request let through: as the half-open `probe`, or on a closed circuit that had
    counted no failure (`clean`: its success has nothing to reset, no write needed)."""

    probe: bool = False
    clean: bool = False


@dataclass(frozen=True)
class CircuitState:
    """What the breaker says now, for metrics, the console and the gate's probe."""

    state: CircuitName
    failures: int = 0
    opened_at: float | None = None
    retry_in: float = 0.0  # seconds of cool-down left (open only)
    opened_count: int = 0  # times it opened, ever


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def circuit_state(raw: dict[bytes | str, bytes | str], cooldown: float, now: float) -> CircuitState:
    """The state a breaker's Redis hash (`HGETALL`) stands for at `now`."""
    fields = {_text(k): _text(v) for k, v in raw.items()}
    failures = int(fields.get("failures", "0") or 0)
    count = int(fields.get("opened_count", "0") or 0)
    if fields.get("state") != "open":
        return CircuitState("closed", failures=failures, opened_count=count)
    opened = float(fields.get("opened_at", "0") or 0)
    left = max(0.0, opened + cooldown - now)
    name: CircuitName = "open" if left > 0 else "half_open"
    return CircuitState(name, failures, opened, left, count)


class CircuitBreaker:
    """The shared breaker of one organisation; see the module docstring.

    `threshold` 0 turns it off: `allow` always lets requests through.
    """

    def __init__(
        self,
        config: SageConfig,
        redis_client: redis.Redis,
        on_transition: Transition | None = None,
    ) -> None:
        self.key = config.key("circuit")
        self.threshold = config.circuit_threshold
        self.cooldown = config.circuit_cooldown
        self.probe_lease = config.timeout + 5.0
        self._redis = redis_client
        self._on_transition = on_transition
        self._allow = redis_client.register_script(_ALLOW)
        self._success = redis_client.register_script(_SUCCESS)
        self._failure = redis_client.register_script(_FAILURE)

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def allow(self, now: float) -> Ticket:
        """May a request go now? Its ticket says whether it is the half-open probe.

        Raises:
            SageCircuitOpen: the circuit is open (or another request is the probe).
        """
        if not self.enabled:
            return Ticket(clean=True)
        verdict, value = (_text(v) for v in self._allow(keys=[self.key], args=self._args(now)))
        if verdict == "open":
            wait = float(value)
            raise SageCircuitOpen(f"Sage circuit open: not sent (retry in {wait:.0f} s)", wait)
        if verdict == "probe":
            return Ticket(probe=True)
        return Ticket(clean=value in ("", "0"))

    def _args(self, now: float) -> list[str]:
        return [repr(now), repr(self.cooldown), repr(self.probe_lease)]

    def success(self, ticket: Ticket | None = None) -> None:
        """A request succeeded: reset the count, close the circuit if it was open. With
        the request's `ticket`: nothing to do when it found the circuit clean (the usual
        case costs no Redis call)."""
        if not self.enabled or (ticket is not None and ticket.clean):
            return
        before = _text(self._success(keys=[self.key]))
        if before == "open":
            self._transition("open", "closed")

    def failure(self, now: float, ticket: Ticket) -> bool:
        """A request failed transiently; True when the circuit is open now."""
        if not self.enabled:
            return False
        args = [repr(now), str(self.threshold), "1" if ticket.probe else "0"]
        before, after = (_text(v) for v in self._failure(keys=[self.key], args=args))
        if before != after:
            self._transition(before, after)
        return after == "open"

    def state(self, now: float) -> CircuitState:
        """The breaker's state as seen at `now` (half-open: open with the cool-down over)."""
        raw: dict[bytes | str, bytes | str] = self._redis.hgetall(self.key)
        return circuit_state(raw, self.cooldown, now)

    def reset(self) -> None:
        """Close the circuit and forget its counts (tests, and an operator's decision)."""
        self._redis.delete(self.key)

    def _transition(self, before: str, after: str) -> None:
        if self._on_transition is not None:
            self._on_transition(before, after)
