"""Helpers for the sync pipeline's tests: recorded payloads, sandbox control, Sage reads.

Fixture `pipeline` (integration tests): `Services` on the test Redis and the sandbox over
HTTP, with `deliver(provider, topic, payload)` recording an event in the real ledger and
running it through the real dispatcher (`run_event`), as a worker would, in-process.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import NewEvent
from bridge.sync.dispatch import RunResult, run_event
from connectors.sage_active.models import SalesInvoice
from tests.support.sandbox import SandboxControl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOP = "boutique-demo.myshopify.com"


def payload(provider: str, name: str) -> dict[str, Any]:
    """A recorded provider payload from `tests/fixtures/<provider>/<name>.json`."""
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


def sandbox_settings(redis_url: str, sandbox_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_TIMEOUT": 5.0,
        "BRIDGE_CONNECTION": "it",
        "BRIDGE_LOG_JSON": False,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Pipeline:
    services: Services
    control: SandboxControl
    _ids: Iterator[int]

    def record(self, provider: str, topic: str, body: dict[str, Any]) -> str:
        """Record a delivery in the ledger (as the ingress does); returns its ref."""
        headers = {"X-Shopify-Shop-Domain": SHOP} if provider == "shopify" else {}
        event = NewEvent(
            provider=provider,  # type: ignore[arg-type]
            provider_id=f"t{next(self._ids)}-{uuid.uuid4().hex[:8]}",
            topic=topic,
            body=json.dumps(body),
            headers=headers,
        )
        assert self.services.events.record(event)
        return event.ref

    def run(self, ref: str, retries: int = 0) -> RunResult:
        return run_event(self.services, ref, f"task-{uuid.uuid4().hex[:6]}", retries)

    def deliver(self, provider: str, topic: str, body: dict[str, Any]) -> RunResult:
        return self.run(self.record(provider, topic, body))

    def documents(self, reference: str) -> list[SalesInvoice]:
        """Every Sage document whose salesOrderNumber starts with `reference`."""
        return [
            doc
            for doc in self.services.sage.invoices_changed_since(
                dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            )
            if (doc.sales_order_number or "").startswith(reference)
        ]

    def invoice(self, reference: str) -> SalesInvoice:
        link = self.services.links.order(reference)
        assert link is not None
        assert link.invoice_id is not None
        found = self.services.sage.invoice(link.invoice_id)
        assert found is not None
        return found


@pytest.fixture
def pipeline(redis_url: str, sandbox_url: str) -> Iterator[Pipeline]:
    services = build_services(sandbox_settings(redis_url, sandbox_url))
    control = SandboxControl(sandbox_url)
    try:
        yield Pipeline(services, control, itertools.count(1))
    finally:
        control.clear_faults()
        control.close()
        services.close()
