"""Outbound webhooks: record each event, deliver it to every subscriber, retry, dead-letter.

`Outbound.emit` records an event (a `msg_...` id, its type, timestamp and the exact JSON
body) and one delivery per enabled subscription to that type, due at once, in one Redis
transaction. A delivery is then attempted (`attempt`) by a worker: the body is signed at
each attempt (Standard Webhooks) with the subscription's secret; the `webhook-id` is the
event id, the same on every retry. After a failure the next attempt is scheduled on
`RETRY_SCHEDULE` (with jitter), or later when a 429/503 asked for it with `Retry-After`;
after the last step the delivery is dead. A 410 disables the subscription.

Nothing here waits: pending deliveries sit in a Redis sorted set by due time, and a pump
(`claim_due`) hands the due ones to workers, each claimed atomically so that two pumps
never send the same one twice. The clock, the jitter source and DNS are injectable.
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import redis
from pydantic import BaseModel

from bridge.outbound.events import EventType, parse_event_type, validate_data
from bridge.outbound.subscriptions import (
    InvalidSubscription,
    NotFound,
    OutboundError,
    SubscriptionAdmin,
)
from bridge.settings import Settings
from bridge.store.outbound import (
    Attempt,
    Delivery,
    DeliveryStatus,
    EventRecord,
    OutboundStore,
    Subscription,
    new_delivery,
    new_id,
)
from connectors.outbound import DeliveryResult, deliver, signed_headers
from connectors.outbound.destination import Resolver

# Seconds to wait before each attempt: the first at once, the last ~28 h after the first.
RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %, so retries do not stampede
MAX_RETRY_AFTER = 24 * 3600.0  # a subscriber cannot park a delivery longer than a day
LEASE = 300.0  # a claimed delivery is due again after this if its worker vanished
EARLY_SLACK = 1.0

SendFn = Callable[..., DeliveryResult]


def _iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


class Outbound(SubscriptionAdmin):
    """The outbound side of the bridge, over one Redis client and the settings."""

    def __init__(
        self,
        redis_client: redis.Redis,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        resolver: Resolver = socket.getaddrinfo,
        schedule: tuple[float, ...] = RETRY_SCHEDULE,
    ) -> None:
        self.store = OutboundStore(redis_client, settings)
        self._settings = settings
        self._clock = clock
        self._rng = rng
        self._resolver = resolver
        self._schedule = schedule

    @classmethod
    def start(cls, redis_client: redis.Redis, settings: Settings) -> Outbound:
        """The process's Outbound, with the subscriptions of the settings created.

        Raises:
            InvalidSubscription: `BRIDGE_SUBSCRIPTIONS` holds a bad entry.
        """
        outbound = cls(redis_client, settings)
        outbound.sync_configured()
        return outbound

    # --- events ---------------------------------------------------------------------------
    def emit(
        self, event_type: EventType | str, data: BaseModel | Mapping[str, Any], *, key: str = ""
    ) -> str:
        """Record an event and a delivery, due now, per matching enabled subscription.

        With a `key` (e.g. `"invoice.posted:<invoice id>"`) the event is recorded once:
        emitting again with the same key returns the first event's id and changes nothing.

        Raises:
            ValueError: unknown event type, or data of another event's kind.
            pydantic.ValidationError: a mapping that does not fit the type's payload model.
        """
        kind = parse_event_type(str(event_type))
        payload = validate_data(kind, data)
        event_id = new_id("msg")
        if key:
            event_id = "msg_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        now = self._clock()
        body = {
            "type": kind.value,
            "timestamp": _iso(now),
            "connection": self._settings.connection,  # which shop / organisation it is about
            "data": payload.model_dump(mode="json"),
        }
        invoice = getattr(payload, "invoice_id", None)  # the events of one invoice keep order
        deliveries = [
            new_delivery(event_id, kind, sub.id, now, invoice)
            for sub in self.store.subscriptions()
            if sub.enabled and kind in sub.event_types
        ]
        record = EventRecord(
            id=event_id,
            type=kind,
            timestamp=now,
            body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            delivery_ids=[d.id for d in deliveries],
        )
        self.store.create_event(record, deliveries, now)
        return event_id

    def event(self, event_id: str) -> EventRecord:
        """Raises NotFound."""
        record = self.store.event(event_id)
        if record is None:
            raise NotFound(f"no event {event_id!r}")
        return record

    # --- deliveries -----------------------------------------------------------------------
    def delivery(self, delivery_id: str) -> Delivery:
        """Raises NotFound."""
        found = self.store.delivery(delivery_id)
        if found is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        return found

    def deliveries(
        self,
        status: DeliveryStatus | None = None,
        subscription: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Recent deliveries, newest first, optionally of one status and/or subscription."""
        found = self.store.recent_deliveries(status=status, subscription=subscription)
        return list(islice(found, limit))

    def due(self, now: float | None = None, limit: int = 100) -> list[str]:
        """Ids of the pending deliveries whose time has come (not claimed by a pump)."""
        return self.store.due_ids(self._clock() if now is None else now, limit)

    def claim(self, delivery_id: str) -> bool:
        """Take one due delivery for sending; False when it is not due or already taken."""
        return self.store.claim(delivery_id, self._clock(), LEASE)

    def claim_due(self, limit: int = 100) -> list[str]:
        """Claim every due delivery (up to `limit`): the ids to hand to workers."""
        now = self._clock()
        return [d for d in self.store.due_ids(now, limit) if self.store.claim(d, now, LEASE)]

    def attempt(self, delivery_id: str, send: SendFn = deliver) -> Attempt | None:
        """Send one attempt of a pending, due delivery and schedule what follows.

        A no-op (None) when the delivery is unknown, finished, not yet due, or being
        attempted by another worker, so a duplicated task never sends twice.
        """
        lock_ttl = 2 * self._settings.outbound_timeout + 60
        token = self.store.lock(delivery_id, lock_ttl)
        if token is None:
            return None
        try:
            return self._attempt_locked(delivery_id, send)
        finally:
            self.store.unlock(delivery_id, token)

    def _attempt_locked(self, delivery_id: str, send: SendFn) -> Attempt | None:
        delivery = self.store.delivery(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return None
        if not self.store.is_chain_head(delivery):
            return None  # an earlier event of the same invoice goes first
        now = self._clock()
        if (delivery.next_attempt_at or 0) > now + EARLY_SLACK:
            self.store.save_delivery(delivery)  # undo a stale claim: due at its own time
            return None
        sub = self.store.subscription(delivery.subscription_id)
        secret = self.store.secret(delivery.subscription_id)
        event = self.store.event(delivery.event_id)
        if sub is None or secret is None or event is None or not sub.enabled:
            reason = "its event expired" if event is None else "its subscription was deleted"
            if sub is not None and not sub.enabled:
                reason = f"its subscription is disabled ({sub.disabled_reason})"
            update = {"status": DeliveryStatus.DEAD, "next_attempt_at": None, "updated_at": now}
            self.store.save_delivery(delivery.model_copy(update={**update, "dead_reason": reason}))
            return None
        body = event.body.encode()
        headers = signed_headers(secret, event.id, int(now), body)
        result = send(
            sub.url,
            headers,
            body,
            timeout=self._settings.outbound_timeout,
            allow_private=self._settings.outbound_allow_private,
        )
        return self._record(delivery, sub, result, started=now)

    def _next_time(self, step: int, result: DeliveryResult, now: float) -> float:
        wait = self._schedule[step] * (1 + JITTER * (2 * self._rng() - 1))
        if result.retry_after is not None:
            wait = max(wait, min(result.retry_after, MAX_RETRY_AFTER))
        return now + wait

    def _record(
        self, delivery: Delivery, sub: Subscription, result: DeliveryResult, started: float
    ) -> Attempt:
        now = self._clock()
        update: dict[str, Any] = {
            "attempt_count": delivery.attempt_count + 1,
            "last_status_code": result.status_code,
            "last_error": result.error,
            "updated_at": now,
        }
        step = delivery.step + 1
        if result.ok:
            update.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
        elif result.disable:
            reason = f"the subscriber answered 410 Gone at {_iso(now)}"
            current = self.store.subscription(sub.id) or sub  # keep edits made meanwhile
            disabled = {"enabled": False, "disabled_reason": reason, "updated_at": now}
            self.store.put_subscription(current.model_copy(update=disabled))
            update.update(status=DeliveryStatus.DEAD, next_attempt_at=None, dead_reason=reason)
        elif step >= len(self._schedule):
            reason = f"gave up after {update['attempt_count']} attempts; last: {result.error}"
            update.update(status=DeliveryStatus.DEAD, next_attempt_at=None, dead_reason=reason)
        else:
            update.update(step=step, next_attempt_at=self._next_time(step, result, now))
        saved = delivery.model_copy(update=update)
        attempt = Attempt(
            delivery_id=delivery.id,
            number=saved.attempt_count,
            at=started,
            url=sub.url,
            ok=result.ok,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            excerpt=result.excerpt,
            error=result.error,
            retry_after=result.retry_after,
            next_attempt_at=saved.next_attempt_at,
        )
        self.store.save_delivery(saved, attempt)
        return attempt

    def replay(self, delivery_id: str) -> Delivery:
        """Send a delivery again from the start of the schedule, same `webhook-id`, due now.

        Raises:
            NotFound: no such delivery.
            OutboundError: its event has expired, or its subscription is gone or disabled.
        """
        delivery = self.delivery(delivery_id)
        sub = self.store.subscription(delivery.subscription_id)
        if sub is None:
            raise OutboundError(f"the subscription of {delivery_id} was deleted")
        if not sub.enabled:
            raise OutboundError(f"subscription {sub.id} is disabled: enable it first")
        if self.store.event(delivery.event_id) is None:
            raise OutboundError(f"the event of {delivery_id} has expired")
        now = self._clock()
        self.store.leave_chain(delivery, now)
        replayed = delivery.model_copy(
            update={
                "chain": None,  # sent at once: its chain has moved on without it
                "status": DeliveryStatus.PENDING,
                "step": 0,
                "next_attempt_at": now,
                "dead_reason": None,
                "updated_at": now,
            }
        )
        self.store.save_delivery(replayed)
        return replayed

    def recover(self, since: float) -> int:
        """Replay every dead delivery created at or after `since` whose subscription is
        enabled; returns how many were replayed."""
        count = 0
        for delivery in list(self.store.recent_deliveries(since, DeliveryStatus.DEAD)):
            try:
                self.replay(delivery.id)
            except OutboundError:
                continue  # subscription gone or disabled, event expired: not recoverable
            count += 1
        return count


__all__ = ["RETRY_SCHEDULE", "InvalidSubscription", "NotFound", "Outbound", "OutboundError"]
