"""Shopify Payments payouts read through the GraphQL Admin API (the fake server over HTTP)
by the reconciliation job's feed, then booked by the handler in-process (`run_event`, as a
worker runs it) against the real Redis and the sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.payouts import shopify as shopify_payouts
from bridge.services import Services, build_services
from bridge.sync.dispatch import run_event
from tests.support.pipeline import sandbox_settings
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, SHOP_DOMAIN, FakeShopifyGraphQL

pytestmark = pytest.mark.integration


def payout(n: int, status: str, date: str, amount: str) -> dict[str, Any]:
    return {"id": 770000 + n, "status": status, "date": date, "currency": "EUR",
            "amount": amount}  # fmt: skip


def charges(n: int, *amounts: str, fee: str = "0.30") -> list[dict[str, Any]]:
    rows = [{"id": n * 100 + k, "type": "charge", "currency": "EUR", "amount": a, "fee": fee,
             "net": str(Decimal(a) - Decimal(fee)), "source_type": "charge"}
            for k, a in enumerate(amounts)]  # fmt: skip
    net = sum(Decimal(r["net"]) for r in rows)
    rows.append({"id": n * 100 + 99, "type": "payout", "currency": "EUR", "amount": str(-net),
                 "fee": "0.00", "net": str(-net), "source_type": "payout"})  # fmt: skip
    return rows


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopifyGraphQL, str]]:
    fake = FakeShopifyGraphQL()
    with serve_wsgi(fake.app) as url:
        yield fake, url
    fake.close()


@pytest.fixture
def services(
    redis_url: str, sandbox_url: str, shop: tuple[FakeShopifyGraphQL, str]
) -> Iterator[Services]:
    _, url = shop
    settings = sandbox_settings(redis_url, sandbox_url, SHOPIFY_SHOP_DOMAIN=SHOP_DOMAIN,
                                SHOPIFY_ACCESS_TOKEN=ACCESS_TOKEN,
                                SHOPIFY_API_URL=url)  # fmt: skip
    built = build_services(settings)
    try:
        yield built
    finally:
        built.close()


def feed(services: Services, since: dt.date) -> tuple[int, int]:
    reader = shopify_payouts.open_reader(services.settings)
    try:
        return shopify_payouts.feed_payouts(services, reader, since)
    finally:
        reader.close()


def test_payouts_of_the_window_are_fed_once_and_booked(
    services: Services, shop: tuple[FakeShopifyGraphQL, str]
) -> None:
    # given a paid, a failed, a scheduled payout of the window, and an older paid one
    fake, _ = shop
    fake.add_payout(payout(1, "paid", "2026-11-20", "19.40"), charges(1, "10.00", "10.00"))
    fake.add_payout(payout(2, "failed", "2026-11-21", "9.70"), charges(2, "10.00"))
    fake.add_payout(payout(3, "scheduled", "2026-11-22", "9.70"), charges(3, "10.00"))
    fake.add_payout(payout(4, "paid", "2026-10-01", "9.70"), charges(4, "10.00"))

    # when the reconciliation job feeds the window twice
    first = feed(services, dt.date(2026, 11, 1))
    second = feed(services, dt.date(2026, 11, 1))

    # then the paid and the failed payouts are queued once, as events of their own
    assert first == (2, 0)
    assert second == (0, 2)
    assert fake.requests.count("BridgePayouts") == 2
    paid, failed = "shopify:backfill.payout.770001", "shopify:backfill.payout.770002.failed"
    assert services.events.get("shopify:backfill.payout.770003") is None

    # and a worker books them from their balance transactions, read through GraphQL
    assert run_event(services, paid, "task-test").status == "processed"
    assert run_event(services, failed, "task-test").status == "processed"
    sage = services.sage
    [entry] = sage.entries_with_lines("770001")
    lines = {(ln.sub_account.code if ln.sub_account else "", ln.debit_amount, ln.credit_amount)
             for ln in entry.accounting_entry_lines}  # fmt: skip
    assert lines == {("512000000", Decimal("19.40"), Decimal(0)),
                     ("627000000", Decimal("0.60"), Decimal(0)),
                     ("511600000", Decimal(0), Decimal("20.00"))}  # fmt: skip
    assert len(sage.entries_with_lines("770002")) == 1
    assert len(sage.entries_with_lines("770002:failed")) == 1
    assert fake.requests.count("BridgePayoutTransactions") == 2
    assert fake.refused == 0


def test_a_refused_token_fails_the_payout_with_shopifys_reason(
    services: Services, shop: tuple[FakeShopifyGraphQL, str]
) -> None:
    # given a payout fed, then a token Shopify no longer accepts
    fake, _ = shop
    fake.add_payout(payout(5, "paid", "2026-11-20", "9.70"), charges(5, "10.00"))
    assert feed(services, dt.date(2026, 11, 1)) == (1, 0)
    fake.access_token = "shpat_revoked"

    # when the worker books it
    result = run_event(services, "shopify:backfill.payout.770005", "task-test")

    # then the event fails naming why, and nothing is booked
    assert result.status == "failed"
    record = services.events.get("shopify:backfill.payout.770005")
    assert record is not None
    assert "access token" in (record.error or "").lower()
    assert services.sage.entries_with_lines("770005") == []
