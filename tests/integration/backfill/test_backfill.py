"""Backfill over HTTP from fake provider APIs into the real ledger (Redis).

Stripe events are recorded under their own ids, so those the webhooks already brought are
recognised; Shopify parts are fed unless the bridge has booked them. Bad credentials and a
flaky API give clear errors or retries, never a half-written event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis

from bridge.ops.backfill import SOURCE_HEADER, Backfill, open_readers, parse_moment
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.links import OrderLink, PaymentLink
from bridge.web import create_app
from connectors.rest import ProviderAuthError
from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.orders import ShopifyOrders
from connectors.stripe.api import StripeEvents
from tests.support.providers import STRIPE_API_KEY, FakeStripe
from tests.support.shopify_graphql import (
    ACCESS_TOKEN,
    API_VERSION,
    SHOP_DOMAIN,
    FakeShopifyGraphQL,
)
from tests.support.webhooks import STRIPE_SECRET, stripe_headers

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SINCE, UNTIL = NOW - dt.timedelta(days=2), NOW


def stripe_event(n: int, kind: str = "charge.succeeded", at: dt.datetime = NOW) -> dict[str, Any]:
    created = int((at - dt.timedelta(minutes=n + 1)).timestamp())  # the end is exclusive
    charge = {"id": f"ch_{n}", "object": "charge", "amount": 1000 + n, "currency": "eur"}
    return {"id": f"evt_bf_{n:04d}", "object": "event", "type": kind, "created": created,
            "livemode": False, "data": {"object": charge}}  # fmt: skip


@pytest.fixture
def services(redis_url: str) -> Iterator[Services]:
    built = build_services(Settings(REDIS_URL=redis_url, STRIPE_WEBHOOK_SECRET=STRIPE_SECRET))
    yield built
    built.close()


def outbox(services: Services) -> list[str]:
    refs = services.redis.lrange(services.events.outbox_key, 0, -1)
    return sorted(str(ref) for ref in refs)


def test_stripe_queues_only_the_missing_events_of_the_window(
    fake_stripe: tuple[FakeStripe, str], services: Services
) -> None:
    fake, base = fake_stripe
    for n in range(250):
        fake.add_event(stripe_event(n))
    fake.add_event(stripe_event(900, kind="customer.created"))  # a type the bridge ignores
    fake.add_event(stripe_event(901, at=NOW - dt.timedelta(days=5)))  # before the window
    ingress = create_app(services=services).test_client()
    for n in range(40):  # these came by webhook
        body = json.dumps(stripe_event(n)).encode()
        assert (
            ingress.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code
            == 202
        )
    lines: list[str] = []

    api = StripeEvents(STRIPE_API_KEY, base_url=base)
    tally = Backfill(services, progress=lines.append).stripe(api, SINCE, UNTIL)
    api.close()

    assert (tally.read, tally.queued, tally.known, tally.skipped) == (250, 210, 40, 0)
    assert outbox(services) == sorted(f"stripe:evt_bf_{n:04d}" for n in range(250))
    assert tally.pages == 3
    assert lines[-1] == "stripe: page 3, 250 read, 210 queued, 40 already known"
    record = services.events.get("stripe:evt_bf_0100")
    assert record is not None
    assert json.loads(record.body) == stripe_event(100)
    assert (record.topic, record.status, record.headers) == (
        "charge.succeeded", "queued", {SOURCE_HEADER: "backfill"}
    )  # fmt: skip
    path, params = fake.requests[0]
    assert path == "/v1/events"
    assert params["created[gte]"] == [str(int(SINCE.timestamp()))]
    assert "charge.succeeded" in params["types[]"]
    assert "customer.created" not in params["types[]"]


def test_a_second_run_finds_everything_known_and_a_dry_run_writes_nothing(
    fake_stripe: tuple[FakeStripe, str], services: Services, redis_client: redis.Redis
) -> None:
    fake, base = fake_stripe
    for n in range(30):
        fake.add_event(stripe_event(n))
    api = StripeEvents(STRIPE_API_KEY, base_url=base)
    dry = Backfill(services, dry_run=True).stripe(api, SINCE, UNTIL)
    assert (dry.queued, dry.known) == (30, 0)
    assert redis_client.dbsize() == 0
    first = Backfill(services).stripe(api, SINCE, UNTIL)
    again = Backfill(services).stripe(api, SINCE, UNTIL)
    dry_again = Backfill(services, dry_run=True).stripe(api, SINCE, UNTIL)
    api.close()
    assert (first.queued, again.queued, again.known, dry_again.queued) == (30, 0, 30, 0)
    assert len(outbox(services)) == 30


def test_rate_limits_and_server_errors_are_waited_out(
    fake_stripe: tuple[FakeStripe, str], services: Services
) -> None:
    fake, base = fake_stripe
    for n in range(5):
        fake.add_event(stripe_event(n))
    fake.fail_next(429, retry_after="0")
    fake.fail_next(503)
    api = StripeEvents(STRIPE_API_KEY, base_url=base)
    tally = Backfill(services).stripe(api, SINCE, UNTIL)
    api.close()
    assert tally.queued == 5
    assert len(fake.requests) == 3  # two refusals, then the page


def test_a_refused_key_is_a_clear_error_and_records_nothing(
    fake_stripe: tuple[FakeStripe, str], services: Services, redis_client: redis.Redis
) -> None:
    fake, base = fake_stripe
    fake.add_event(stripe_event(1))
    api = StripeEvents("sk_test_wrong", base_url=base)
    with pytest.raises(ProviderAuthError, match=r"Stripe refused the credentials \(401\): Invalid"):
        Backfill(services).stripe(api, SINCE, UNTIL)
    api.close()
    assert redis_client.dbsize() == 0


def shopify_order(order_id: int, **fields: Any) -> dict[str, Any]:
    return {"id": order_id, "name": f"#{1000 + order_id}", "currency": "EUR",
            "created_at": "2026-11-22T09:00:00+01:00", "updated_at": "2026-11-22T10:00:00+01:00",
            "financial_status": "paid", "total_price": "10.00", "refunds": [],
            "cancelled_at": None, **fields}  # fmt: skip


def sale(tx_id: int, order_id: int, status: str = "success", kind: str = "sale") -> dict[str, Any]:
    return {"id": tx_id, "order_id": order_id, "kind": kind, "status": status, "amount": "10.00",
            "currency": "EUR", "gateway": "shopify_payments",
            "created_at": "2026-11-22T09:00:00+01:00"}  # fmt: skip


def shopify_reader(base: str, **options: Any) -> ShopifyOrders:
    api = ShopifyGraphQL(SHOP_DOMAIN, ACCESS_TOKEN, api_version=API_VERSION, base_url=base)
    return ShopifyOrders(api, **options)


def test_shopify_feeds_each_part_not_booked_yet(
    fake_shopify_graphql: tuple[FakeShopifyGraphQL, str], services: Services
) -> None:
    fake, base = fake_shopify_graphql
    refund = {"id": 801, "order_id": 1, "created_at": "2026-11-22T10:00:00+01:00",
              "refund_line_items": [], "transactions": []}  # fmt: skip
    fake.add_order(shopify_order(1, refunds=[refund]), [sale(11, 1), sale(12, 1, "failure")])
    fake.add_order(shopify_order(2), [sale(21, 2)])  # booked: invoice posted, payment settled
    fake.add_order(
        shopify_order(3, financial_status="voided", cancelled_at="2026-11-22T11:00:00+01:00")
    )
    fake.add_order(shopify_order(4, updated_at="2026-11-10T10:00:00+01:00"))  # out of window
    reference = f"shopify:{SHOP_DOMAIN}:2"
    services.links.save_order(OrderLink(reference=reference, invoice_id="inv-2", status="Posted"))
    services.links.save_payment(
        PaymentLink(
            provider="shopify",
            payment_id="21",
            order_reference=reference,
            amount=Decimal("10.00"),
            entry_id="entry-21",
        )
    )
    api = shopify_reader(base)

    tally = Backfill(services).shopify(api, SINCE, UNTIL)
    api.close()

    assert (tally.pages, tally.read, tally.queued, tally.known) == (1, 3, 5, 2)
    assert outbox(services) == [
        "shopify:backfill.cancel.3",
        "shopify:backfill.order.1.20261122100000" + "0100",
        "shopify:backfill.order.3.20261122100000" + "0100",
        "shopify:backfill.refund.801",
        "shopify:backfill.transaction.11",
    ]
    record = services.events.get("shopify:backfill.transaction.11")
    assert record is not None
    assert record.topic == "order_transactions/create"
    body = json.loads(record.body)
    assert (body["id"], body["order_id"], body["kind"], body["status"]) == (
        11,
        1,
        "sale",
        "success",
    )
    assert body["amount_set"]["shop_money"] == {"amount": "10.00", "currency_code": "EUR"}
    assert record.headers == {
        "X-Shopify-Topic": "order_transactions/create",
        "X-Shopify-Shop-Domain": SHOP_DOMAIN,
        "X-Shopify-API-Version": API_VERSION,
        SOURCE_HEADER: "backfill",
    }
    refund_record = services.events.get("shopify:backfill.refund.801")
    assert refund_record is not None
    assert json.loads(refund_record.body)["order_id"] == 1
    # the booked order's refunds were not read; the one unbooked refund was, once
    assert fake.requests.count("BridgeRefund") == 1
    assert fake.refused == 0


def test_readers_come_from_the_settings_and_say_what_is_missing(redis_url: str) -> None:
    both = Settings(
        REDIS_URL=redis_url,
        STRIPE_API_KEY="sk_x",
        SHOPIFY_SHOP_DOMAIN="s.myshopify.com",
        SHOPIFY_ACCESS_TOKEN="shpat_x",
    )
    readers = open_readers(both)
    assert sorted(readers) == ["shopify", "stripe"]
    for reader in readers.values():
        reader.close()
    with pytest.raises(ValueError, match="backfilling shopify needs SHOPIFY_SHOP_DOMAIN"):
        open_readers(Settings(REDIS_URL=redis_url, STRIPE_API_KEY="sk_x"), "shopify")
    with pytest.raises(ValueError, match="no provider API is configured: set STRIPE_API_KEY"):
        open_readers(Settings(REDIS_URL=redis_url))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", NOW - dt.timedelta(hours=48)),
        ("7d", NOW - dt.timedelta(days=7)),
        ("90m", NOW - dt.timedelta(minutes=90)),
        ("2026-11-20", dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),
        ("2026-11-20T08:00:00+01:00", dt.datetime(2026, 11, 20, 7, tzinfo=dt.UTC)),
    ],
)
def test_window_bounds(text: str, expected: dt.datetime) -> None:
    assert parse_moment(text, NOW) == expected


def test_a_bound_that_is_not_a_time_says_what_is() -> None:
    with pytest.raises(ValueError, match=r"use an ISO date or date-time .* or an age \(90m"):
        parse_moment("yesterday", NOW)
