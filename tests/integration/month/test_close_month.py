"""`bridge.month.close` against the sandbox over HTTP and a real Redis: payout links as the
payout booking leaves them, one fee invoice per processor and month, exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from bridge.month.close import close_month
from bridge.month.fees import Month
from bridge.month.supplier import supplier_input
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.services import Services, build_services
from connectors.sage_active.purchases import (
    PurchaseInvoiceInput,
    PurchaseOperations,
    PurchaseVatLineInput,
)
from tests.support.pipeline import sandbox_settings

pytestmark = pytest.mark.integration
NOVEMBER = Month(2026, 11)


@pytest.fixture
def services(redis_url: str, sandbox_url: str) -> Iterator[Services]:
    settings = sandbox_settings(
        redis_url, sandbox_url, BRIDGE_FEE_INVOICES=True, BRIDGE_CONNECTION="default"
    )
    built = build_services(settings)
    yield built
    built.close()


def booked(services: Services, payout: str, day: dt.date, fees: str, on: str = "clearing") -> None:
    link = PayoutLink(
        processor="stripe",
        payout_id=payout,
        amount=Decimal("100.00"),
        currency="EUR",
        entry_id=f"entry-{payout}",
        entry_number=1,
        fees=Decimal(fees),
        date=day,
        fees_on=on,
    )
    PayoutStore(services.redis, services.settings).save(link)


def test_a_month_is_invoiced_once_and_a_month_without_fees_makes_nothing(
    services: Services,
) -> None:
    booked(services, "po_a", dt.date(2026, 11, 3), "2.32")
    booked(services, "po_b", dt.date(2026, 11, 30), "17.00")
    booked(services, "po_c", dt.date(2026, 12, 1), "5.00")  # December's
    booked(services, "po_d", dt.date(2026, 11, 20), "1.00", on="expense")  # before the mode
    said: list[str] = []

    [dry] = close_month(services, NOVEMBER, ["stripe"], dry_run=True, progress=said.append)
    assert (dry.outcome, dry.fees, dry.vat) == ("dry run", Decimal("19.32"), Decimal("3.86"))
    ops = PurchaseOperations(services.sage.client)
    assert ops.find_supplier("STRIPE", None) is None  # a dry run makes nothing

    [first] = close_month(services, NOVEMBER, ["stripe"], progress=said.append)
    assert (first.outcome, first.invoice_number) == ("invoiced", "stripe-2026-11")
    assert (first.status, first.pending, first.payouts) == ("Paid", Decimal(0), 2)
    assert "1 payouts booked with their fees on the expense account (1.00)" in first.notes[0]
    assert any("created" in line for line in said)
    supplier = ops.find_supplier("STRIPE", None)
    assert supplier is not None
    assert supplier.country_acronym == "IE"
    [invoice] = ops.invoices_dated(supplier.id, NOVEMBER.first, NOVEMBER.last)
    assert (invoice.total_liquid, invoice.pending_amount) == (Decimal("19.32"), Decimal(0))
    assert [(v.total_vat_base, v.total_vat) for v in invoice.vat_lines] == [
        (Decimal("19.32"), Decimal("3.86"))
    ]
    assert ops.third_party_balance("401000000", supplier.id) == Decimal(0)
    assert services.sage.account_balance("511500000") == Decimal("-19.32")  # no payout entry here

    said.clear()
    [dry_again] = close_month(services, NOVEMBER, ["stripe"], dry_run=True, progress=said.append)
    assert (dry_again.outcome, dry_again.status) == ("dry run", "Paid")
    assert "stripe 2026-11: invoice stripe-2026-11 is already in Sage (Paid, pending 0.00)" in said
    [again] = close_month(services, NOVEMBER, ["stripe"], progress=said.append)
    assert (again.outcome, again.status) == ("already closed", "Paid")
    assert len(ops.invoices_dated(supplier.id, NOVEMBER.first, NOVEMBER.last)) == 1
    assert len(services.sage.entries_with_lines("stripe-2026-11")) == 2  # posting, settlement

    [empty] = close_month(services, Month(2026, 10), ["stripe"])
    assert (empty.outcome, empty.invoice_number) == ("nothing to invoice", None)


def test_a_run_after_a_crash_carries_on_from_what_sage_has(services: Services) -> None:
    """The invoice was created (and nothing else) before the process died."""
    booked(services, "po_a", dt.date(2026, 11, 3), "19.32")
    ops = PurchaseOperations(services.sage.client)
    supplier = ops.create_supplier(supplier_input(services.settings.fee_suppliers["stripe"]))
    treatment = ops.tax_treatment("C0037")
    assert treatment is not None
    account = services.sage.accounting_accounts(["627000000"])["627000000"]
    ops.create_invoice(
        PurchaseInvoiceInput(
            supplier_id=supplier.id,
            invoice_date=NOVEMBER.last,
            invoice_number="stripe-2026-11",
            total_liquid=Decimal("19.32"),
            vat_lines=[
                PurchaseVatLineInput(
                    total_vat_base=Decimal("19.32"),
                    total_vat=Decimal("3.86"),
                    vat_percentage=Decimal(20),
                    tax_treatment_id=treatment.id,
                    purchase_accounting_account_id=account.id,
                )
            ],
        )
    )

    [record] = close_month(services, NOVEMBER, ["stripe"])
    assert (record.outcome, record.status, record.pending) == ("invoiced", "Paid", Decimal(0))
    assert len(ops.invoices_dated(supplier.id, NOVEMBER.first, NOVEMBER.last)) == 1


def test_a_month_closed_by_hand_is_reported_not_doubled(services: Services) -> None:
    booked(services, "po_a", dt.date(2026, 11, 3), "19.32")
    ops = PurchaseOperations(services.sage.client)
    supplier = ops.create_supplier(supplier_input(services.settings.fee_suppliers["stripe"]))
    ops.create_invoice(
        PurchaseInvoiceInput(
            supplier_id=supplier.id,
            invoice_date=dt.date(2026, 11, 30),
            invoice_number="IE-STRIPE-1234",
            total_liquid=Decimal("24.00"),
            vat_lines=[
                PurchaseVatLineInput(
                    total_vat_base=Decimal("20.00"),
                    total_vat=Decimal("4.00"),
                    vat_percentage=Decimal(20),
                )
            ],
        )
    )

    [record] = close_month(services, NOVEMBER, ["stripe"])
    assert record.outcome == "closed by hand"
    assert "IE-STRIPE-1234" in record.notes[0]
    assert [
        i.invoice_number for i in ops.invoices_dated(supplier.id, NOVEMBER.first, NOVEMBER.last)
    ] == ["IE-STRIPE-1234"]
    [item] = [i for i in services.attention.items() if i.kind == "month_close"]
    assert "closed by hand" in item.reason


def test_a_supplier_without_the_vat_number_es_needs_fails_the_month_with_the_reason(
    redis_url: str, sandbox_url: str
) -> None:
    """In ES legislation an Irish supplier needs its VAT number: none configured, the close
    fails for that processor, naming the setting, and makes nothing."""
    made = httpx.post(
        f"{sandbox_url}/_sandbox/organizations", json={"name": "Tienda SL", "legislationCode": "ES"}
    )
    assert made.status_code == 201
    settings = sandbox_settings(
        redis_url,
        sandbox_url,
        BRIDGE_FEE_INVOICES=True,
        BRIDGE_CONNECTION="default",
        SAGE_ORGANIZATION_ID=made.json()["id"],
    )
    services = build_services(settings)
    try:
        booked(services, "po_a", dt.date(2026, 11, 3), "19.32")
        [record] = close_month(services, NOVEMBER, ["stripe"])
        assert record.outcome == "failed"
        assert "supplier STRIPE (IE) needs its vat_number in ES legislation" in record.notes[0]
        assert PurchaseOperations(services.sage.client).find_supplier("STRIPE", None) is None
        [item] = [i for i in services.attention.items() if i.kind == "month_close"]
        assert "not closed for Stripe" in item.reason
    finally:
        services.close()


def test_a_payout_booked_after_the_close_is_reported_not_invoiced_again(
    services: Services,
) -> None:
    booked(services, "po_a", dt.date(2026, 11, 3), "19.32")
    [first] = close_month(services, NOVEMBER, ["stripe"])
    assert first.outcome == "invoiced"
    booked(services, "po_late", dt.date(2026, 11, 29), "0.68")  # booked after the close

    [again] = close_month(services, NOVEMBER, ["stripe"])
    assert (again.outcome, again.status) == ("already closed", "Paid")
    assert "invoice stripe-2026-11 is for 19.32, the month's fees are now 20.00" in again.notes[0]
    [item] = [i for i in services.attention.items() if i.kind == "month_close"]
    assert "left to book by hand" in item.reason
    supplier = PurchaseOperations(services.sage.client).find_supplier("STRIPE", None)
    assert supplier is not None
    invoices = PurchaseOperations(services.sage.client).invoices_dated(
        supplier.id, NOVEMBER.first, NOVEMBER.last
    )
    assert [i.total_liquid for i in invoices] == [Decimal("19.32")]
