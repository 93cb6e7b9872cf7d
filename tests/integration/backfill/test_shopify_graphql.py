"""Shopify's GraphQL Admin API client and orders reader against the fake server over HTTP:
the cost bucket (waited for, never refused), cursors, errors, bulk operations."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.ops.backfill import Backfill
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.translate import translate
from connectors.rest import ProviderApiError, ProviderAuthError
from connectors.shopify import queries
from connectors.shopify.graphql import ShopifyGraphQL, ShopifyGraphQLError
from connectors.shopify.orders import ShopifyOrders, reassemble, search
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, SHOP_DOMAIN, FakeShopifyGraphQL
from tests.unit.translate.test_corpus import _context, _expected

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SINCE, UNTIL = NOW - dt.timedelta(days=2), NOW
FIXTURES = Path(__file__).parents[2] / "fixtures" / "shopify"


def order(n: int, lines: int = 1, **fields: Any) -> dict[str, Any]:
    items = [{"id": n * 1000 + k, "title": f"Mug {k}", "sku": "MUG-001", "quantity": 1,
              "price": "12.00", "tax_lines": [{"title": "TVA", "rate": 0.2, "price": "2.00"}]}
             for k in range(lines)]  # fmt: skip
    minute = dt.timedelta(minutes=n % 1000)
    return {"id": n, "name": f"#{n}", "currency": "EUR", "taxes_included": True,
            "created_at": "2026-11-22T09:00:00+00:00",
            "updated_at": (NOW - dt.timedelta(hours=30) + minute).isoformat(),
            "financial_status": "pending", "total_price": f"{12 * lines}.00",
            "line_items": items, **fields}  # fmt: skip


@pytest.fixture
def services(redis_url: str) -> Iterator[Services]:
    built = build_services(Settings(REDIS_URL=redis_url))
    yield built
    built.close()


def client(base: str, **options: Any) -> ShopifyGraphQL:
    return ShopifyGraphQL(
        SHOP_DOMAIN, ACCESS_TOKEN, api_version=API_VERSION, base_url=base, **options
    )


def serve(fake: FakeShopifyGraphQL) -> Any:
    return serve_wsgi(fake.app)


def test_a_tight_bucket_is_waited_for_and_no_request_is_refused(services: Services) -> None:
    # given a bucket that holds about one page of orders, and 60 orders (20 pages)
    fake = FakeShopifyGraphQL(maximum=1000, restore_rate=500)
    for n in range(1, 61):
        fake.add_order(order(n))
    with serve(fake) as base:
        api = client(base)
        # when the backfill reads them
        tally = Backfill(services).shopify(ShopifyOrders(api), SINCE, UNTIL)
        api.close()
    # then every order is read, the client waited for the bucket, and nothing was refused
    assert (tally.pages, tally.read, tally.queued) == (20, 60, 60)
    assert fake.requests.count("BridgeOrders") == 20
    assert api.waited > 0
    assert fake.refused == 0
    fake.close()


def test_the_fake_does_refuse_a_client_that_does_not_wait() -> None:
    fake = FakeShopifyGraphQL(maximum=1000, restore_rate=1)
    for n in range(1, 4):
        fake.add_order(order(n, lines=10))
    with serve(fake) as base:
        url = f"{base}/admin/api/{API_VERSION}/graphql.json"
        body = {"query": queries.ORDERS, "variables": {"query": search(SINCE, UNTIL)}}
        headers = {"X-Shopify-Access-Token": ACCESS_TOKEN}
        answers = [httpx.post(url, json=body, headers=headers).json() for _ in range(2)]
    assert "errors" not in answers[0]
    assert answers[1]["errors"][0]["extensions"]["code"] == "THROTTLED"
    status = answers[1]["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 1000
    assert fake.refused == 1
    fake.close()


def test_a_throttled_answer_is_waited_out_and_retried() -> None:
    # given a bucket another app process has just emptied (the client does not know)
    fake = FakeShopifyGraphQL(maximum=1000, restore_rate=20000)
    fake.add_order(order(1))
    with serve(fake) as base:
        api = client(base)
        api.execute(queries.ORDERS_COUNT, {"query": ""})  # the client learns the bucket
        fake.drain(restore_rate=200)  # about 4 s to refill a page's cost
        # when it asks for a page
        data = api.execute(queries.ORDERS, {"query": search(SINCE, UNTIL)})
        api.close()
    # then it was refused once, waited, and got the page
    assert [node["name"] for node in data["orders"]["nodes"]] == ["#1"]
    assert (fake.refused, api.throttled) == (1, 1)
    fake.close()


def test_orders_with_many_lines_are_read_whole() -> None:
    fake = FakeShopifyGraphQL()
    fake.add_order(order(7, lines=95))
    with serve(fake) as base:
        reader = ShopifyOrders(client(base))
        records = [record for page in reader.pages(SINCE, UNTIL) for record in page]
        reader.close()
    assert [len(record.order["line_items"]) for record in records] == [95]
    assert records[0].order["line_items"][94]["id"] == 7094
    assert fake.requests.count("BridgeOrderLines") == 3  # 10 with the order, then 40 a page
    fake.close()


def test_a_page_over_the_per_query_limit_is_asked_again_smaller() -> None:
    # given a shop whose per-query limit takes one order a page at most
    fake = FakeShopifyGraphQL(max_query_cost=400)
    for n in range(1, 5):
        fake.add_order(order(n))
    with serve(fake) as base:
        reader = ShopifyOrders(client(base))
        pages = [len(page) for page in reader.pages(SINCE, UNTIL)]
        reader.close()
    # then the reader halves its page until Shopify takes it, and reads every order
    assert pages == [1, 1, 1, 1]
    assert fake.requests.count("BridgeOrders") == 1 + 4  # 3 orders: refused; then 1 a page
    fake.close()


def test_errors_are_clear_and_server_errors_are_retried() -> None:
    fake = FakeShopifyGraphQL()
    with serve(fake) as base:
        waits: list[float] = []
        wrong = ShopifyGraphQL(SHOP_DOMAIN, "shpat_wrong", api_version=API_VERSION, base_url=base)
        with pytest.raises(ProviderAuthError, match=r"refused the credentials \(401\): \[API\]"):
            wrong.execute(queries.ORDERS_COUNT, {"query": ""})
        api = client(base, sleep=waits.append, max_attempts=3, jitter=lambda: 0.0)
        fake.fail_next(503, count=2)
        assert api.execute(queries.ORDERS_COUNT, {"query": ""}) == {
            "ordersCount": {"count": 0, "precision": "EXACT"}
        }
        assert waits == [0.5, 1.0]
        fake.fail_next(502, count=3)
        with pytest.raises(ProviderApiError, match="still answered 502 after 3 tries"):
            api.execute(queries.ORDERS_COUNT, {"query": ""})
        with pytest.raises(ShopifyGraphQLError, match="Cannot query field 'nope' on type 'Order'"):
            api.execute('query { order(id: "gid://shopify/Order/1") { nope } }')
        with pytest.raises(ShopifyGraphQLError, match="exceeds the single query max cost"):
            api.execute(queries.orders_query(page=50, lines=50), {"query": ""})
        api.close()
        wrong.close()
    fake.close()


def test_a_large_window_is_read_with_one_bulk_operation(services: Services) -> None:
    # given 2,500 orders in the window (over the 2,000 threshold; larger windows:
    # bench/shopify_read.py --orders N)
    fake = FakeShopifyGraphQL(bulk_polls=2)
    for n in range(1, 2_501):
        fake.add_order(order(n))
    with serve(fake) as base:
        reader = ShopifyOrders(client(base), bulk_poll=0.01)
        # when the backfill reads the window
        tally = Backfill(services).shopify(reader, SINCE, UNTIL)
        reader.close()
    # then one bulk operation brought every order, each with its line
    assert reader.used_bulk
    assert (tally.read, tally.queued, tally.pages) == (2_500, 2_500, 10)
    assert fake.requests.count("BridgeBulkRun") == 1
    assert fake.requests.count("BridgeBulkStatus") == 3  # RUNNING twice, then COMPLETED
    assert "BridgeOrders" not in fake.requests
    stamp = "".join(c for c in order(2499)["updated_at"] if c.isdigit())
    record = services.events.get(f"shopify:backfill.order.2499.{stamp}")
    assert record is not None
    assert '"sku": "MUG-001"' in record.body
    assert fake.refused == 0
    fake.close()


def test_a_failed_bulk_operation_is_a_clear_error(services: Services) -> None:
    fake = FakeShopifyGraphQL()
    fake.fail_bulk = True
    for n in range(1, 4):
        fake.add_order(order(n))
    with serve(fake) as base:
        reader = ShopifyOrders(client(base), bulk_threshold=2, bulk_poll=0.01)
        with pytest.raises(ProviderApiError, match=r"ended FAILED \(INTERNAL_SERVER_ERROR\)"):
            Backfill(services).shopify(reader, SINCE, UNTIL)
        reader.close()
    fake.close()


def test_a_bulk_result_is_streamed_order_by_order() -> None:
    consumed: list[int] = []

    def lines() -> Iterator[str]:
        for n in range(1, 1_000_000):
            consumed.append(n)
            yield f'{{"id": "gid://shopify/Order/{n}"}}'
            yield f'{{"id": "gid://shopify/LineItem/{n}", "__parentId": "gid://shopify/Order/{n}"}}'

    orders = reassemble(lines())
    first = next(orders)
    assert first["lineItems"]["nodes"] == [{"id": "gid://shopify/LineItem/1"}]
    assert consumed == [1, 2]  # read one order ahead, not the whole file
    child = '{"id": "gid://shopify/LineItem/1", "__parentId": "gid://shopify/Order/9"}'
    with pytest.raises(ProviderApiError, match="line 2 belongs to gid://shopify/Order/9"):
        list(reassemble(['{"id": "gid://shopify/Order/1"}', child]))


def test_an_order_that_cannot_be_read_is_a_clear_error(services: Services) -> None:
    fake = FakeShopifyGraphQL()
    fake.add_order(order(1))
    fake.store["gid://shopify/Order/1"]["lineItems"][0]["id"] = "not-a-gid"
    with serve(fake) as base:
        reader = ShopifyOrders(client(base))
        with pytest.raises(ProviderApiError, match="an order that cannot be read: not a Shopify"):
            Backfill(services).shopify(reader, SINCE, UNTIL)
        reader.close()
    fake.close()


def test_a_bulk_operation_that_never_completes_is_given_up(services: Services) -> None:
    fake = FakeShopifyGraphQL(bulk_polls=1000)
    fake.add_order(order(1))
    with serve(fake) as base:
        waits: list[float] = []
        reader = ShopifyOrders(
            client(base), bulk_threshold=0, bulk_poll=10, bulk_timeout=30, sleep=waits.append
        )
        with pytest.raises(ProviderApiError, match=r"still RUNNING after 30 s"):
            Backfill(services).shopify(reader, SINCE, UNTIL)
        reader.close()
    assert waits == [10, 10, 10]
    fake.close()


@pytest.mark.parametrize("bulk", [False, True], ids=["paged", "bulk"])
def test_tips_duties_and_cash_rounding_read_back_as_their_webhooks(bulk: bool) -> None:
    # given a POS order with a tip line and cash rounding, and one with duties and a loose
    # tip, as their webhooks brought them (put in the fake as GraphQL orders)
    fake = FakeShopifyGraphQL()
    names = ["orders-create-042-pos-cash-rounding-tip-line-v2026-10",
             "orders-create-041-duties-tip-gift-card-fee-v2026-10"]  # fmt: skip
    paths = [FIXTURES / f"{name}.json" for name in names]
    bodies = [json.loads(path.read_text("utf-8")) for path in paths]
    for body in bodies:
        fake.add_order({**body, "updated_at": (NOW - dt.timedelta(hours=1)).isoformat()})

    # when the backfill reads them (pages, or one bulk operation)
    with serve(fake) as base:
        reader = ShopifyOrders(client(base), bulk_threshold=0 if bulk else 2000, bulk_poll=0.01)
        records = {r.id: r for page in reader.pages(SINCE, UNTIL) for r in page}
        reader.close()

    # then each translates as its webhook did; each tipped order's sales were asked once
    for path, body in zip(paths, bodies, strict=True):
        expected = _expected(path)
        context = _context(expected["context"])
        read = records[body["id"]].order
        assert translate("shopify", "orders/updated", read, context) == translate(
            "shopify", "orders/updated", body, context
        )
    assert fake.requests.count("BridgeOrderTips") == 2
    fake.close()
