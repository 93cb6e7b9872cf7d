"""Status and poller parts over the real test Redis (no Sage: invoices are built here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis

from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from connectors.sage_active.models import OpenItem, SalesInvoice

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Parts:
    redis: redis.Redis
    settings: Settings
    outbound: Outbound


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, connection="poller-test")


@pytest.fixture
def rclient(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def parts(rclient: redis.Redis, settings: Settings) -> Parts:
    return Parts(redis=rclient, settings=settings, outbound=Outbound(rclient, settings))


def invoice(
    status: str,
    *,
    id_: str = "inv-1",
    minutes: float | None = 0,
    ref: str | None = "manual-42",
    total: str = "120.00",
    paid: str | None = None,
    **extra: Any,
) -> SalesInvoice:
    """A sales invoice as Sage returns it; `minutes` after T0 is its modificationDate."""
    items = []
    if paid is not None:
        items = [OpenItem(id="oi-1", amount=Decimal(total), paid_amount_accumulated=Decimal(paid))]
    return SalesInvoice(
        id=id_,
        status=status,
        operational_number="FA0001" if status != "Pending" else None,
        sales_order_number=ref,
        external_reference="#1001",
        modification_date=None if minutes is None else T0 + timedelta(minutes=minutes),
        total_liquid=Decimal(total),
        open_items=items,
        **extra,
    )
