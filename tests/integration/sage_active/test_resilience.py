"""Auth, 429, 5xx, timeouts and lost answers against the sandbox over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
import redis

from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageTransientError
from connectors.sage_active.models import SalesInvoiceInput, SalesInvoiceLineInput
from connectors.sage_active.operations import SageActive
from tests.support.sage_config import sandbox_config
from tests.support.sandbox import SandboxControl as Control

pytestmark = pytest.mark.integration
TAXES = "query { taxes(first: 5) { nodes { id } } }"


@pytest.fixture
def control(sandbox_url: str, control_for: Callable[..., Control]) -> Iterator[Control]:
    control = control_for(sandbox_url)
    yield control
    control.clear_faults()
    control.configure(token_lifetime=28800, rate_limit_per_minute=3000)


@pytest.fixture
def outcomes() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(
    sandbox_url: str, redis_client: redis.Redis, outcomes: list[tuple[str, str]]
) -> Iterator[SageClient]:
    config = sandbox_config(sandbox_url, max_retries=3, timeout=1.0)
    with SageClient(
        config, redis_client, on_request=lambda n, o, _s: outcomes.append((n, o))
    ) as sage:
        yield sage


def test_token_is_refreshed_when_it_expires(client: SageClient, control: Control) -> None:
    control.configure(token_lifetime=1)
    client.execute(TAXES)
    time.sleep(1.2)  # the sandbox's token has expired; Redis forgot it at half-life
    client.execute(TAXES)
    assert client.tokens.refresh_count == 2
    assert "401" not in control.stats()["by_status"]


def test_token_refused_by_sage_is_refreshed_once_then_retried(
    client: SageClient,
    control: Control,
    outcomes: list[tuple[str, str]],
    redis_client: redis.Redis,
) -> None:
    client.execute(TAXES)
    # A token Sage no longer accepts (revoked, or expired early) sits in the shared cache.
    ttl = redis_client.pttl("it:sage:token")
    redis_client.set("it:sage:token", "revoked-token", px=ttl)
    client.execute(TAXES)
    assert client.tokens.refresh_count == 2
    assert [o for _n, o in outcomes] == ["ok", "ok", "auth", "ok"]  # organizations first
    assert redis_client.get("it:sage:token") not in (None, b"revoked-token")


def test_429_waits_retry_after_then_succeeds(client: SageClient, control: Control) -> None:
    client.execute(TAXES)
    control.faults(rate_limit_burst=1, retry_after=1)
    started = time.monotonic()
    assert client.execute(TAXES)["taxes"]["nodes"]
    assert time.monotonic() - started >= 0.95
    assert control.stats()["by_status"].get("429") == 1


def test_5xx_is_retried_then_succeeds(client: SageClient, control: Control) -> None:
    client.execute(TAXES)
    control.faults(error_rate=1.0, error_count=2, error_status=500)
    assert client.execute(TAXES)["taxes"]["nodes"]
    assert control.stats()["by_status"].get("500") == 2


def test_5xx_fails_as_transient_after_the_bound(client: SageClient, control: Control) -> None:
    client.execute(TAXES)
    control.faults(error_rate=1.0, error_status=502)
    with pytest.raises(SageTransientError) as info:
        client.execute(TAXES)
    assert info.value.status == 502
    assert control.stats()["by_status"].get("502") == 4  # 1 + max_retries


def test_timeout_is_retried_then_succeeds(client: SageClient, control: Control) -> None:
    client.execute(TAXES)
    control.faults(hang_seconds=3.0, hang_count=1)
    started = time.monotonic()
    assert client.execute(TAXES)["taxes"]["nodes"]
    assert 1.0 <= time.monotonic() - started < 3.0  # gave up on the hang after 1 s


def test_timeouts_fail_as_transient_after_the_bound(
    sandbox_url: str, redis_client: redis.Redis, control: Control
) -> None:
    config = sandbox_config(sandbox_url, max_retries=1, timeout=0.3)
    with SageClient(config, redis_client) as client:
        client.execute(TAXES)
        control.faults(hang_seconds=2.0, hang_count=5)
        with pytest.raises(SageTransientError, match="timeout"):
            client.execute(TAXES)


def test_a_lost_answer_to_a_mutation_is_not_replayed(client: SageClient, control: Control) -> None:
    sage = SageActive(client)
    walkin = sage.customer_by_code("WALKIN")
    product = sage.products_by_codes(["TEA-001"])["TEA-001"]
    assert walkin is not None
    control.faults(drop_after_commit={"operations": ["createSalesInvoice"], "count": 1})
    values = SalesInvoiceInput(
        customer_id=walkin.id,
        document_date=date(2026, 2, 1),
        sales_order_number="lost-1",
        lines=[
            SalesInvoiceLineInput(
                product_id=product.id, total_quantity=Decimal(3), unit_price=Decimal("4.20")
            )
        ],
    )
    with pytest.raises(SageTransientError) as info:
        sage.create_invoice(values)
    assert info.value.maybe_committed
    # The caller's look-before-act finds the one invoice that was committed.
    assert len(sage.invoices_by_sales_order_number("lost-1")) == 1
