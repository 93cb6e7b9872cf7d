"""The ledger's periodic sweep: re-send what was dropped, recover orphans, trim indexes.

Run by `tasks.ingest.sweep` (beat, every few seconds) through `EventStore.sweep`. Every
step is idempotent and bounded (a few hundred refs per run), so a sweep that overlaps
another, or runs late, does no harm.

Orphans: an event `processing` whose attempt was taken by a worker that no longer beats
(`bridge.store.workers`) is re-sent at once. The worker is identified by hostname and boot
id, so a restarted worker of the same name does not hide the dead one's orphans. A worker
frozen (not dead) for longer than the heartbeat TTL would see its event run a second time:
that is harmless, because processing is idempotent (a per-order lock, and intent markers
checked against Sage before each effect, in `bridge.sync`). Events with no worker recorded
(processed outside a worker) fall back to the long `processing_grace`.
"""

from __future__ import annotations

from typing import Protocol

import redis
from redis.commands.core import Script

from bridge.settings import Settings
from bridge.store import event_scripts
from bridge.store.event_models import STATUSES, EventStatus, SweepResult
from bridge.store.workers import WorkerId, WorkerRegistry

BATCH = 500  # refs looked at per step and per run: bounds the time of one sweep


class Ledger(Protocol):
    """What the sweep needs of the ledger (`bridge.store.events.EventStore` is one).

    The sweep depends on this, not on the store's module, so the store builds its
    sweeper without the two modules importing each other.
    """

    @property
    def outbox_key(self) -> str: ...

    @property
    def inflight_key(self) -> str: ...

    @property
    def parked_key(self) -> str: ...

    @property
    def retention_ms(self) -> int: ...

    def index_key(self, status: EventStatus | None = None) -> str: ...

    def event_key(self, ref: str) -> str: ...

    def attempts_key(self, ref: str) -> str: ...

    def resend_after_restart(self) -> int: ...

    def mark(
        self,
        ref: str,
        status: EventStatus,
        *,
        requeue: bool = False,
        allowed: tuple[EventStatus, ...] = (),
        only_from: WorkerId | None = None,
    ) -> EventStatus | None: ...


class EventSweeper:
    """One sweep over the ledger of `store` (see the module docstring)."""

    def __init__(
        self, store: Ledger, client: redis.Redis, settings: Settings, resend: Script
    ) -> None:
        self._store = store
        self._redis = client
        self._settings = settings
        self._resend = resend
        self._trim_script = client.register_script(event_scripts.TRIM)
        self._seen_key = settings.key("outbox", "seen")
        self._cursor_key = settings.key("events", "trim_cursor")

    def run(
        self, now: float, inflight_grace: float, queued_grace: float, processing_grace: float
    ) -> SweepResult:
        """Every step once; returns what it did.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        store = self._store
        restarted = store.resend_after_restart()
        result = SweepResult(inflight=restarted + self._inflight(now, inflight_grace))
        due: list[str] = self._redis.zrangebyscore(store.parked_key, "-inf", now, 0, BATCH)  # type: ignore[assignment]
        for ref in due:
            moved = store.mark(ref, EventStatus.QUEUED, requeue=True, allowed=(EventStatus.PARKED,))
            result.parked += moved == EventStatus.PARKED
        result.stale = self._stale_queued(now, queued_grace)
        result.orphaned, stale = self._processing(now, processing_grace)
        result.stale += stale
        result.trimmed = self._trim(now)
        return result

    def _inflight(self, now: float, grace: float) -> int:
        """Re-send refs a relay took from the outbox but never confirmed sent."""
        store = self._store
        inflight: list[str] = self._redis.lrange(store.inflight_key, 0, 999)  # type: ignore[assignment]
        seen: dict[str, str] = self._redis.hgetall(self._seen_key)  # type: ignore[assignment]
        resent = 0
        for ref in set(inflight):
            if ref not in seen:
                self._redis.hsetnx(self._seen_key, ref, repr(now))
            elif now - float(seen[ref]) >= grace:
                keys = [store.inflight_key, store.outbox_key, self._seen_key]
                self._resend(keys=keys, args=[ref])
                resent += 1
        for ref in set(seen) - set(inflight):
            self._redis.hdel(self._seen_key, ref)
        return resent

    def _stale_queued(self, now: float, grace: float) -> int:
        """Re-send (oldest first) events `queued` for longer than `grace`."""
        status = EventStatus.QUEUED
        refs: list[str] = self._redis.zrange(self._store.index_key(status), 0, BATCH - 1)  # type: ignore[assignment]
        pipe = self._redis.pipeline(transaction=False)
        for ref in refs:
            pipe.hget(self._store.event_key(ref), "queued_at")
        resent = 0
        for ref, since in zip(refs, pipe.execute(), strict=True):
            if since and now - float(since) >= grace:
                moved = self._store.mark(ref, status, requeue=True, allowed=(status,))
                resent += moved == status
        return resent

    def _processing(self, now: float, grace: float) -> tuple[int, int]:
        """Re-send orphans at once, and events with no worker after `grace`: (orphans, stale)."""
        status = EventStatus.PROCESSING
        refs: list[str] = self._redis.zrange(self._store.index_key(status), 0, BATCH - 1)  # type: ignore[assignment]
        pipe = self._redis.pipeline(transaction=False)
        for ref in refs:
            pipe.hmget(self._store.event_key(ref), ["processing_at", "worker", "worker_boot"])
        found: list[tuple[str, str | None, WorkerId | None]] = []
        for ref, (since, hostname, boot) in zip(refs, pipe.execute(), strict=True):
            worker = WorkerId(hostname=hostname, boot=boot) if hostname and boot else None
            found.append((ref, since, worker))
        alive = WorkerRegistry(self._redis, self._settings).alive(w for _, _, w in found if w)
        orphans = stale = 0
        for ref, since, worker in found:
            if worker is not None and worker not in alive:
                # `only_from`: skipped if another worker took the event since it was read.
                moved = self._store.mark(
                    ref, EventStatus.QUEUED, requeue=True, allowed=(status,), only_from=worker
                )
                orphans += moved == status
            elif worker is None and since and now - float(since) >= grace:
                moved = self._store.mark(ref, EventStatus.QUEUED, requeue=True, allowed=(status,))
                stale += moved == status
        return orphans, stale

    def _trim(self, now: float) -> int:
        """Drop index entries of expired records, walking old entries `BATCH` at a time.

        Only entries received before the retention cutoff can have expired (a record
        expires `retention` after it reached its final status). A cursor carries the walk
        over kept (e.g. failed) entries from one sweep to the next, then wraps around.
        """
        store = self._store
        cutoff = int((now - store.retention_ms / 1000) * 1_000_000)
        cursor: str | None = self._redis.get(self._cursor_key)  # type: ignore[assignment]
        low = f"({cursor}" if cursor else "-inf"
        entries: list[tuple[str, float]] = self._redis.zrangebyscore(  # type: ignore[assignment]
            store.index_key(), low, cutoff, start=0, num=BATCH, withscores=True
        )
        refs = [member for member, _ in entries]
        if len(refs) < BATCH:
            self._redis.delete(self._cursor_key)  # the walk wraps around next time
        else:
            self._redis.set(self._cursor_key, str(int(entries[-1][1])))
        if not refs:
            return 0
        keys = [store.index_key()] + [store.index_key(s) for s in STATUSES]
        for ref in refs:
            keys += [store.event_key(ref), store.attempts_key(ref)]
        return int(self._trim_script(keys=keys, args=refs))


def resend_after_restart(
    store: Ledger, client: redis.Redis, keys: tuple[str, str, str, str], resend: Script
) -> int:
    """Re-send at once what was under way, if Redis restarted since the last call.

    A restart (a new `run_id`) broke every hand-off under way: nothing in the relay's
    in-flight list is being sent any more, so there is no reason to wait the sweep's grace.
    The first caller to see the new run id does it (GETSET). Then the events `queued` on no
    outbox and the events `processing` go back on the outbox too (`_resend_unconfirmed`).
    A ref another relay is sending right now may go twice, which is harmless (processing is
    idempotent). `keys`: in-flight list, outbox, in-flight "seen" hash, last run id.
    Returns how many went back on the outbox (0 when Redis did not restart, or does not
    tell its run id).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    inflight_key, outbox_key, seen_key, run_id_key = keys
    try:
        run_id = str(client.info("server").get("run_id") or "")
    except redis.exceptions.ResponseError:  # INFO renamed or refused (a managed Redis)
        return 0
    if not run_id:
        return 0
    previous = client.getset(run_id_key, run_id)
    if previous is None or previous == run_id:
        return 0
    refs: list[str] = client.lrange(inflight_key, 0, -1)  # type: ignore[assignment]
    for ref in dict.fromkeys(refs):
        resend(keys=[inflight_key, outbox_key, seen_key], args=[ref])
    return len(set(refs)) + _resend_unconfirmed(store, client, outbox_key)


def _resend_unconfirmed(store: Ledger, client: redis.Redis, outbox_key: str) -> int:
    """After a restart: events `queued` but on no outbox, and events `processing`.

    Their Celery message may have been lost with the connection (a message a worker had
    reserved, a retry it held until its countdown: Celery would give them back only after
    its visibility timeout, an hour), or their run may have failed to record its end.
    They go back on the outbox now; one that was still on its way runs twice, which is
    harmless (processing is idempotent). At most `BATCH` of each status per call.
    """
    resent = 0
    for status in (EventStatus.QUEUED, EventStatus.PROCESSING):
        refs: list[str] = client.zrange(store.index_key(status), 0, BATCH - 1)  # type: ignore[assignment]
        for ref in refs:
            if status is EventStatus.QUEUED and client.lpos(outbox_key, ref) is not None:
                continue  # waiting on the outbox: it will be sent
            resent += store.mark(ref, EventStatus.QUEUED, requeue=True, allowed=(status,)) == status
    return resent
