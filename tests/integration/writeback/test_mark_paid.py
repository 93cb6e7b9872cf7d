"""`mark_paid` against the fake Shopify GraphQL server over HTTP (real Redis): once, never
for a paid order, exactly once when Shopify's answer is lost, clear when refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.poller.writeback import WriteBackRefused, WriteBackStore, mark_paid
from bridge.services import Services
from connectors.shopify.graphql import ShopifyGraphQL
from tests.integration.writeback.test_request import REFERENCE, SHOP
from tests.integration.writeback.test_request import services as services
from tests.support.pipeline import payload
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, FakeShopifyGraphQL

pytestmark = pytest.mark.integration

GID = "gid://shopify/Order/5910000001013"


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopifyGraphQL, ShopifyGraphQL]]:
    fake = FakeShopifyGraphQL(shop_domain=SHOP)
    fake.add_order({**payload("shopify", "orders-create-001-ttc-single-mug"),
                    "financial_status": "pending"})  # fmt: skip
    with serve_wsgi(fake.app) as base:
        api = ShopifyGraphQL(SHOP, ACCESS_TOKEN, api_version=API_VERSION, base_url=base,
                             backoff=0.01)  # fmt: skip
        yield fake, api
        api.close()
    fake.close()


def store(services: Services) -> WriteBackStore:
    return WriteBackStore(services.redis, services.settings)


def test_an_unpaid_order_is_marked_paid_once(
    services: Services, shop: tuple[FakeShopifyGraphQL, ShopifyGraphQL]
) -> None:
    fake, api = shop
    assert mark_paid(services, REFERENCE, api, store(services)) == "marked paid in Shopify"
    assert mark_paid(services, REFERENCE, api, store(services)) == "already done"
    assert fake.marked_paid == [GID]
    assert fake.store[GID]["displayFinancialStatus"] == "PAID"
    mark = store(services).get(REFERENCE)
    assert mark is not None
    assert mark.state == "done"


def test_an_order_shopify_shows_paid_gets_nothing(
    services: Services, shop: tuple[FakeShopifyGraphQL, ShopifyGraphQL]
) -> None:
    fake, api = shop
    fake.store[GID]["displayFinancialStatus"] = "PAID"
    assert mark_paid(services, REFERENCE, api, store(services)).startswith("Shopify already shows")
    assert fake.requests.count("BridgeMarkAsPaid") == 0
    mark = store(services).get(REFERENCE)
    assert mark is not None
    assert mark.state == "already_paid"


def test_a_lost_answer_is_not_sent_twice_and_ends_done(
    services: Services, shop: tuple[FakeShopifyGraphQL, ShopifyGraphQL]
) -> None:
    fake, api = shop
    # given Shopify will run orderMarkAsPaid but its answer will be lost (a 502)
    fake.drop_next_answer("BridgeMarkAsPaid")
    # when the order is marked paid
    result = mark_paid(services, REFERENCE, api, store(services))
    # then the client's retry got a user error (already paid), checked against the order
    assert result == "marked paid in Shopify"
    assert fake.marked_paid == [GID]
    assert fake.requests.count("BridgeMarkAsPaid") == 2


def test_a_refusal_is_clear_and_marked_failed(
    services: Services, shop: tuple[FakeShopifyGraphQL, ShopifyGraphQL]
) -> None:
    fake, api = shop
    del fake.store[GID]
    with pytest.raises(WriteBackRefused, match="Shopify does not know order gid://shopify/Order/"):
        mark_paid(services, REFERENCE, api, store(services))
    mark = store(services).get(REFERENCE)
    assert mark is not None
    assert (mark.state, mark.detail) == ("failed", f"Shopify does not know order {GID}")
