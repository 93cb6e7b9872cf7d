"""The provider REST reader: what it retries, how long it waits, what it gives up with."""

from __future__ import annotations

import httpx
import pytest

from bridge.embedded_redis import free_port
from connectors.rest import ProviderApiError, ProviderAuthError, RestReader
from tests.support.providers import STRIPE_API_KEY, FakeStripe

pytestmark = pytest.mark.integration


def reader(base: str, waits: list[float], key: str = STRIPE_API_KEY) -> RestReader:
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=5)
    return RestReader("Stripe", client, max_attempts=4, sleep=waits.append, jitter=lambda: 0.0)


def test_retry_after_is_honoured_and_capped_else_backoff_doubles(
    fake_stripe: tuple[FakeStripe, str],
) -> None:
    fake, base = fake_stripe
    fake.fail_next(429, retry_after="2")
    fake.fail_next(429, retry_after="3600")
    fake.fail_next(502)
    waits: list[float] = []
    stripe = reader(base, waits)
    with stripe.client:
        response = stripe.get("/v1/events")
    assert response.status_code == 200
    assert waits == [2.0, 60.0, 2.0]  # Retry-After; capped at max_wait; backoff 0.5 * 2**2


def test_giving_up_says_how_often_and_what_the_provider_said(
    fake_stripe: tuple[FakeStripe, str],
) -> None:
    fake, base = fake_stripe
    fake.fail_next(503, count=4)
    waits: list[float] = []
    stripe = reader(base, waits)
    with stripe.client, pytest.raises(ProviderApiError, match=r"still answered 503 after 4 tries"):
        stripe.get("/v1/events")
    assert waits == [0.5, 1.0, 2.0]


def test_refusals_are_not_retried(fake_stripe: tuple[FakeStripe, str]) -> None:
    fake, base = fake_stripe
    waits: list[float] = []
    wrong, right = reader(base, waits, key="sk_wrong"), reader(base, waits)
    with (
        wrong.client,
        pytest.raises(ProviderAuthError, match=r"\(401\): Invalid API Key"),
    ):
        wrong.get("/v1/events")
    with right.client, pytest.raises(ProviderApiError, match=r"answered 400 to GET /v1/events: "):
        right.get("/v1/events", {"limit": 1000})
    assert waits == []
    assert len(fake.requests) == 2


def test_an_unreachable_api_is_retried_then_named() -> None:
    waits: list[float] = []
    nowhere = reader(f"http://127.0.0.1:{free_port()}", waits)
    with nowhere.client, pytest.raises(ProviderApiError, match="Stripe API unreachable after 4"):
        nowhere.get("/v1/events")
    assert waits == [0.5, 1.0, 2.0]
