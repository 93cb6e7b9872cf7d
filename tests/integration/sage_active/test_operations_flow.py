"""The typed operations against the sandbox, through a WSGI transport (fast, no sockets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import redis
from flask import Flask

from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError, SageError
from connectors.sage_active.models import (
    CreditNoteLineInput,
    CustomerInput,
    PostInvoiceInput,
    SalesInvoiceInput,
    SalesInvoiceLineInput,
    SettlementInput,
    SettlementLine,
)
from connectors.sage_active.operations import SageActive
from tests.support.sage_config import sandbox_config
from tests.support.sandbox import SandboxControl as Control

pytestmark = pytest.mark.integration
BASE = "http://sandbox.test"


@pytest.fixture
def wsgi(sandbox_app: Flask) -> httpx.WSGITransport:
    return httpx.WSGITransport(app=sandbox_app)


@pytest.fixture
def control(wsgi: httpx.WSGITransport, control_for: Callable[..., Control]) -> Control:
    return control_for(BASE, wsgi)


@pytest.fixture
def sage(wsgi: httpx.WSGITransport, redis_client: redis.Redis) -> Iterator[SageActive]:
    with SageClient(sandbox_config(BASE), redis_client, transport=wsgi) as client:
        yield SageActive(client)


def _order(sage: SageActive, ref: str, quantity: str = "2") -> str:
    walkin = sage.customer_by_code("WALKIN")
    assert walkin is not None
    products = sage.products_by_codes(["MUG-001", "BOOK-001"])
    created = sage.create_invoice(
        SalesInvoiceInput(
            customer_id=walkin.id,
            document_date=date(2026, 1, 15),
            sales_order_number=ref,
            external_reference="#1001",
            lines=[
                SalesInvoiceLineInput(
                    product_id=products["MUG-001"].id,
                    total_quantity=Decimal(quantity),
                    unit_price=Decimal("12.50"),
                ),
                SalesInvoiceLineInput(
                    product_id=products["BOOK-001"].id,
                    total_quantity=Decimal("1"),
                    unit_price=Decimal("18.96"),
                ),
            ],
        )
    )
    assert created.status == "Pending"
    return created.id


def test_reference_data_matches_the_seed(sage: SageActive) -> None:
    assert [o.social_name for o in sage.organizations()] == ["Boutique Démo SAS"]
    assert sage.journal_by_code("VT") is not None
    assert sage.payment_method_by_name("stripe") is not None
    assert {t.percentage for t in sage.taxes()} >= {Decimal(20), Decimal("5.5"), Decimal(0)}
    assert sage.products_by_codes(["GEN-20", "NOPE"]).keys() == {"GEN-20"}


def test_customers_are_created_and_found_by_code_and_email(sage: SageActive) -> None:
    assert sage.customer_by_code("SHOP-42") is None
    made = sage.create_customer(
        CustomerInput(code="SHOP-42", social_name="Jeanne Martin", email="jeanne@example.com")
    )
    assert sage.customer_by_code("SHOP-42") == made
    sage.invalidate_cache()
    found = sage.customer_by_email("Jeanne@Example.com")
    assert found is not None
    assert found.id == made.id


def test_an_order_from_creation_to_credit_note(sage: SageActive, control: Control) -> None:
    journal = sage.journal_by_code("VT")
    stripe = sage.payment_method_by_name("Stripe")
    assert journal is not None
    assert stripe is not None
    invoice_id = _order(sage, "shopify:demo.myshopify.com:1")
    posting = sage.close_and_post(invoice_id, journal.id, "Order #1001")
    assert posting.closed is not None
    assert posting.closed.operational_number
    items = sage.open_items(invoice_id)
    # 2 x 12.50 at 20 % + 18.96 at 5.5 %: 30.00 + 20.0028 -> 50.00 due.
    assert sum(i.outstanding for i in items) == Decimal("50.00")
    invoice = sage.invoice(invoice_id)
    assert invoice is not None
    assert invoice.status == "Posted"
    assert invoice.customer_id == sage.customer_by_code("WALKIN").id  # type: ignore[union-attr]
    settled = sage.settle(
        SettlementInput(
            entry_date=date(2026, 1, 16),
            payment_method_id=stripe.id,
            third_party_id=invoice.customer_id or "",
            document_number="pi_123",
            lines=[SettlementLine(open_item_id=items[0].id, paid_amount=items[0].outstanding)],
        )
    )
    entries = sage.accounting_entries_by_document_number("pi_123")
    assert [e.id for e in entries] == [settled.accounting_entry_id]
    assert sage.invoice(invoice_id).status == "Collected"  # type: ignore[union-attr]
    mug = sage.products_by_codes(["MUG-001"])["MUG-001"]
    credit_id = sage.generate_credit_note(
        invoice_id, [CreditNoteLineInput(product_id=mug.id, quantity=Decimal(1))]
    )
    credit = sage.invoice(credit_id)
    assert credit is not None
    assert credit.source_sales_invoice_id == invoice_id
    found = sage.invoices_by_sales_order_number("shopify:demo.myshopify.com:1")
    assert [(i.id, i.type) for i in found if i.type != "CREDIT_NOTE"] == [(invoice_id, "NORMAL")]
    assert {i.id for i in found} <= {invoice_id, credit_id}


def test_a_warm_order_costs_at_most_four_requests(sage: SageActive, control: Control) -> None:
    journal = sage.journal_by_code("VT")
    stripe = sage.payment_method_by_name("Stripe")
    assert journal is not None
    assert stripe is not None
    _order(sage, "warm-up")  # fills the caches
    control.reset_stats()
    invoice_id = _order(sage, "stripe:default:pi_9")
    sage.close_and_post(invoice_id, journal.id, "Order")
    items = sage.open_items(invoice_id)
    walkin = sage.customer_by_code("WALKIN")
    assert walkin is not None
    sage.settle(
        SettlementInput(
            entry_date=date(2026, 1, 16),
            payment_method_id=stripe.id,
            third_party_id=walkin.id,
            document_number="pi_9",
            lines=[SettlementLine(open_item_id=i.id, paid_amount=i.outstanding) for i in items],
        )
    )
    assert control.stats()["requests"] <= 4


def test_business_error_surfaces_with_its_key(sage: SageActive) -> None:
    journal = sage.journal_by_code("VT")
    assert journal is not None
    invoice_id = _order(sage, "twice")
    sage.close_and_post(invoice_id, journal.id, "first")
    with pytest.raises(SageBusinessError) as info:
        sage.close_invoice(invoice_id)
    assert info.value.keys
    assert all(k.startswith("global.") for k in info.value.keys)


def test_batch_with_one_failing_alias_returns_the_others(
    sage: SageActive, control: Control
) -> None:
    journal = sage.journal_by_code("VT")
    assert journal is not None
    ids = [_order(sage, f"batch-{n}") for n in range(3)]
    for invoice_id in (ids[0], ids[2]):
        sage.close_invoice(invoice_id)
    control.reset_stats()
    results = sage.post_invoices(
        [
            PostInvoiceInput(
                sales_invoice_id=i, journal_type_id=journal.id, accounting_entry_description="batch"
            )
            for i in ids
        ]
    )
    assert control.stats()["requests"] == 1
    assert not isinstance(results[0], SageError)
    assert not isinstance(results[2], SageError)
    assert isinstance(results[1], SageBusinessError)
    assert results[1].keys
    assert [sage.invoice(i).status for i in ids] == ["Posted", "Pending", "Posted"]  # type: ignore[union-attr]


def test_changed_since_walks_pages_in_modification_order(sage: SageActive) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    ids = [_order(sage, f"page-{n}") for n in range(3)]
    seen = [i.id for i in sage.invoices_changed_since(since, page_size=2)]
    assert seen[-3:] == ids
    pending = list(sage.invoices_changed_since(since, where={"salesOrderNumber": {"eq": "page-1"}}))
    assert [i.id for i in pending] == [ids[1]]
