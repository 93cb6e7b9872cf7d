"""SageClient against a scripted Sage (httpx.MockTransport) and the real test Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from connectors.sage_active.batch import Operation
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import (
    SageAuthError,
    SageBusinessError,
    SageError,
    SageInvalidRequest,
    SageTransientError,
)
from tests.support.sage_fakes import ORG, FakeSage, FakeTime, make_config, ok

QUERY = "query { taxes { nodes { id } } }"
MUTATION = "mutation ($v: X!) { createThing(input: $v) { id } }"


@pytest.fixture
def fake() -> FakeSage:
    return FakeSage()


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def calls() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(
    fake: FakeSage, time_: FakeTime, redis_client: redis.Redis, calls: list[tuple[str, str]]
) -> Iterator[SageClient]:
    with SageClient(
        make_config(max_retries=3),
        redis_client,
        transport=fake.transport(),
        sleep=time_.sleep,
        clock=time_.clock,
        on_request=lambda name, outcome, _s: calls.append((name, outcome)),
    ) as sage:
        yield sage


def status(code: int, **headers: str) -> Any:
    return lambda _p, _r: httpx.Response(code, headers=headers, json={"errors": []})


def data(value: dict[str, Any]) -> Any:
    return lambda _p, _r: ok(value)


def test_sends_the_three_headers_and_returns_data(client: SageClient, fake: FakeSage) -> None:
    fake.responders = [data({"taxes": {"nodes": []}})]
    assert client.execute(QUERY) == {"taxes": {"nodes": []}}
    request = fake.graphql[0]
    assert request.headers["Authorization"] == "Bearer token-1"
    assert request.headers["x-api-key"] == "key"
    assert request.headers["X-OrganizationId"] == ORG
    assert fake.token_grants[0] == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-0",
        "client_id": "cid",
        "client_secret": "csecret",
    }


def test_token_is_shared_through_redis(
    client: SageClient, fake: FakeSage, redis_client: redis.Redis, time_: FakeTime
) -> None:
    fake.default = data({"taxes": {"nodes": []}})
    client.execute(QUERY)
    with SageClient(
        make_config(),
        redis_client,
        transport=fake.transport(),
        clock=time_.clock,
        sleep=time_.sleep,
    ) as other:
        other.execute(QUERY)
    assert len(fake.token_grants) == 1
    assert fake.graphql[1].headers["Authorization"] == "Bearer token-1"


def test_401_refreshes_once_and_retries(
    client: SageClient, fake: FakeSage, calls: list[tuple[str, str]]
) -> None:
    fake.responders = [status(401), data({"taxes": {"nodes": []}})]
    client.execute(QUERY)
    assert len(fake.token_grants) == 2
    assert fake.graphql[1].headers["Authorization"] == "Bearer token-2"
    assert calls == [("taxes", "auth"), ("taxes", "ok")]


def test_second_401_is_an_auth_error(client: SageClient, fake: FakeSage) -> None:
    fake.default = status(401)
    with pytest.raises(SageAuthError):
        client.execute(QUERY)
    assert len(fake.graphql) == 2


def test_5xx_on_a_query_is_retried_with_backoff(
    client: SageClient, fake: FakeSage, time_: FakeTime
) -> None:
    fake.responders = [status(500), status(502), data({"taxes": {"nodes": []}})]
    client.execute(QUERY)
    assert len(fake.graphql) == 3
    assert len(time_.sleeps) == 2
    assert time_.sleeps[0] <= 0.5
    assert time_.sleeps[1] <= 1.0


def test_transient_after_the_bound(client: SageClient, fake: FakeSage) -> None:
    fake.default = status(503)
    with pytest.raises(SageTransientError) as info:
        client.execute(QUERY)
    assert info.value.status == 503
    assert len(fake.graphql) == 4  # one try + max_retries=3


def test_timeouts_are_retried_for_queries(client: SageClient, fake: FakeSage) -> None:
    def slow(_p: dict[str, Any], request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    fake.responders = [slow, data({"taxes": {"nodes": []}})]
    assert client.execute(QUERY) == {"taxes": {"nodes": []}}


def test_a_mutation_that_may_have_run_is_not_retried(client: SageClient, fake: FakeSage) -> None:
    fake.default = status(500)
    with pytest.raises(SageTransientError) as info:
        client.execute(MUTATION, {"v": {}}, mutation=True)
    assert info.value.maybe_committed
    assert len(fake.graphql) == 1


def test_a_mutation_that_never_left_is_retried(client: SageClient, fake: FakeSage) -> None:
    def refused(_p: dict[str, Any], request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake.responders = [refused, data({"createThing": {"id": "1"}})]
    assert client.execute(MUTATION, {"v": {}}, mutation=True) == {"createThing": {"id": "1"}}


def test_429_pauses_everyone_for_retry_after(
    client: SageClient, fake: FakeSage, time_: FakeTime, redis_client: redis.Redis
) -> None:
    fake.responders = [status(429, **{"Retry-After": "3"}), data({"taxes": {"nodes": []}})]
    start = time_.now
    client.execute(QUERY)
    assert time_.now - start == pytest.approx(3.0)
    pause = redis_client.get("test:sage:ratelimit:pause_until")
    assert pause is not None
    assert float(pause) == pytest.approx(start + 3.0)


def test_business_errors_are_raised_with_their_key(
    client: SageClient, fake: FakeSage, calls: list[tuple[str, str]]
) -> None:
    body = {
        "errors": [
            {
                "message": "global.businessErrors.documentIdAlreadyExistInOrganization",
                "path": ["createThing"],
            }
        ],
        "data": {"createThing": None},
    }
    fake.responders = [lambda _p, _r: httpx.Response(200, json=body)]
    with pytest.raises(SageBusinessError) as info:
        client.execute(MUTATION, {"v": {}}, mutation=True)
    assert info.value.keys == ["global.businessErrors.documentIdAlreadyExistInOrganization"]
    assert info.value.errors[0].path == ("createThing",)
    assert calls == [("createThing", "business_error")]


def test_bad_request_is_not_retried(client: SageClient, fake: FakeSage) -> None:
    fake.default = lambda _p, _r: httpx.Response(400, json={"errors": [{"message": "bad field"}]})
    with pytest.raises(SageInvalidRequest, match="bad field"):
        client.execute(QUERY)
    assert len(fake.graphql) == 1


def _post(n: int) -> Operation:
    return Operation(
        "postSalesInvoice",
        "accountingEntryId",
        {"input": ("PostSalesInvoiceGLDtoInput!", {"salesInvoiceId": str(n)})},
    )


def test_batch_maps_each_alias_error_to_its_operation(client: SageClient, fake: FakeSage) -> None:
    def answer(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        assert set(payload["variables"]) == {"op0_input", "op1_input", "op2_input"}
        return httpx.Response(
            200,
            json={
                "data": {
                    "op0": {"accountingEntryId": "a"},
                    "op1": None,
                    "op2": {"accountingEntryId": "c"},
                },
                "errors": [{"message": "global.businessErrors.invoiceNotClosed", "path": ["op1"]}],
            },
        )

    fake.responders = [answer]
    results = client.execute_batch([_post(0), _post(1), _post(2)])
    assert results[0] == {"accountingEntryId": "a"}
    assert results[2] == {"accountingEntryId": "c"}
    assert isinstance(results[1], SageBusinessError)
    assert results[1].keys == ["global.businessErrors.invoiceNotClosed"]
    assert len(fake.graphql) == 1


def test_batch_too_complex_for_sage_is_split(client: SageClient, fake: FakeSage) -> None:
    sizes: list[int] = []

    def answer(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        aliases = [k.split("_")[0] for k in payload["variables"]]
        sizes.append(len(aliases))
        if len(aliases) > 2:
            return httpx.Response(
                200,
                json={
                    "errors": [
                        {"message": "The maximum allowed operation complexity was exceeded."}
                    ]
                },
            )
        return ok({a: {"accountingEntryId": a} for a in aliases})

    fake.default = answer
    results = client.execute_batch([_post(i) for i in range(4)])
    assert sizes == [4, 2, 2]
    assert all(isinstance(r, dict) for r in results)


def test_batch_larger_than_the_budget_is_planned_in_parts(
    fake: FakeSage, redis_client: redis.Redis, time_: FakeTime
) -> None:
    fake.default = lambda p, _r: ok(
        {k.split("_")[0]: {"accountingEntryId": "x"} for k in p["variables"]}
    )
    cost = _post(0).estimated_cost()
    with SageClient(
        make_config(max_batch_cost=cost * 20),
        redis_client,
        transport=fake.transport(),
        clock=time_.clock,
        sleep=time_.sleep,
    ) as sage:
        results = sage.execute_batch([_post(i) for i in range(50)])
    assert [len(json.loads(r.content)["variables"]) for r in fake.graphql] == [20, 20, 10]
    assert not any(isinstance(r, SageError) for r in results)


def test_organization_is_looked_up_once_and_cached(
    fake: FakeSage, redis_client: redis.Redis, time_: FakeTime
) -> None:
    def orgs(payload: dict[str, Any], request: httpx.Request) -> httpx.Response:
        assert "X-OrganizationId" not in request.headers
        return ok({"organizations": {"nodes": [{"id": "org-1"}]}})

    fake.responders = [orgs, data({"taxes": {"nodes": []}})]
    with SageClient(
        make_config(organization_id=None),
        redis_client,
        transport=fake.transport(),
        clock=time_.clock,
        sleep=time_.sleep,
    ) as sage:
        sage.execute(QUERY)
        assert fake.graphql[1].headers["X-OrganizationId"] == "org-1"
    assert redis_client.get("test:sage:organization_id") == b"org-1"
