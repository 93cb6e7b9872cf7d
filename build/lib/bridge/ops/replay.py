"""Bulk replay: queue again every failed (or parked) event that matches a filter.

Used by `bridge replay --status failed ...`, `POST /admin/events/replay` and the console's
"Replay all" button. The events are found through the status index (scored by when they
were received, so `since` / `until` are a score range), their provider and topic are read
in one pipelined round trip per batch, and the matching ones are moved back to `queued`
in one more (`EventStore.requeue_many`): 500 events cost a handful of round trips.

Idempotent: an event is moved only if it is still in the status replayed, so replaying
twice queues nothing the second time (the first call's events are queued, processing or
processed by then), and the sync itself books nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import redis
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.store.events import EventStatus, EventStore

BATCH = 500
Progress = Callable[[int, int], None]  # (looked at, total)


class ReplayFilter(BaseModel):
    """Which events to replay (JSON body of `POST /admin/events/replay`)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["failed", "parked"] = "failed"
    provider: Literal["shopify", "stripe"] | None = None
    topic: str | None = Field(default=None, min_length=1, max_length=200)
    since: dt.datetime | None = Field(default=None, description="received at or after")
    until: dt.datetime | None = Field(default=None, description="received before")
    dry_run: bool = False

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # a time without a zone is UTC
        return value

    @model_validator(mode="after")
    def _window(self) -> ReplayFilter:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("`since` must be before `until`")
        return self


@dataclass
class ReplayReport:
    """What a bulk replay found and did."""

    matched: int = 0  # events in the status that fit the filter
    queued: int = 0  # of which moved back to `queued` now (0 in a dry run)
    dry_run: bool = False


def _micros(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def replay(
    store: EventStore,
    client: redis.Redis,
    wanted: ReplayFilter,
    progress: Progress | None = None,
) -> ReplayReport:
    """Queue again the events `wanted` names (or only count them in a dry run).

    Raises:
        redis.RedisError: Redis is unreachable (what was queued stays queued: run it again).
    """
    status = EventStatus(wanted.status)
    low: int | str = _micros(wanted.since) if wanted.since else "-inf"
    high: int | str = f"({_micros(wanted.until)}" if wanted.until else "+inf"
    refs: list[str] = client.zrangebyscore(store.index_key(status), low, high)  # type: ignore[assignment]
    report = ReplayReport(dry_run=wanted.dry_run)
    for start in range(0, len(refs), BATCH):
        batch = [
            r.decode() if isinstance(r, bytes) else str(r) for r in refs[start : start + BATCH]
        ]
        matching = _matching(store, client, batch, wanted)
        report.matched += len(matching)
        if matching and not wanted.dry_run:
            report.queued += store.requeue_many(matching, allowed=(status,))
        if progress is not None:
            progress(min(start + BATCH, len(refs)), len(refs))
    return report


def _matching(
    store: EventStore, client: redis.Redis, refs: list[str], wanted: ReplayFilter
) -> list[str]:
    if wanted.provider is None and wanted.topic is None:
        return refs
    pipe = client.pipeline(transaction=False)
    for ref in refs:
        pipe.hmget(store.event_key(ref), ["provider", "topic"])
    found: list[str] = []
    for ref, (provider, topic) in zip(refs, pipe.execute(), strict=True):
        if isinstance(provider, bytes):
            provider, topic = provider.decode(), topic.decode() if topic else topic
        if wanted.provider not in (None, provider) or wanted.topic not in (None, topic):
            continue
        found.append(ref)
    return found
