"""Poller test parts: a Redis, settings and an `Outbound`; invoices as Sage returns them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

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
