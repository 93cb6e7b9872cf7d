"""The poller against the sandbox over HTTP and the real test Redis.

`env` bundles the parts `observe` needs (Redis, settings pointing at the sandbox, a real
`Outbound`), the typed Sage API on the sandbox, and the sandbox's control surface; helpers
make invoices the way the bridge (or a person in Sage) would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis
from pydantic import SecretStr

from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from connectors.sage_active.client import SageClient
from connectors.sage_active.config import SageConfig
from connectors.sage_active.models import SalesInvoiceInput, SalesInvoiceLineInput
from connectors.sage_active.operations import SageActive
from connectors.sage_active.sandbox import seed_id
from tests.support.sandbox import ORGANIZATION_ID

CUSTOMER = str(seed_id("customer", "WALKIN"))
MUG = str(seed_id("product", "MUG-001"))
SALES_JOURNAL = str(seed_id("journalType", "VT"))


@dataclass
class Env:
    redis: redis.Redis
    settings: Settings
    outbound: Outbound
    sage: SageActive
    control: httpx.Client

    def requests(self) -> int:
        """GraphQL requests the sandbox answered since the last `reset_stats`."""
        response = self.control.get("/_sandbox/stats")
        response.raise_for_status()
        count: int = response.json()["requests"]
        return count

    def reset_stats(self) -> None:
        self.control.delete("/_sandbox/stats").raise_for_status()

    def settle_by_hand(self, invoice_id: str, amount: str | None = None) -> None:
        body: dict[str, Any] = {} if amount is None else {"amount": amount}
        response = self.control.post(f"/_sandbox/invoices/{invoice_id}/settle", json=body)
        assert response.status_code == 200, response.text

    def seed(self, count: int) -> None:
        response = self.control.post("/_sandbox/seed", json={"invoices": count}, timeout=120)
        assert response.status_code == 200, response.text

    def event_types(self, ids: list[str]) -> list[str]:
        return [self.outbound.event(i).type.value for i in ids]

    def event_data(self, event_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.outbound.event(event_id).body)["data"]
        return data

    def make_invoice(self, reference: str | None, *, post: bool = True, qty: int = 1) -> str:
        """An invoice for `qty` mugs carrying `reference` as salesOrderNumber, posted."""
        created = self.sage.create_invoice(
            SalesInvoiceInput(
                customer_id=CUSTOMER,
                document_date=date.today(),
                sales_order_number=reference,
                external_reference="#1001",
                lines=[
                    SalesInvoiceLineInput(
                        product_id=MUG, total_quantity=Decimal(qty), unit_price=Decimal("10.00")
                    )
                ],
            )
        )
        if post:
            self.sage.close_and_post(created.id, SALES_JOURNAL, f"Invoice {reference}")
        return created.id


def sage_config(base: str) -> SageConfig:
    return SageConfig(
        api_url=f"{base}/graphql",
        auth_url=base,
        client_id="sandbox-client",
        client_secret=SecretStr("sandbox-secret"),
        refresh_token=SecretStr("sandbox-refresh"),
        api_key=SecretStr("sandbox-key"),
        organization_id=ORGANIZATION_ID,
        timeout=10.0,
        backoff_base=0.05,
        backoff_max=0.5,
        key_prefix="it:poller:sage",
    )


@pytest.fixture
def env(redis_url: str, sandbox_url: str) -> Iterator[Env]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    settings = Settings(
        redis_url=redis_url,
        connection="poller-it",
        sage_api_url=f"{sandbox_url}/graphql",
        sage_auth_url=sandbox_url,
        sage_organization_id=ORGANIZATION_ID,
        poll_overlap=2.0,
        poll_interval=1.0,
    )
    sage_client = SageClient(sage_config(sandbox_url), client)
    control = httpx.Client(base_url=sandbox_url, timeout=30.0)
    try:
        yield Env(client, settings, Outbound(client, settings), SageActive(sage_client), control)
    finally:
        control.close()
        sage_client.close()
        client.close()
