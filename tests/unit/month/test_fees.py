"""The month, its fees and the fee invoice's amounts (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bridge.month.fees import Month, fee_invoice, invoice_number, month_fees
from bridge.payouts.store import PayoutLink


def link(
    payout: str, day: dt.date | None, fees: str, on: str | None = "clearing", **extra: object
) -> PayoutLink:
    values = {
        "processor": "stripe",
        "payout_id": payout,
        "amount": Decimal("10"),
        "currency": "eur",
        "entry_id": "e",
        "fees": Decimal(fees),
        "date": day,
        "fees_on": on,
        **extra,
    }
    return PayoutLink.model_validate(values)


def test_months_are_parsed_strictly() -> None:
    november = Month.parse("2026-11")
    assert (november.first, november.last) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert Month.parse("2028-02").last == dt.date(2028, 2, 29)
    assert str(november) == "2026-11"
    assert Month.before(dt.date(2027, 1, 3)) == Month(2026, 12)
    for bad in ("2026-13", "2026-1", "11-2026", "2026-00", "", "2026-11-01"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            Month.parse(bad)


def test_the_fees_of_a_month_are_those_left_on_the_clearing_account() -> None:
    links = [
        link("po_1", dt.date(2026, 11, 1), "2.32"),
        link("po_2", dt.date(2026, 11, 30), "17.00"),
        link("po_3", dt.date(2026, 12, 1), "5.00"),  # next month
        link("po_4", dt.date(2026, 11, 15), "1.00", on="expense"),  # booked before the mode
        link("po_5", None, "9.00"),  # booked before links had a date
        link("po_6", dt.date(2026, 11, 15), "9.00", entry_id=None),  # not booked
        link("po_7", dt.date(2026, 11, 15), "9.00", processor="shopify_payments"),
    ]
    fees = month_fees(links, "stripe", Month(2026, 11))
    assert (fees.total, fees.payouts) == (Decimal("19.32"), ["po_1", "po_2"])
    assert (fees.on_expense, fees.on_expense_total) == (["po_4"], Decimal("1.00"))
    assert fees.currencies == {"EUR"}


def test_the_reverse_charge_invoice_owes_the_fees_and_self_assesses_the_vat() -> None:
    invoice = fee_invoice(Decimal("19.32"), Decimal("20"), "stripe-2026-11", Month(2026, 11))
    assert (invoice.base, invoice.vat, invoice.total) == (
        Decimal("19.32"),
        Decimal("3.86"),
        Decimal("19.32"),
    )
    assert invoice.day == dt.date(2026, 11, 30)
    assert fee_invoice(Decimal("0.25"), Decimal("21"), "n", Month(2026, 11)).vat == Decimal("0.05")
    for bad in ("0", "-1.00", "1.005"):
        with pytest.raises(ValueError, match="cannot be invoiced"):
            fee_invoice(Decimal(bad), Decimal("20"), "n", Month(2026, 11))


def test_the_invoice_number_names_processor_month_and_connection() -> None:
    assert invoice_number("stripe", Month(2026, 11)) == "stripe-2026-11"
    assert invoice_number("shopify_payments", Month(2026, 1), "shop-b") == (
        "shopify_payments-shop-b-2026-01"
    )
    assert len(invoice_number("stripe", Month(2026, 1), "x" * 80)) == 50
