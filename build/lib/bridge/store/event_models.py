"""The event ledger's models: statuses, an accepted delivery, its record and its attempts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Provider = Literal["shopify", "stripe"]


class EventStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    PARKED = "parked"  # waits for its order; retried when due
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"  # dead-lettered, with its reason


STATUSES: tuple[EventStatus, ...] = tuple(EventStatus)


class NewEvent(BaseModel):
    """An authenticated delivery, as the ingress hands it to the ledger."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    provider_id: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,200}$")
    topic: str = Field(min_length=1, max_length=200)
    body: str
    headers: dict[str, str] = Field(default_factory=dict)
    status: Literal[EventStatus.QUEUED, EventStatus.IGNORED] = EventStatus.QUEUED

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.provider_id}"


class Attempt(BaseModel):
    """One processing attempt of an event."""

    task_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcome: str | None = None  # processed / ignored / parked / retry / failed
    error: str | None = None
    worker: str | None = None  # the Celery hostname of the worker that ran it


class EventSummary(BaseModel):
    """What lists show: the record without its body, headers and attempts."""

    ref: str
    provider: Provider
    provider_id: str
    topic: str
    status: EventStatus
    received_at: dt.datetime
    updated_at: dt.datetime
    error: str | None = None


class EventRecord(EventSummary):
    """The whole record of one event."""

    body: str
    headers: dict[str, str]
    attempts: list[Attempt] = Field(default_factory=list)
    due_at: dt.datetime | None = None


class SweepResult(BaseModel):
    """What one sweep did: refs re-sent (by reason), and index entries trimmed."""

    inflight: int = 0
    stale: int = 0
    parked: int = 0
    orphaned: int = 0  # processing on a worker whose heartbeat is gone
    trimmed: int = 0  # index entries of expired records


def event_ref(value: str) -> str:
    """The ledger ref for `value`: a ref (`stripe:evt_1`, `shopify:<id>`) as it is, or a
    provider's bare id (`evt_...` is Stripe's, any other Shopify's)."""
    provider, sep, _ = value.partition(":")
    if sep and provider in ("shopify", "stripe"):
        return value
    return f"stripe:{value}" if value.startswith("evt_") else f"shopify:{value}"
