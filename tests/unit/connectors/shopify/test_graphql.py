"""The GraphQL client's cost bucket: what it estimates, how long it waits, what it refuses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.rest import ProviderApiError
from connectors.shopify.graphql import CostBucket, ShopifyGraphQL, estimate_cost

DOC = "query Q { orders(first: 10) { nodes { id totalPriceSet { shopMoney { amount } } } } }"


def test_a_static_estimate_follows_shopifys_rules() -> None:
    # connection 2 + 10 nodes x (money bag 1 + shop money 1)
    assert estimate_cost(DOC) == 2 + 10 * 2
    mutation = 'mutation M { orderMarkAsPaid(input: {id: "x"}) { order { id } } }'
    assert estimate_cost(mutation) == 10
    with pytest.raises(ProviderApiError, match="not a GraphQL document"):
        estimate_cost("query {")


def test_the_bucket_refills_at_its_rate() -> None:
    bucket = CostBucket()
    assert bucket.wait_for(500, now=0) == 0  # nothing known yet: send
    bucket.update({"maximumAvailable": 1000, "currentlyAvailable": 100, "restoreRate": 50}, 10)
    assert bucket.wait_for(300, now=10) == 4.0  # 200 missing at 50 a second
    assert bucket.wait_for(300, now=14) == 0
    assert bucket.wait_for(5000, now=10) == 18.0  # never more than a full bucket


def answer(requested: int, available: int, **body: Any) -> httpx.Response:
    status = {"maximumAvailable": 1000, "currentlyAvailable": available, "restoreRate": 50}
    cost = {"requestedQueryCost": requested, "actualQueryCost": requested,
            "throttleStatus": status}  # fmt: skip
    return httpx.Response(200, json={"data": {"orders": {"nodes": []}}, **body,
                                     "extensions": {"cost": cost}})  # fmt: skip


def client(handler: Any, sleeps: list[float]) -> ShopifyGraphQL:
    return ShopifyGraphQL(
        "s.myshopify.com", "shpat_x", api_version="2026-10",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=sleeps.append, clock=lambda: 0.0,
    )  # fmt: skip


def test_the_client_waits_for_what_shopify_priced_the_query_at() -> None:
    sleeps: list[float] = []
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        assert request.headers["X-Shopify-Access-Token"] == "shpat_x"
        return answer(requested=300, available=100)

    api = client(handler, sleeps)
    api.execute(DOC)  # nothing known yet
    api.execute(DOC)  # Shopify priced it 300; 100 left: wait 200 / 50
    assert sleeps == [4.0]
    assert sent[0] == {"query": DOC, "variables": {}}


def test_a_throttled_answer_waits_then_retries() -> None:
    sleeps: list[float] = []
    answers = [
        answer(300, 0, errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]),
        answer(300, 700),
    ]
    api = client(lambda request: answers.pop(0), sleeps)
    assert api.execute(DOC) == {"orders": {"nodes": []}}
    assert (sleeps, api.throttled) == ([6.0], 1)


def test_a_query_dearer_than_the_whole_bucket_is_refused_clearly() -> None:
    api = client(lambda request: answer(requested=1500, available=1000), [])
    api.bucket.update({"maximumAvailable": 1000, "currentlyAvailable": 1000, "restoreRate": 50}, 0)
    with pytest.raises(ProviderApiError, match="costs 1500 points, more than Shopify's whole"):
        api.execute(DOC)


def test_a_version_shopify_does_not_serve_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        served = answer(requested=3, available=900)
        served.headers["X-Shopify-API-Version"] = "2025-10"
        return served

    api = client(handler, [])
    api.execute(DOC)
    api.execute(DOC)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "Shopify serves Admin API 2025-10, not 2026-10 (SHOPIFY_API_VERSION): a retired "
        "version is answered by the oldest supported one; set a supported version"
    ]
    assert api.served_version == "2025-10"
