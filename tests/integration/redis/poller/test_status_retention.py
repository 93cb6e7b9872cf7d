"""Settled invoice states expire after `BRIDGE_LINK_RETENTION_DAYS`; open ones are kept."""

from __future__ import annotations

import pytest
import redis

from bridge.outbound.delivery import Outbound
from bridge.poller.status import observe
from bridge.settings import Settings
from connectors.sage_active.models import SalesInvoice
from tests.support.poller_parts import Parts, invoice


def _ttl(parts: Parts, invoice_id: str) -> int:
    return int(parts.redis.ttl(parts.settings.key("status", invoice_id)))


@pytest.fixture
def parts(rclient: redis.Redis, redis_url: str) -> Parts:
    """Parts whose link retention is 3 days, over a clean namespace."""
    settings = Settings(redis_url=redis_url, connection="poller-ttl", link_retention_days=3)
    for key in rclient.scan_iter(match=settings.key("*")):
        rclient.delete(key)
    return Parts(redis=rclient, settings=settings, outbound=Outbound(rclient, settings))


def test_an_open_invoice_is_kept_and_a_collected_one_expires(parts: Parts) -> None:
    observe(parts, invoice("Posted", minutes=1))
    observe(parts, invoice("Posted", id_="inv-2", minutes=1))
    observe(parts, invoice("PartiallyCollected", id_="inv-2", minutes=2, paid="1"))
    assert (_ttl(parts, "inv-1"), _ttl(parts, "inv-2")) == (-1, -1)  # no expiry while open

    observe(parts, invoice("Collected", minutes=3))
    assert 3 * 86_400 - 60 < _ttl(parts, "inv-1") <= 3 * 86_400

    # a settlement removed in Sage: open again, kept again
    observe(parts, invoice("PartiallyCollected", minutes=4, paid="1"))
    assert _ttl(parts, "inv-1") == -1


def test_a_final_credit_note_expires(parts: Parts) -> None:
    def note(status: str, minutes: float) -> SalesInvoice:
        return invoice(
            status, id_="cn-9", minutes=minutes, total="-30", type="CREDIT_NOTE", ref="x:refund:1"
        )

    observe(parts, note("Pending", 2))
    assert _ttl(parts, "cn-9") == -1
    observe(parts, note("Posted", 3))
    assert 0 < _ttl(parts, "cn-9") <= 3 * 86_400
