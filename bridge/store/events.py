"""The event ledger and its outbox: every accepted webhook, its status and its attempts.

Keys (under `bridge:<connection>:`):
    event:<ref>            hash: the record (raw body, kept headers, provider, topic, status...)
    attempts:<ref>         list: JSON processing attempts (time, task id, outcome, error)
    events:index:all       zset ref -> received time (µs), newest last
    events:index:<status>  zset ref -> received time, one per status
    outbox                 list of refs whose processing is to be sent to Celery
    outbox:inflight        list of refs taken by a relay, not yet confirmed sent
    outbox:seen            hash ref -> when a sweep first saw it in flight
    parked                 zset ref -> due time (s) of parked events
    events:trim_cursor     score up to which the sweep last trimmed the `all` index
    worker:<hostname>      a worker's heartbeat (see `bridge.store.workers`)

Why no acknowledged event can be lost:
1. The ingress answers 2xx only after `record` returned, and `record` is ONE Lua script:
   Redis runs it atomically, so the record, its indexes and its outbox entry exist together
   or not at all. There is no instant where the event is recorded but not queued.
2. The relay moves a ref from `outbox` to `outbox:inflight` atomically (BLMOVE), sends the
   Celery task, then removes it from `inflight`. If the send fails (Redis went away), the
   relay keeps the ref and sends it again as soon as Redis answers. If the relay dies in
   between, the ref stays in `inflight`, and `sweep` puts it back on the outbox once it has
   been there a minute. After a Redis restart every ref in `inflight` is re-sent at once
   (`resend_after_restart`): a restart broke every hand-off under way, including a BLMOVE
   whose answer was lost with the connection; so are events `queued` on no outbox and
   events `processing` (a Celery message reserved by a worker, or the end of a run, may
   have been lost with the connection; Celery alone would wait an hour).
3. Celery runs tasks with `acks_late` and `reject_on_worker_lost`: a task message is only
   acknowledged after the task ran, so a worker dying mid-task gets it redelivered.
4. If anything else drops the ball (a Celery message lost with its Redis, a whole worker
   killed mid-task), the event's status is still `queued` or `processing`; `sweep` re-sends
   events in those statuses for longer than a grace period, and parked events when they
   fall due. Tasks are idempotent, so a double send is harmless.
5. A worker killed mid-task would otherwise wait for that grace (or for Celery's visibility
   timeout): each attempt records its worker, each worker keeps a heartbeat, and `sweep`
   re-sends at once an event `processing` on a worker whose heartbeat is gone.

Retention: an event that reaches `processed` or `ignored` expires, with its attempts,
`settings.event_retention_days` later (longer than Stripe's 30 days of redelivery, so a late
duplicate is still recognised); `failed` events stay until replayed. `sweep` drops index
entries whose record expired.

Durability across a Redis crash is Redis's: run it with the append-only file on
(`appendonly yes`). With `appendfsync everysec` (`bridge dev`, docker-compose) a crash of
the Redis process loses nothing acknowledged (each write is handed to the OS before Redis
answers); a power cut or OS crash can lose about the last second. `always` loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache

import redis

from bridge.metrics import Metrics, label_field
from bridge.settings import Settings
from bridge.store import event_scripts
from bridge.store.event_models import (
    STATUSES,
    Attempt,
    EventRecord,
    EventStatus,
    EventSummary,
    NewEvent,
    Provider,
    SweepResult,
)
from bridge.store.event_sweep import EventSweeper, resend_after_restart
from bridge.store.held import HeldConnections
from bridge.store.workers import WorkerId

log = logging.getLogger(__name__)

__all__ = [
    "STATUSES",
    "Attempt",
    "EventRecord",
    "EventStatus",
    "EventStore",
    "EventSummary",
    "NewEvent",
    "Provider",
    "SweepResult",
]

Scored = list[tuple[str, float]]  # (ref, score) pairs; named so `EventStore.list` can't shadow


@lru_cache(maxsize=512)
def _record_labels(provider: str, topic: str) -> tuple[str, str]:
    """Label fields of the received and duplicate counters (few distinct; cached)."""
    return label_field({"provider": provider, "topic": topic}), label_field({"provider": provider})


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


class EventStore:
    """The ledger of inbound events and the outbox feeding Celery."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        held: HeldConnections | None = None,
    ) -> None:
        """`held`: the connections `record` runs on, when shared with other stores (one
        per thread for every connection of the deployment, not one per connection)."""
        self._redis = client
        self._settings = settings
        self._clock = clock
        self._metrics = Metrics(client, settings)
        self._record = client.register_script(event_scripts.RECORD)
        self._held = held or HeldConnections(client.connection_pool)  # record's own connections
        self._owns_held = held is None
        self._mark = client.register_script(event_scripts.MARK)
        self._resend = client.register_script(event_scripts.RESEND)
        self.outbox_key = settings.key("outbox")
        self.inflight_key = settings.key("outbox", "inflight")
        self._seen_key = settings.key("outbox", "seen")
        self._run_id_key = settings.key("outbox", "redis_run_id")
        self.parked_key = settings.key("parked")

    def _event_key(self, ref: str) -> str:
        return self._settings.key("event", ref)

    def _attempts_key(self, ref: str) -> str:
        return self._settings.key("attempts", ref)

    def event_key(self, ref: str) -> str:
        """The Redis key of `ref`'s record."""
        return self._event_key(ref)

    def attempts_key(self, ref: str) -> str:
        """The Redis key of `ref`'s attempts."""
        return self._attempts_key(ref)

    def index_key(self, status: EventStatus | None = None) -> str:
        return self._settings.key("events", "index", status.value if status else "all")

    @cached_property
    def _record_keys(self) -> tuple[str, str, str, str, str]:
        """The keys every `record` shares: all index, outbox, received, names, duplicates."""
        counter = self._metrics.counter_key
        return (
            self.index_key(),
            self.outbox_key,
            counter("bridge_events_received_total"),
            self._metrics.names_key,
            counter("bridge_events_duplicate_total"),
        )

    def record(self, event: NewEvent) -> bool:
        """Record `event` and queue it (unless ignored) in one atomic call; False if known.

        This is the ingress's hot path: one EVALSHA of a pre-registered script on a
        connection the calling thread holds (`bridge.store.held`), its constant keys and
        label fields computed once, the record's fields named inside the script. Sending it
        twice is harmless (the second finds the record): a stale connection is retried.

        Raises:
            redis.RedisError: Redis is unreachable. Do not acknowledge: if the call did run
                before the connection broke, the provider's retry is seen as a duplicate.
        """
        now = self._clock()
        all_index, outbox, received, names, duplicate = self._record_keys
        ref = event.ref
        status = event.status.value
        keys = [self._event_key(ref), all_index, self.index_key(event.status), outbox]
        keys += [received, names, duplicate]
        labels = _record_labels(event.provider, event.topic)
        args = [ref, str(int(now * 1_000_000)), status, *labels]
        args += [event.provider, event.provider_id, event.topic, _iso(now), repr(now)]
        args += [json.dumps(event.headers, sort_keys=True), event.body]
        try:
            sha = self._record.sha
            new = bool(self._held.execute("EVALSHA", sha, len(keys), *keys, *args))
        except redis.exceptions.NoScriptError:
            # Redis restarted (or flushed its scripts) since: the Script object reloads it.
            # Nothing ran, so running it now is the first and only time.
            # Loaded and run on the same connection: `WAIT` below covers this write.
            sha = str(self._held.execute("SCRIPT", "LOAD", event_scripts.RECORD))
            new = bool(self._held.execute("EVALSHA", sha, len(keys), *keys, *args))
        self._replicated()
        return new

    def _replicated(self) -> None:
        """With `BRIDGE_REDIS_MIN_REPLICAS`, wait until that many replicas have the record
        (Redis `WAIT`) before the ingress acknowledges it: a failover to a replica then
        loses no acknowledged webhook. A master with fewer replicas connected than asked
        (alone after a failover, until a new replica joins) is not waited for: refusing
        every webhook then would stop the ingress; its append-only file is the copy.

        Raises:
            redis.RedisError: replicas connected but fewer confirmed the record within the
                timeout (the ingress answers 503 and the provider retries).
        """
        wanted = self._settings.redis_min_replicas
        if wanted <= 0:
            return
        timeout_ms = int(self._settings.redis_replica_timeout * 1000)
        acked = int(self._held.execute("WAIT", wanted, timeout_ms))
        if acked >= wanted:
            return
        role = self._held.execute("ROLE")  # [b"master", offset, [[ip, port, offset]...]]
        connected = len(role[2]) if len(role) > 2 and isinstance(role[2], list) else 0
        if connected < wanted:
            log.warning("Redis master has %d replica(s) connected (< %d): not waiting for them",
                        connected, wanted)  # fmt: skip
            return
        raise redis.exceptions.ConnectionError(
            f"the event reached {acked} of the {wanted} Redis replica(s) required "
            "(BRIDGE_REDIS_MIN_REPLICAS): not acknowledged"
        )

    @property
    def held(self) -> HeldConnections:
        """The connections `record` runs on (to share with another connection's store)."""
        return self._held

    def close(self) -> None:
        """Close the connections `record` holds (the pool's are the client's to close)."""
        if self._owns_held:
            self._held.close()

    def get(self, ref: str) -> EventRecord | None:
        """The whole record of `ref`, or None if there is none.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._event_key(ref))
        pipe.lrange(self._attempts_key(ref), 0, -1)
        raw, attempts = pipe.execute()
        if not raw:
            return None
        due = raw.get("due")
        return EventRecord(
            **self._summary_fields(raw),
            body=raw["body"],
            headers=json.loads(raw["headers"]),
            attempts=[Attempt.model_validate_json(a) for a in attempts],
            due_at=dt.datetime.fromtimestamp(float(due), dt.UTC) if due else None,
        )

    @staticmethod
    def _summary_fields(raw: dict[str, str]) -> dict[str, str | None]:
        names = ("ref", "provider", "provider_id", "topic", "status", "received_at")
        fields: dict[str, str | None] = {name: raw[name] for name in names}
        fields["updated_at"] = raw["updated_at"]
        fields["error"] = raw.get("error") or None
        return fields

    def list(
        self,
        provider: str | None = None,
        topic: str | None = None,
        status: EventStatus | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[EventSummary], str | None]:
        """Events newest first, filtered; returns the page and the cursor of the next one.

        Raises:
            ValueError: the cursor is not one this method returned.
            redis.RedisError: Redis is unreachable.
        """
        top, after_ref = self._parse_cursor(cursor)
        index, scanned = self.index_key(status), 0
        page: list[EventSummary] = []
        while len(page) < limit and scanned < 10_000:
            entries = self._page_of_index(index, top, after_ref, max(limit * 4, 100))
            if not entries:
                return page, None
            pipe = self._redis.pipeline(transaction=False)
            for member, _ in entries:
                pipe.hgetall(self._event_key(member))
            for (member, score), raw in zip(entries, pipe.execute(), strict=True):
                scanned += 1
                top, after_ref = score, member
                if raw and (provider in (None, raw["provider"])) and topic in (None, raw["topic"]):
                    page.append(EventSummary.model_validate(self._summary_fields(raw)))
                    if len(page) == limit:
                        break
        return page, f"{int(top)}|{after_ref}"

    def _page_of_index(self, index: str, top: float, after_ref: str | None, count: int) -> Scored:
        """Up to `count` (ref, score) from `top` down, skipping ties already returned."""
        raw = self._redis.zrevrangebyscore(
            index, top, "-inf", start=0, num=count + 1, withscores=True
        )
        entries: Scored = [(str(member), float(score)) for member, score in raw]  # type: ignore[str-unpack]
        # Equal scores come in reverse lexical order: those >= after_ref were returned.
        return [(m, s) for m, s in entries if not (after_ref and s == top and m >= after_ref)]

    @staticmethod
    def _parse_cursor(cursor: str | None) -> tuple[float, str | None]:
        if not cursor:
            return float("inf"), None
        score, sep, ref = cursor.partition("|")
        if not sep or not score.isdigit() or not ref:
            raise ValueError(f"invalid cursor {cursor!r}")
        return float(score), ref

    def counts(self) -> dict[str, int]:
        """Number of events by status (every status present, zeros included).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        for status in STATUSES:
            pipe.zcard(self.index_key(status))
        return {s.value: int(n) for s, n in zip(STATUSES, pipe.execute(), strict=True)}

    def mark(
        self,
        ref: str,
        status: EventStatus,
        *,
        error: str | None = None,
        retry_in: float | None = None,
        requeue: bool = False,
        allowed: tuple[EventStatus, ...] = (),
        outcome: str | None = None,
        attempt: tuple[str, Attempt] | None = None,
        worker: WorkerId | None = None,
        only_from: WorkerId | None = None,
    ) -> EventStatus | None:
        """Move `ref` to `status` atomically; returns its previous status, None if unknown.

        `allowed` restricts the statuses it may move from (the move is skipped otherwise and
        the current status returned); `retry_in` is the delay of a parked event (or of a
        queued one waiting for a Celery retry); `requeue` puts it back on the outbox;
        `outcome` counts it in `bridge_events_processed_total`; `attempt` =
        ("start"|"finish", attempt) records one; `worker` is the one taking it (a move to
        `processing`); `only_from` skips the move unless that worker took it last. A move
        to `processed`/`ignored` starts the retention clock, any other move stops it.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        now = self._clock()
        event_key = self._event_key(ref)
        keys = [event_key, self._attempts_key(ref), self.parked_key, self.outbox_key]
        keys += [self._metrics.counter_key("bridge_events_processed_total")]
        keys += [self._metrics.names_key] + [self.index_key(s) for s in STATUSES]
        field = ""
        if outcome:
            provider, _, _ = ref.partition(":")
            topic = self._redis.hget(event_key, "topic") or ""
            field = label_field({"provider": provider, "topic": str(topic), "outcome": outcome})
        mode, payload, task_id = "", "", ""
        if attempt is not None:
            mode, payload, task_id = attempt[0], attempt[1].model_dump_json(), attempt[1].task_id
        args = [ref, status.value, _iso(now), repr(now), error or ""]
        args += [repr(now + (retry_in or 0.0)), "1" if requeue else "0", field]
        args += [",".join(s.value for s in allowed), mode, payload, task_id]
        args += [worker.hostname, worker.boot] if worker else ["", ""]
        args += [only_from.boot if only_from else "", str(self.retention_ms)]
        moved, previous = self._mark(keys=keys, args=args)
        if int(moved) < 0:
            return None
        return EventStatus(previous)

    def requeue(self, ref: str) -> EventStatus | None:
        """Put `ref` back on the outbox as `queued` (replay); returns its previous status.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        return self.mark(ref, EventStatus.QUEUED, requeue=True)

    def next_for_relay(self, timeout: float = 1.0) -> str | None:
        """Take the oldest outbox ref into `inflight` (blocking up to `timeout` s), or None.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        ref = self._redis.blmove(
            self.outbox_key,
            self.inflight_key,
            timeout,  # type: ignore[arg-type] # redis accepts fractional seconds
            "RIGHT",
            "LEFT",
        )
        return str(ref) if ref is not None else None

    def relayed(self, ref: str) -> None:
        """Confirm `ref` was handed to Celery: drop it from `inflight`.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.lrem(self.inflight_key, 1, ref)
        pipe.hdel(self._seen_key, ref)
        pipe.execute()

    def resend_after_restart(self) -> int:
        """Re-send at once what a Redis restart may have dropped; 0 if Redis did not restart.

        See `bridge.store.event_sweep.resend_after_restart`.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        keys = (self.inflight_key, self.outbox_key, self._seen_key, self._run_id_key)
        return resend_after_restart(self, self._redis, keys, self._resend)

    @property
    def retention_ms(self) -> int:
        """How long a processed or ignored event is kept, in milliseconds."""
        return max(1, int(self._settings.event_retention_days * 86_400_000))

    def sweep(
        self,
        inflight_grace: float = 60.0,
        queued_grace: float = 300.0,
        processing_grace: float = 1800.0,
    ) -> SweepResult:
        """Re-send what may have been dropped, trim expired index entries. Idempotent.

        Refs in flight longer than `inflight_grace`, events `queued` longer than
        `queued_grace`, events `processing` on a worker whose heartbeat is gone (or, with
        no worker recorded, for longer than `processing_grace`), and parked events that are
        due go back on the outbox. See `bridge.store.event_sweep`.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        sweeper = EventSweeper(self, self._redis, self._settings, self._resend)
        return sweeper.run(self._clock(), inflight_grace, queued_grace, processing_grace)

    def queue_lengths(self) -> dict[str, int]:
        """Lengths of the outbox, the relay's in-flight list and the parked set.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.llen(self.outbox_key)
        pipe.llen(self.inflight_key)
        pipe.zcard(self.parked_key)
        outbox, inflight, parked = pipe.execute()
        return {"outbox": int(outbox), "inflight": int(inflight), "parked": int(parked)}

    def requeue_many(self, refs: Sequence[str], allowed: tuple[EventStatus, ...]) -> int:
        """Put each of `refs` whose status is in `allowed` back on the outbox as `queued`,
        in ONE pipelined round trip (the same atomic move as `mark(..., requeue=True)`
        per ref); returns how many moved. Others (already queued, processed...) are left.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not refs:
            return 0
        now = self._clock()
        shared = [self.parked_key, self.outbox_key]
        shared += [self._metrics.counter_key("bridge_events_processed_total")]
        shared += [self._metrics.names_key] + [self.index_key(s) for s in STATUSES]
        # ARGV as `mark` sends them: no error, no delay, requeue, no metric, allowed,
        # no attempt, no worker, any worker, retention.
        tail = [repr(now), "1", "", ",".join(s.value for s in allowed), "", "", ""]
        tail += ["", "", "", str(self.retention_ms)]
        pipe = self._redis.pipeline(transaction=False)
        for ref in refs:
            keys = [self._event_key(ref), self._attempts_key(ref), *shared]
            args = [ref, EventStatus.QUEUED.value, _iso(now), repr(now), "", *tail]
            self._mark(keys=keys, args=args, client=pipe)
        return sum(1 for moved, _ in pipe.execute() if int(moved) > 0)
