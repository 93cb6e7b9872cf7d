"""SageActive on a scripted Sage: request shapes, caching, exact decimals, batching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis

from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.models import SettlementInput, SettlementLine
from connectors.sage_active.operations import SageActive
from tests.support.sage_fakes import FakeSage, FakeTime, make_config, ok


@pytest.fixture
def fake() -> FakeSage:
    return FakeSage()


@pytest.fixture
def sage(fake: FakeSage, redis_client: redis.Redis) -> Iterator[SageActive]:
    time_ = FakeTime()
    config = make_config(settlement_mutation="salesOpenItemSettlement")
    with SageClient(
        config, redis_client, transport=fake.transport(), clock=time_.clock, sleep=time_.sleep
    ) as client:
        yield SageActive(client)


def _body(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def test_products_by_codes_is_one_request_then_cached(sage: SageActive, fake: FakeSage) -> None:
    def products(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
        assert payload["variables"]["codes"] == ["MUG-001", "NOPE", "BOOK-001"]
        return ok(
            {
                "products": {
                    "nodes": [
                        {"id": "p1", "code": "MUG-001", "salesVatPercentage": 20},
                        {"id": "p2", "code": "BOOK-001", "salesVatPercentage": 5.5},
                    ]
                }
            }
        )

    fake.responders = [products]
    first = sage.products_by_codes(["MUG-001", "NOPE", "BOOK-001", "MUG-001"])
    assert list(first) == ["MUG-001", "BOOK-001"]
    assert first["BOOK-001"].sales_vat_percentage == Decimal("5.5")
    again = sage.products_by_codes(["BOOK-001", "MUG-001"])
    assert again == {"BOOK-001": first["BOOK-001"], "MUG-001": first["MUG-001"]}
    assert len(fake.graphql) == 1


def test_reference_lists_are_cached_until_invalidated(sage: SageActive, fake: FakeSage) -> None:
    fake.default = lambda _p, _r: ok(
        {"journalTypes": {"nodes": [{"id": "j1", "code": "VT", "type": "SALES_INVOICE"}]}}
    )
    assert sage.journal_by_code("VT") is not None
    assert sage.journal_by_code("BQ") is None
    assert len(fake.graphql) == 1
    assert sage.invalidate_cache() == 1
    sage.journal_types()
    assert len(fake.graphql) == 2


def test_settle_uses_the_configured_mutation_and_exact_amounts(
    sage: SageActive, fake: FakeSage
) -> None:
    fake.responders = [
        lambda _p, _r: ok({"op0": {"accountingEntryId": "e1", "accountingEntryNumber": 7}})
    ]
    settlement = sage.settle(
        SettlementInput(
            entry_date=date(2026, 1, 2),
            payment_method_id="pm",
            third_party_id="c",
            document_number="pi_1",
            lines=[SettlementLine(open_item_id="o1", paid_amount=Decimal("19.90"))],
        )
    )
    assert settlement.accounting_entry_number == 7
    raw = fake.graphql[0].content.decode()
    assert '"paidAmount":19.90' in raw
    assert "op0: salesOpenItemSettlement(input: " in _body(fake.graphql[0])["query"]
    assert '"entryDate":"2026-01-02"' in raw


def test_close_and_post_is_one_request(sage: SageActive, fake: FakeSage) -> None:
    fake.responders = [
        lambda _p, _r: ok(
            {
                "op0": {"id": "i1", "operationalNumber": "0007"},
                "op1": {"accountingEntryId": "e1", "accountingEntryNumber": 3},
            }
        )
    ]
    result = sage.close_and_post("i1", "j1", "Invoice 0007")
    assert result.closed is not None
    assert result.closed.operational_number == "0007"
    assert result.posted.accounting_entry_id == "e1"
    query = _body(fake.graphql[0])["query"]
    assert "op0: closeSalesInvoice" in query
    assert "op1: postSalesInvoice" in query


def test_close_and_post_tolerates_an_invoice_closed_earlier(
    sage: SageActive, fake: FakeSage
) -> None:
    fake.responders = [
        lambda _p, _r: httpx.Response(
            200,
            json={
                "data": {"op0": None, "op1": {"accountingEntryId": "e1"}},
                "errors": [{"message": "global.businessErrors.invoiceNotPending", "path": ["op0"]}],
            },
        )
    ]
    result = sage.close_and_post("i1", "j1", "x")
    assert result.closed is None
    assert result.posted.accounting_entry_id == "e1"


def test_close_and_post_raises_when_the_post_fails(sage: SageActive, fake: FakeSage) -> None:
    fake.responders = [
        lambda _p, _r: httpx.Response(
            200,
            json={
                "data": {"op0": {"id": "i1"}, "op1": None},
                "errors": [{"message": "global.businessErrors.journalNotFound", "path": ["op1"]}],
            },
        )
    ]
    with pytest.raises(SageBusinessError) as info:
        sage.close_and_post("i1", "j1", "x")
    assert info.value.keys == ["global.businessErrors.journalNotFound"]


def test_changed_since_walks_every_page(sage: SageActive, fake: FakeSage) -> None:
    def page(n: int, more: bool) -> Any:
        def answer(payload: dict[str, Any], _r: httpx.Request) -> httpx.Response:
            assert payload["variables"]["after"] == (None if n == 0 else f"c{n - 1}")
            return ok(
                {
                    "salesInvoices": {
                        "nodes": [{"id": f"i{n}", "status": "Posted"}],
                        "pageInfo": {"endCursor": f"c{n}", "hasNextPage": more},
                        "totalCount": 3,
                    }
                }
            )

        return answer

    fake.responders = [page(0, True), page(1, True), page(2, False)]
    ids = [i.id for i in sage.invoices_changed_since(datetime(2026, 1, 1, tzinfo=UTC), page_size=1)]
    assert ids == ["i0", "i1", "i2"]
    assert _body(fake.graphql[0])["variables"]["since"] == "2026-01-01T00:00:00+00:00"
