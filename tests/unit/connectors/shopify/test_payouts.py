"""Shopify Payments payouts and balance transactions read through the GraphQL Admin API,
from the fake GraphQL server over HTTP: search, pages, throttling, shapes, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from connectors.rest import ProviderApiError
from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.payouts import ShopifyPaymentsGraphQL, balance_transaction
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import (
    ACCESS_TOKEN,
    API_VERSION,
    SHOP_DOMAIN,
    FakeShopifyGraphQL,
)


def rest_payout(n: int, date: str, status: str = "paid") -> dict[str, Any]:
    return {"id": 880000 + n, "status": status, "date": date, "currency": "EUR",
            "amount": "100.00"}  # fmt: skip


def charge(n: int, order: int | None = 5910000001013) -> dict[str, Any]:
    return {"id": 60000 + n, "type": "charge", "currency": "EUR", "amount": "19.80",
            "fee": "0.55", "net": "19.25", "source_type": "charge",
            "source_order_id": order}  # fmt: skip


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopifyGraphQL, ShopifyPaymentsGraphQL]]:
    fake = FakeShopifyGraphQL()
    with serve_wsgi(fake.app) as url:
        api = ShopifyGraphQL(SHOP_DOMAIN, ACCESS_TOKEN, api_version=API_VERSION, base_url=url)
        reader = ShopifyPaymentsGraphQL(api)
        yield fake, reader
        reader.close()


def test_payouts_issued_since_a_date_come_page_by_page_in_the_rest_shape(
    shop: tuple[FakeShopifyGraphQL, ShopifyPaymentsGraphQL],
) -> None:
    # given 60 payouts issued from 1 March and one in February
    fake, reader = shop
    fake.add_payout(rest_payout(0, "2026-02-20"), [])
    for n in range(1, 61):
        fake.add_payout(rest_payout(n, f"2026-03-{1 + n % 28:02d}"), [])

    # when the payouts since 1 March are read
    found = list(reader.payouts(dt.date(2026, 3, 1)))

    # then every one of them, in two pages of 50, as the bridge records them
    assert len(found) == 60
    assert 880000 not in {p["id"] for p in found}
    assert fake.requests == ["BridgePayouts", "BridgePayouts"]
    first = next(p for p in found if p["id"] == 880001)
    gid = "gid://shopify/ShopifyPaymentsPayout/880001"
    assert first == {"id": 880001, "status": "paid", "date": "2026-03-02", "currency": "EUR",
                     "amount": "100.00", "admin_graphql_api_id": gid}  # fmt: skip


def test_a_payouts_transactions_are_streamed_one_page_at_a_time(
    shop: tuple[FakeShopifyGraphQL, ShopifyPaymentsGraphQL],
) -> None:
    # given a payout of 250 balance transactions (and another payout's)
    fake, reader = shop
    fake.add_payout(rest_payout(1, "2026-03-05"), [charge(n) for n in range(250)])
    fake.add_payout(rest_payout(2, "2026-03-06"), [charge(900)])

    # when they are read
    stream = reader.transactions(880001)
    first = next(stream)

    # then one page is asked for at a time, the next only when it is needed
    assert fake.requests == ["BridgePayoutTransactions"]
    rest = list(stream)
    assert fake.requests == ["BridgePayoutTransactions"] * 3
    assert len(rest) == 249
    assert 60900 not in {t.id for t in rest}
    assert (first.id, first.type, first.amount, first.fee, first.net, first.currency) == (
        60000, "charge", Decimal("19.80"), Decimal("0.55"), Decimal("19.25"), "EUR"
    )  # fmt: skip
    assert (first.source_type, first.source_order_id) == ("charge", 5910000001013)


def test_a_small_bucket_is_waited_for_not_refused(
    shop: tuple[FakeShopifyGraphQL, ShopifyPaymentsGraphQL],
) -> None:
    # given a bucket that holds about one page (Shopify's 2,000 / 100 a second, scaled)
    fake, reader = shop
    fake.bucket.maximum = fake.bucket.available = 450.0
    fake.bucket.restore_rate = 2000.0
    fake.add_payout(rest_payout(1, "2026-03-05"), [charge(n) for n in range(400)])

    # when the four pages are read back to back
    found = list(reader.transactions(880001))

    # then the client waits for the bucket: Shopify refuses nothing
    assert len(found) == 400
    assert fake.refused == 0


def test_a_transaction_without_amounts_is_a_clear_error() -> None:
    node = {"id": "gid://shopify/ShopifyPaymentsBalanceTransaction/7", "type": "CHARGE"}
    with pytest.raises(ProviderApiError, match=r"balance transaction .*7.* is unreadable"):
        balance_transaction(node)


def test_a_shop_without_shopify_payments_is_a_clear_error(
    shop: tuple[FakeShopifyGraphQL, ShopifyPaymentsGraphQL],
) -> None:
    fake, reader = shop
    fake.shopifyPaymentsAccount = lambda info: None  # type: ignore[method-assign]
    with pytest.raises(ProviderApiError, match="no Shopify Payments account"):
        list(reader.payouts(dt.date(2026, 3, 1)))
