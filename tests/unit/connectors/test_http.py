"""The one HTTP layer: the REST reader and the GraphQL client retry alike and fail alike,
and one classifier decides what each provider error means for an event."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bridge.sync.dispatch import PermanentError, TransientError
from bridge.sync.errors import PROVIDER_RETRY, classified
from connectors.http import (
    ProviderApiError,
    ProviderAuthError,
    ProviderUnavailable,
    RetryPolicy,
    provider_client,
)
from connectors.rest import RestReader
from connectors.shopify.graphql import ShopifyGraphQL

Handler = Callable[[httpx.Request], httpx.Response]
QUERY = "{ shop { name } }"


def rest(handler: Handler, waits: list[float]) -> Callable[[], object]:
    client = provider_client("https://api.example.test", transport=httpx.MockTransport(handler))
    reader = RestReader("Stripe", client, max_attempts=3, sleep=waits.append, jitter=lambda: 0.0)
    return lambda: reader.get("/v1/events")


def graphql(handler: Handler, waits: list[float]) -> Callable[[], object]:
    api = ShopifyGraphQL(
        "shop.myshopify.com", "shpat_x", api_version="2026-10",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_attempts=3, sleep=waits.append, clock=lambda: 0.0,
    )  # fmt: skip
    return lambda: api.execute(QUERY)


def refused(status: int) -> Handler:
    return lambda request: httpx.Response(status, json={"errors": f"status {status}"})


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize("client", [rest, graphql], ids=["rest", "graphql"])
@pytest.mark.parametrize("handler", [refused(503), refused(429), unreachable])
def test_both_clients_give_up_with_provider_unavailable(
    client: Callable[[Handler, list[float]], Callable[[], object]], handler: Handler
) -> None:
    waits: list[float] = []
    call = client(handler, waits)
    with pytest.raises(ProviderUnavailable, match="after 3 tries"):
        call()
    assert len(waits) == 2  # three tries, two waits between them


@pytest.mark.parametrize("client", [rest, graphql], ids=["rest", "graphql"])
def test_both_clients_refuse_at_once_without_retrying(
    client: Callable[[Handler, list[float]], Callable[[], object]],
) -> None:
    waits: list[float] = []
    with pytest.raises(ProviderAuthError, match="401"):
        client(refused(401), waits)()
    with pytest.raises(ProviderApiError, match="answered 404") as error:
        client(refused(404), waits)()
    assert not isinstance(error.value, ProviderUnavailable)
    assert waits == []


def test_backoff_doubles_with_at_most_half_again_of_jitter_and_is_capped() -> None:
    low = RetryPolicy(backoff=0.5, max_wait=60.0, jitter=lambda: 0.0)
    high = RetryPolicy(backoff=0.5, max_wait=3.0, jitter=lambda: 1.0)
    assert [low.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert [high.delay(n) for n in (1, 2, 3)] == [0.75, 1.5, 3.0]


def _classify(error: Exception) -> Exception:
    try:
        with classified("reading payout po_1", auth_hint="check STRIPE_API_KEY"):
            raise error
    except (PermanentError, TransientError) as exc:
        return exc
    raise AssertionError("not classified")


def test_one_classifier_decides_what_each_provider_error_means() -> None:
    auth = _classify(ProviderAuthError("Stripe refused the credentials (401)"))
    assert isinstance(auth, PermanentError)
    assert str(auth).endswith("; check STRIPE_API_KEY")
    later = _classify(ProviderUnavailable("Stripe still answered 503 after 6 tries"))
    assert isinstance(later, TransientError)
    assert later.retry_in == PROVIDER_RETRY
    assert isinstance(_classify(ProviderApiError("Stripe answered 404")), PermanentError)
