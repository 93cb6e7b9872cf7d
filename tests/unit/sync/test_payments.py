"""Payment arithmetic: oldest open items first; park delays grow and are capped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bridge.sync.payments import after_settlement, allocate, park_delay
from bridge.sync.products import rate_key
from connectors.sage_active.models import OpenItem

D = Decimal


def item(ident: str, amount: str, paid: str, day: int) -> OpenItem:
    return OpenItem(
        id=ident,
        amount=D(amount),
        paid_amount_accumulated=D(paid),
        due_date=dt.datetime(2026, 3, day, tzinfo=dt.UTC),
    )


def test_allocation_pays_the_oldest_open_item_first() -> None:
    items = [item("late", "50", "0", 20), item("early", "30", "10", 1)]

    lines = allocate(items, D("40"))

    assert [(ln.open_item_id, ln.paid_amount) for ln in lines] == [
        ("early", D(20)),
        ("late", D(20)),
    ]
    after = after_settlement(items, lines)
    assert [i.outstanding for i in after] == [D(30), D(0)]


def test_park_delay_grows_and_is_capped_at_30_minutes() -> None:
    delays = [park_delay(n) for n in range(10)]

    assert delays[:3] == [5.0, 15.0, 60.0]
    assert delays == sorted(delays)
    assert max(delays) == 1800.0


def test_rate_keys_match_the_fallback_settings() -> None:
    assert [rate_key(D(r)) for r in ("20", "20.00", "5.50", "0", "2.1")] == [
        "20",
        "20",
        "5.5",
        "0",
        "2.1",
    ]
