"""Events wait, without failing, while Sage needs a login or its circuit is open.

An outage of Sage is not a fault of the events. When a handler meets one (the connector
raises `SageAuthError(needs_login=True)` or `SageCircuitOpen`, turned into the
dispatcher's `Waiting` by `bridge.sync.errors`), `run_event` parks the event with the
outcome `held` (an attempt that does not count toward `MAX_ATTEMPTS`) and records it on
the gate it waits at:

    held:sage_auth      zset ref -> when it was held: waiting for a working token
    held:sage_circuit   zset ref -> when it was held: waiting for the circuit to close

`check(services)` (run by every worker's `tasks.gate.GateProbe` thread, every
`BRIDGE_SAGE_PROBE_INTERVAL` s) opens the gates again:
- needs login: it tries a token grant (`TokenManager.probe`); once one works (or
  `bridge sage-login` stored a new token, which clears the mark), every held event is
  requeued at once;
- circuit: closed -> every held event is requeued; half-open (cool-down over) -> ONE held
  event is requeued, to be the probe that closes the circuit (one per cool-down).

A held event is also parked with a long due time (`HOLD_RECHECK`): if a release were ever
missed, the sweep requeues it then, it meets the gate again and waits again, still without
spending an attempt. Releases are pipelined: hundreds of events cost a few round trips.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis

from bridge.settings import Settings
from bridge.store.events import EventStatus, EventStore
from connectors.sage_active.auth import NeedsLogin
from connectors.sage_active.circuit import CircuitState, circuit_state

if TYPE_CHECKING:
    from connectors.sage_active.client import SageClient

log = logging.getLogger(__name__)

GATE_AUTH = "sage_auth"
GATE_CIRCUIT = "sage_circuit"
GATES = (GATE_AUTH, GATE_CIRCUIT)
HOLD_RECHECK = 300.0  # seconds: a held event is looked at again after this at the latest
RELEASE_BATCH = 500


class Gates:
    """The held events of one connection."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        events: EventStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._settings = settings
        self._events = events
        self._clock = clock

    def key(self, gate: str) -> str:
        return self._settings.key("held", gate)

    def hold(self, gate: str, ref: str) -> None:
        """Record that `ref` waits at `gate` (the event is parked already).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        self._redis.zadd(self.key(gate), {ref: self._clock()}, nx=True)

    def held(self) -> dict[str, int]:
        """How many events wait at each gate.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        for gate in GATES:
            pipe.zcard(self.key(gate))
        return {gate: int(n) for gate, n in zip(GATES, pipe.execute(), strict=True)}

    def release(self, gate: str, limit: int | None = None) -> int:
        """Requeue the events held at `gate`, oldest first (all, or `limit`); how many.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        released = 0
        while limit is None or released < limit:
            count = RELEASE_BATCH if limit is None else min(RELEASE_BATCH, limit - released)
            popped: list[tuple[str, float]] = self._redis.zpopmin(self.key(gate), count)  # type: ignore[assignment]
            if not popped:
                break
            released += self._events.requeue_many(
                [ref for ref, _ in popped], allowed=(EventStatus.PARKED,)
            )
            if len(popped) < count:
                break
        if released:
            log.info("released %d events held at %s", released, gate)
        return released

    def probe_turn(self, seconds: float) -> bool:
        """True at most once per `seconds`: whether to release a circuit probe now."""
        key = self._settings.key("held", GATE_CIRCUIT, "probe_turn")
        return bool(self._redis.set(key, "1", nx=True, px=max(1, int(seconds * 1000))))


@dataclass(frozen=True)
class SageStatus:
    """What the console, `/readyz` and `/metrics` show of the Sage connection."""

    needs_login: NeedsLogin | None
    circuit: CircuitState
    held: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.needs_login is None and self.circuit.state == "closed"


def sage_key(settings: Settings, *parts: str) -> str:
    """A key of the Sage connector (`bridge.services.sage_config` uses this prefix)."""
    return ":".join((settings.key("sage"), *parts))


def sage_status(client: redis.Redis, settings: Settings, now: float | None = None) -> SageStatus:
    """Read the connection's gates from Redis (no Sage client needed: any web process).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    pipe = client.pipeline(transaction=False)
    pipe.get(sage_key(settings, "needs_login"))
    pipe.hgetall(sage_key(settings, "circuit"))
    for gate in GATES:
        pipe.zcard(settings.key("held", gate))
    raw_mark, raw_circuit, *counts = pipe.execute()
    if isinstance(raw_mark, bytes):
        raw_mark = raw_mark.decode()
    mark = NeedsLogin.model_validate_json(raw_mark) if raw_mark else None
    moment = time.time() if now is None else now
    circuit = circuit_state(raw_circuit, settings.sage.circuit_cooldown, moment)
    held = {gate: int(n) for gate, n in zip(GATES, counts, strict=True)}
    return SageStatus(needs_login=mark, circuit=circuit, held=held)


def check(gates: Gates, client: SageClient) -> dict[str, int]:
    """Open the gates that may open (see the module docstring); released events by gate.

    Raises:
        ConfigurationError: `SAGE_API_URL` is not set.
        redis.RedisError: Redis is unreachable.
    """
    released = {gate: 0 for gate in GATES}
    if client.tokens.probe():
        released[GATE_AUTH] = gates.release(GATE_AUTH)
    circuit = client.circuit.state(time.time())
    if circuit.state == "closed":
        released[GATE_CIRCUIT] = gates.release(GATE_CIRCUIT)
    elif circuit.state == "half_open" and gates.probe_turn(client.circuit.cooldown):
        released[GATE_CIRCUIT] = gates.release(GATE_CIRCUIT, limit=1)
    return released
