"""Batched, durable Sage writes: one writer per organisation sends what every worker needs.

The sync decides what an event needs in Sage (create this invoice, close and post it,
settle these open items, read them) and hands each step to `SageWriter.submit`, which
records it in Redis with its idempotency key (the `salesOrderNumber`, the settlement's
`documentNumber`, ...) and waits for its result. One writer per organisation, in whichever
worker process holds the organisation's lease, takes everything pending and sends it as
one aliased GraphQL document per kind (mutations, then queries), each step's operations
kept together and in order (a close before its post), then records each step's result,
which wakes its caller. Up to `writer_in_flight` documents are out at once (their round
trips overlap; Sage allows 10 concurrent mutations); while all are out, new steps gather in
Redis for the next one: a step waits for a batch only while requests are already out for
its organisation, never for a fixed window, so at low traffic each step leaves at once.
Steps of one order never race each other: a caller submits its next step only once the
previous one's result is known, and one order's events run under its lock.

Redis, under `<prefix>:writer:<organisation>`:

    ops       hash   step id -> the step (operations, key, kind, cost)
    pending   list   step ids, oldest first
    inflight  hash   step id -> token of the writer that sent it
    alive:<id>       the caller still waits (refreshed every second, expires in 3 s)
    result:<id>      list holding the step's result once known
    lease            token of the active writer (`writer_lease` seconds, renewed)
    bell             a push here wakes the writer

Guarantees:
- A step is sent once at most. A writer that dies with steps in flight leaves them in
  `inflight`; the next lease holder answers them "outcome unknown"
  (`SageTransientError(maybe_committed=True)`), and the caller looks in Sage by reference
  before acting again, as after any lost answer.
- A step whose caller died before it was sent is dropped, not sent: its event was not
  acknowledged and runs again (`tasks.ingest.sweep`), deciding afresh after looking in
  Sage (a caller that was only slow to refresh its mark gets a "not sent" error, and its
  event is retried). A caller that gives up waiting withdraws its step if not sent yet.
- A refused alias fails its own step only (`SageClient.execute_batch` maps errors by
  alias); a document refused unrun (HTTP 400) is sent again step by step; a whole-request
  failure (timeout, 5xx, a lost answer) goes to every step in it, with `maybe_committed`.
- Documents stay within `batch_max_operations` and the estimated `max_batch_cost` (Sage
  refuses above `maxFieldCost = 650000`); the rate limit and mutation slots of
  `SageClient` apply to every document.

`batch_max_operations = 1` turns batching off: each caller sends its own step at once (one
request per step, the bridge's former path), kept to measure the batched path against.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import redis

from connectors.sage_active import jsonenc
from connectors.sage_active.batch import Operation
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import (
    SageComplexityError,
    SageError,
    SageInvalidRequest,
    SageTransientError,
)
from connectors.sage_active.steps import (
    Result,
    Step,
    WriterKeys,
    decode_op,
    decode_result,
    encode_op,
    encode_result,
)

log = logging.getLogger(__name__)

ALIVE_TTL_MS = 3000  # a caller refreshes its mark every second; dead after 3 s
RESULT_TTL = 600  # seconds a result waits for its caller
SCAN_FACTOR = 4  # pending steps looked at per round, per allowed operation
_IDLE_WAIT = 1.0
_STANDBY_WAIT = 0.5

# Claim steps for this writer: drop them from `pending`; those still there go in flight.
_CLAIM = """
local claimed = {}
for i, id in ipairs(ARGV) do
  if i > 1 and redis.call('LREM', KEYS[1], 1, id) == 1 then
    redis.call('HSET', KEYS[2], id, ARGV[1])
    table.insert(claimed, id)
  end
end
return claimed
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Withdraw a step that was not sent: 1 if it was still pending.
_WITHDRAW = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


class SageWriter:
    """Batches `submit` calls of every process through Redis; see the module docstring."""

    def __init__(self, client: SageClient, *, wait_limit: float | None = None) -> None:
        self.client = client
        self._redis: redis.Redis = client.redis
        config = client.config
        self._max_ops = config.batch_max_operations
        self._max_cost = config.max_batch_cost
        self._lease_ttl = config.writer_lease
        self._in_flight = config.writer_in_flight
        self._slots = threading.Semaphore(self._in_flight)
        self._senders: set[threading.Thread] = set()
        # Longer than any request can last (timeouts, retries, limiter waits).
        self._wait_limit = wait_limit or (
            config.timeout * (config.max_retries + 2) + config.max_limiter_wait
        )
        self._token = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._keeper: threading.Thread | None = None
        self._stop = threading.Event()
        self._holding = False
        self._claim = self._redis.register_script(_CLAIM)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)
        self._withdraw = self._redis.register_script(_WITHDRAW)
        client.on_close(self.stop)

    @property
    def batching(self) -> bool:
        return self._max_ops > 1

    # -- callers ----------------------------------------------------------------------

    def submit(self, operations: Sequence[Operation], key: str = "") -> list[Result]:
        """Run `operations` (all queries or all mutations) in one document, possibly with
        other callers' steps; `key` is the step's idempotency key (its Sage reference).

        Returns one result per operation: the alias' data or its own `SageError`.

        Raises:
            ValueError: no operations, or queries mixed with mutations.
            SageAuthError, SageTransientError, SageInvalidRequest: the request that carried
                this step failed as a whole; `maybe_committed` when it may have run.
            redis.RedisError: the step could not be recorded (nothing was sent).
        """
        ops = list(operations)
        if not ops or any(op.mutation != ops[0].mutation for op in ops):
            raise ValueError("submit needs operations of one kind")
        if not self.batching:  # one step, one document (close and post stay together)
            return self.client.execute_batch(ops, max_size=len(ops))
        step_id = uuid.uuid4().hex
        keys = self.keys()
        entry = {"key": key, "ops": [encode_op(op) for op in ops]}
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(keys.ops, step_id, jsonenc.dumps(entry))
        pipe.set(keys.alive(step_id), 1, px=ALIVE_TTL_MS)
        pipe.rpush(keys.pending, step_id)
        pipe.lpush(keys.bell, 1)
        pipe.ltrim(keys.bell, 0, 0)
        pipe.execute()
        self.ensure_running()
        return self._wait(keys, step_id, len(ops))

    def _wait(self, keys: WriterKeys, step_id: str, count: int) -> list[Result]:
        deadline = time.monotonic() + self._wait_limit
        while time.monotonic() < deadline:
            popped = self._redis.blpop([keys.result(step_id)], timeout=1)
            if popped is not None:
                self._redis.delete(keys.alive(step_id))
                results = [decode_result(r) for r in jsonenc.loads(popped[1])]
                if len(results) != count:
                    raise SageTransientError("writer answered the wrong number of results")
                return results
            self._redis.set(keys.alive(step_id), 1, px=ALIVE_TTL_MS)
            self.ensure_running()
        if self._withdraw(keys=[keys.pending, keys.ops], args=[step_id]):
            raise SageTransientError("no Sage writer took the step in time")
        raise SageTransientError("the step's result never came", maybe_committed=True)

    # -- the writer -------------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start this process's writer thread unless it runs (it takes the organisation's
        lease when free and sends what is pending)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            if self._keeper is None or not self._keeper.is_alive():
                self._keeper = threading.Thread(
                    target=self._keep_lease, name="sage-writer-lease", daemon=True
                )
                self._keeper.start()
            self._thread = threading.Thread(target=self._run, name="sage-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the writer thread and give the lease back (tests, shutdown)."""
        self._stop.set()
        if self._holding:
            try:  # wake it from its idle wait
                self._redis.lpush(self.keys().bell, 1)
            except (redis.RedisError, SageError):
                log.warning("sage writer: could not wake the writer", exc_info=True)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        for sender in list(self._senders):  # documents out: record their results first
            sender.join(timeout)
        keeper = self._keeper
        if keeper is not None:
            keeper.join(timeout)
        if self._holding:
            self._holding = False
            try:
                self._release(keys=[self.keys().lease], args=[self._token])
            except (redis.RedisError, SageError):
                log.warning("sage writer: could not give the lease back", exc_info=True)

    def pending(self) -> int:
        """Steps waiting to be sent for this organisation."""
        return int(self._redis.llen(self.keys().pending))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._holding and not self._acquire():
                    self._stop.wait(_STANDBY_WAIT)
                    continue
                if not self._slot_free():
                    continue  # all documents out: steps gather meanwhile
                if not self.round():
                    self._redis.blpop([self.keys().bell], timeout=_IDLE_WAIT)
            except redis.RedisError:
                # Results may be unrecorded: stop renewing, and take the lease afresh (a
                # new token) once Redis is back, answering what this writer had in flight.
                log.warning("sage writer: Redis unavailable, retrying", exc_info=True)
                self._holding = False
                self._stop.wait(_IDLE_WAIT)
            except Exception:
                log.exception("sage writer: unexpected failure, going on")
                self._stop.wait(_IDLE_WAIT)

    def _acquire(self) -> bool:
        """Take the lease under a new token: steps left in flight under an older one (by a
        dead writer, or by this one before Redis failed it) are orphans to answer."""
        keys = self.keys()
        ms = int(self._lease_ttl * 1000)
        token = uuid.uuid4().hex
        if not self._redis.set(keys.lease, token, nx=True, px=ms):
            return False
        self._token = token
        self._holding = True
        self._answer_orphans(keys)
        return True

    def _keep_lease(self) -> None:
        while not self._stop.wait(self._lease_ttl / 3):
            if not self._holding:
                continue
            try:
                ms = int(self._lease_ttl * 1000)
                if not self._renew(keys=[self.keys().lease], args=[self._token, ms]):
                    self._holding = False
            except redis.RedisError:
                log.warning("sage writer: could not renew the lease", exc_info=True)

    def _answer_orphans(self, keys: WriterKeys) -> None:
        """Steps a dead writer had sent: their outcome is unknown, say so to their callers."""
        inflight = self._redis.hgetall(keys.inflight)
        orphans = [_text(i) for i, token in inflight.items() if _text(token) != self._token]
        if not orphans:
            return
        log.warning("sage writer: %d steps of a dead writer have an unknown outcome", len(orphans))
        raw = self._redis.hmget(keys.ops, orphans)
        unknown = SageTransientError("the writer sending this step died", maybe_committed=True)
        results: dict[str, list[Result]] = {
            step_id: [unknown] * len(jsonenc.loads(text)["ops"])
            for step_id, text in zip(orphans, raw, strict=True)
            if text
        }
        self._record(keys, results, orphans)

    def _slot_free(self) -> bool:
        """Wait (a while) until fewer than `writer_in_flight` documents are out. Only this
        thread takes slots, so one seen free stays free until it takes it."""
        if not self._slots.acquire(timeout=_IDLE_WAIT):
            return False
        self._slots.release()
        return True

    def round(self) -> bool:
        """Send one document of each kind from what is pending (each in its own sender
        thread while it is out); False when nothing was pending."""
        keys = self.keys()
        scan = self._max_ops * SCAN_FACTOR
        ids = [_text(i) for i in self._redis.lrange(keys.pending, 0, scan - 1)]
        if not ids:
            return False
        raw = self._redis.hmget(keys.ops, ids)
        alive = self._redis.mget([keys.alive(i) for i in ids])
        steps: list[Step] = []
        abandoned: list[str] = []
        for step_id, text, mark in zip(ids, raw, alive, strict=True):
            if text is None:
                continue
            if mark is None:
                abandoned.append(step_id)
                continue
            entry = jsonenc.loads(text)
            steps.append(Step(step_id, [decode_op(o) for o in entry["ops"]], entry["key"]))
        if abandoned:
            self._drop(keys, abandoned)
        chosen = self._pack([s for s in steps if s.mutation]) + self._pack(
            [s for s in steps if not s.mutation]
        )
        claimed = set(
            _text(i)
            for i in self._claim(
                keys=[keys.pending, keys.inflight], args=[self._token, *(c.id for c in chosen)]
            )
        )
        chosen = [s for s in chosen if s.id in claimed]
        for kind in (True, False):
            batch = [s for s in chosen if s.mutation is kind]
            if batch:
                self._dispatch(keys, batch)
        return bool(ids)

    def _dispatch(self, keys: WriterKeys, batch: list[Step]) -> None:
        """Send `batch` in a sender thread holding one of the in-flight slots (claimed
        steps are in `inflight`: if this process dies they are answered "outcome unknown")."""
        self._slots.acquire()

        def send() -> None:
            try:
                self._send(keys, batch)
            except redis.RedisError:
                # Results unrecorded: take the lease afresh (a new token) once Redis is
                # back, which answers this document's steps "outcome unknown".
                log.warning("sage writer: could not record a document's results", exc_info=True)
                self._holding = False
            except Exception:
                log.exception("sage writer: unexpected failure sending a document")
            finally:
                self._slots.release()
                self._senders.discard(threading.current_thread())

        sender = threading.Thread(target=send, name="sage-writer-send", daemon=True)
        self._senders.add(sender)
        sender.start()

    def _pack(self, steps: list[Step]) -> list[Step]:
        """The oldest steps that fit one document (the first always does)."""
        chosen: list[Step] = []
        size = cost = 0
        for step in steps:
            n, c = len(step.operations), step.cost
            if chosen and (size + n > self._max_ops or cost + c > self._max_cost):
                break
            chosen.append(step)
            size += n
            cost += c
        return chosen

    def _send(self, keys: WriterKeys, steps: list[Step]) -> None:
        results: dict[str, list[Result]] = {}
        try:
            self._send_steps(steps, results)
        finally:
            unknown = SageTransientError(
                "the request carrying this step failed unexpectedly", maybe_committed=True
            )
            for step in steps:
                results.setdefault(step.id, [unknown] * len(step.operations))
            self._record(keys, results, [s.id for s in steps])

    def _send_steps(self, steps: list[Step], results: dict[str, list[Result]]) -> None:
        ops = [op for step in steps for op in step.operations]
        try:
            answers = self.client.execute_batch(ops)
        except SageError as err:
            if len(steps) > 1 and _refused_unrun(err):
                # One step's bad input must not fail the others: Sage ran nothing.
                for step in steps:
                    self._send_steps([step], results)
                return
            for step in steps:
                results[step.id] = [err] * len(step.operations)
            return
        start = 0
        for step in steps:
            results[step.id] = answers[start : start + len(step.operations)]
            start += len(step.operations)

    def _record(self, keys: WriterKeys, results: dict[str, list[Result]], ids: list[str]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for step_id, values in results.items():
            pipe.rpush(keys.result(step_id), jsonenc.dumps([encode_result(v) for v in values]))
            pipe.expire(keys.result(step_id), RESULT_TTL)
        if ids:
            pipe.hdel(keys.ops, *ids)
            pipe.hdel(keys.inflight, *ids)
        pipe.execute()

    def _drop(self, keys: WriterKeys, ids: list[str]) -> None:
        """Drop unsent steps whose callers look gone. A caller that was only slow to say it
        still waits gets a "not sent" error (its event is retried), never silence."""
        log.info("sage writer: %d steps dropped, their callers are gone", len(ids))
        raw = self._redis.hmget(keys.ops, ids)
        not_sent = SageTransientError("the step was dropped unsent: its caller looked gone")
        results: dict[str, list[Result]] = {
            step_id: [not_sent] * len(jsonenc.loads(text)["ops"])
            for step_id, text in zip(ids, raw, strict=True)
            if text
        }
        pipe = self._redis.pipeline(transaction=True)
        for step_id in ids:
            pipe.lrem(keys.pending, 1, step_id)
        pipe.execute()
        self._record(keys, results, ids)

    def keys(self) -> WriterKeys:
        """Where this organisation's steps are kept in Redis."""
        return WriterKeys(self.client.config.key("writer", self.client.organization_id()))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _refused_unrun(err: SageError) -> bool:
    """Whether Sage refused the document before running any of it (HTTP 4xx: invalid
    variables or document). A complexity refusal is split by the client itself."""
    return (
        isinstance(err, SageInvalidRequest)
        and not isinstance(err, SageComplexityError)
        and err.status is not None
        and 400 <= err.status < 500
    )
