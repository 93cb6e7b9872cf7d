"""The batch writer against the sandbox served over HTTP: shared documents, one alias
failing alone, documents kept under Sage's field cost limit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
import redis

from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError, SageError
from connectors.sage_active.models import Settlement, SettlementInput, SettlementLine
from connectors.sage_active.operations import SageActive, _open_items_op
from tests.support.sage_config import sandbox_config
from tests.support.sandbox import SandboxControl as Control

from .test_operations_flow import _order

pytestmark = pytest.mark.integration
THREADS = 6


@pytest.fixture
def sage(sandbox_url: str, redis_client: redis.Redis) -> Iterator[SageActive]:
    with SageClient(sandbox_config(sandbox_url), redis_client) as client:
        yield SageActive(client)


def test_concurrent_settlements_share_documents_and_an_overpayment_fails_alone(
    sage: SageActive, sandbox_url: str, control_for: Callable[..., Control]
) -> None:
    # given six posted invoices
    control = control_for(sandbox_url)
    journal = sage.journal_by_code("VT")
    stripe = sage.payment_method_by_name("Stripe")
    assert journal is not None
    assert stripe is not None
    invoices = [_order(sage, f"#WR-{n}") for n in range(THREADS)]
    for invoice_id in invoices:
        sage.close_and_post(invoice_id, journal.id, "order")
    items = {i: sage.open_items(i) for i in invoices}
    walkin = sage.customer_by_code("WALKIN")
    assert walkin is not None
    # and a slow Sage, so that steps gather while a request is in flight
    control.reset_stats()
    control.faults(latency_ms=300)
    start = threading.Barrier(THREADS, timeout=30)

    def settle(n: int) -> Settlement | SageError:
        invoice_id = invoices[n]
        [item] = items[invoice_id]
        extra = Decimal("1.00") if n == 3 else Decimal(0)  # the fourth one overpays
        start.wait()
        try:
            return sage.settle(
                SettlementInput(
                    entry_date=date(2026, 1, 16),
                    payment_method_id=stripe.id,
                    third_party_id=walkin.id,
                    document_number=f"pi_wr_{n}",
                    lines=[
                        SettlementLine(open_item_id=item.id, paid_amount=item.outstanding + extra)
                    ],
                )
            )
        except SageError as err:
            return err

    # when six workers settle them at the same time
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(settle, range(THREADS)))

    # then fewer requests than settlements carried them
    stats = control.stats()
    assert stats["by_operation"] == {"createSalesOpenItemSettlement": THREADS}, stats
    assert stats["requests"] < THREADS, stats
    # and the overpayment failed alone, with Sage's reason; the others are booked once
    for n, (invoice_id, result) in enumerate(zip(invoices, results, strict=True)):
        entries = sage.accounting_entries_by_document_number(f"pi_wr_{n}")
        current = sage.invoice(invoice_id)
        assert current is not None
        if n == 3:
            assert isinstance(result, SageBusinessError)
            assert entries == []
            assert current.status == "Posted"
        else:
            assert isinstance(result, Settlement)
            assert [e.id for e in entries] == [result.accounting_entry_id]
            assert current.status == "Collected"


def test_documents_stay_under_the_field_cost_limit_the_sandbox_enforces(
    sandbox_url: str, redis_client: redis.Redis, control_for: Callable[..., Control]
) -> None:
    # given a Sage whose limit holds three open-item reads
    control = control_for(sandbox_url)
    ops = [_open_items_op(str(uuid.uuid4())) for _ in range(6)]
    limit = 3 * ops[0].estimated_cost()
    control.configure(max_field_cost=limit)

    # when a client whose budget is that limit runs six
    with SageClient(sandbox_config(sandbox_url, max_batch_cost=limit), redis_client) as client:
        client.organization_id()  # looked up once, then cached
        control.reset_stats()
        results = client.execute_batch(ops)

    # then two documents, neither refused
    assert all(isinstance(r, dict) for r in results)
    assert control.stats()["requests"] == 2

    # and a client that believes in a bigger budget is refused once, then splits
    control.reset_stats()
    with SageClient(sandbox_config(sandbox_url), redis_client) as client:
        results = client.execute_batch(ops)
    assert all(isinstance(r, dict) for r in results)
    assert control.stats()["requests"] == 3
