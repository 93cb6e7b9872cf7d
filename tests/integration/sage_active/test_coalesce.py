"""Concurrent close_and_post calls share requests against the sandbox served over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from connectors.sage_active.client import SageClient
from connectors.sage_active.models import CloseAndPost
from connectors.sage_active.operations import SageActive

from .conftest import Control, sandbox_config
from .test_operations_flow import _order

pytestmark = pytest.mark.integration
THREADS = 8


@pytest.fixture
def sage(sandbox_url: str, redis_client: redis.Redis) -> Iterator[SageActive]:
    # a window long enough for eight threads on a busy two-core machine to meet in
    config = sandbox_config(sandbox_url, batch_window_ms=50)
    with SageClient(config, redis_client) as client:
        yield SageActive(client)


def test_eight_concurrent_close_and_post_cost_fewer_requests_and_post_once(
    sage: SageActive, sandbox_url: str, control_for: Callable[..., Control]
) -> None:
    # given eight pending invoices and warm reference data
    control = control_for(sandbox_url)
    invoices = [_order(sage, f"#CO-{n}") for n in range(THREADS)]
    journal = sage.journal_by_code("VT")
    assert journal is not None
    control.reset_stats()
    start = threading.Barrier(THREADS, timeout=10)

    def close_and_post(invoice_id: str) -> CloseAndPost:
        start.wait()
        return sage.close_and_post(invoice_id, journal.id, f"order {invoice_id}")

    # when eight worker threads close and post them at the same time
    with ThreadPoolExecutor(THREADS) as pool:
        results = [f.result(timeout=30) for f in [pool.submit(close_and_post, i) for i in invoices]]

    # then fewer than eight requests carried them all
    stats = control.stats()
    assert stats["requests"] < THREADS, stats
    # and every invoice is posted, with its own number and exactly one accounting entry
    numbers = set()
    for invoice_id, result in zip(invoices, results, strict=True):
        current = sage.invoice(invoice_id)
        assert current is not None
        assert current.status == "Posted"
        assert result.closed is not None
        assert result.closed.id == invoice_id
        number = result.closed.operational_number
        assert number is not None
        assert number == current.operational_number
        numbers.add(number)
        entries = sage.accounting_entries_by_document_number(number)
        assert [e.id for e in entries] == [result.posted.accounting_entry_id]
    assert len(numbers) == THREADS
