"""What a sync step works with: the Sage API, the stores, the order lock, a clock, emit.

Steps take a `SyncContext` rather than `Services` so that their inputs are explicit and a
test can hand them a fixed clock; `SyncContext.build(services, lock)` is the usual way in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel

from bridge.outbound.events import EventType
from bridge.poller import status
from bridge.settings import Settings
from bridge.store.attention import AttentionItem, AttentionStore
from bridge.store.events import EventStatus, EventStore
from bridge.store.links import LinkStore
from bridge.sync.locks import OrderLock
from connectors.sage_active.models import SalesInvoice
from connectors.sage_active.operations import SageActive

if TYPE_CHECKING:
    from bridge.services import Services

Emit = Callable[[EventType, BaseModel, str], str]
Observe = Callable[[SalesInvoice], object]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class SyncContext:
    """The parts a step needs; `lock` is the held lock of the order being worked on."""

    settings: Settings
    sage: SageActive
    links: LinkStore
    attention: AttentionStore
    events: EventStore
    emit: Emit
    lock: OrderLock | None = None
    now: Callable[[], dt.datetime] = field(default=_utcnow)
    # `bridge.poller.status.observe`: records the invoice's status, emits its transitions once.
    observe: Observe | None = None

    @classmethod
    def build(cls, services: Services, lock: OrderLock | None = None) -> SyncContext:
        """A context over the process's services.

        Raises:
            ConfigurationError: `SAGE_API_URL` is not set.
        """

        def emit(kind: EventType, data: BaseModel, key: str) -> str:
            return services.outbound.emit(kind, data, key=key)

        def observe(invoice: SalesInvoice) -> list[str]:
            return status.observe(services, invoice)

        return cls(
            settings=services.settings,
            sage=services.sage,
            links=services.links,
            attention=services.attention,
            events=services.events,
            emit=emit,
            lock=lock,
            observe=observe,
        )

    def check(self) -> None:
        """Call before each change in Sage.

        Raises:
            LockLost: the order lock's lease ran out (another worker may hold it).
        """
        if self.lock is not None:
            self.lock.check()

    def needs_attention(self, item: AttentionItem) -> None:
        """Record a finding for a person (once per item id).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        self.attention.add(item)

    def release_parked(self, reference: str) -> int:
        """Requeue the events parked until order `reference`'s invoice existed.

        An event still `processing` (it is parking itself right now) is requeued too: its
        handler is idempotent and a second run simply finds the invoice.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        released = 0
        for ref in self.links.take_parked(reference):
            previous = self.events.mark(
                ref,
                EventStatus.QUEUED,
                requeue=True,
                allowed=(EventStatus.PARKED, EventStatus.PROCESSING),
            )
            released += previous in (EventStatus.PARKED, EventStatus.PROCESSING)
        return released
