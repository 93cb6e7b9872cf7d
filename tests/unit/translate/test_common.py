"""Shared money rules: nets for tax-included amounts, discounts, the rounding line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.models import LineKind, TranslationError
from bridge.translate.common import (
    LineSet,
    net_for_gross,
    normalise_gateway,
    percent_from_fraction,
    priced_line,
    settle_total,
    unit_price_for,
)

D = Decimal


def test_net_for_gross_reproduces_the_gross_when_a_cent_net_can() -> None:
    for gross in ("19.80", "22.40", "8.50", "0.01", "1234.56"):
        net = net_for_gross(D(gross), D(20))
        assert net + (net * D("0.2")).quantize(D("0.01")) == D(gross)


def test_net_for_gross_without_exact_net_uses_the_carry_to_cancel_cents() -> None:
    # 1.05 at 20 %: 0.87 -> 1.04 and 0.88 -> 1.06, neither is exact
    assert net_for_gross(D("1.05"), D(20)) == D("0.88")
    assert net_for_gross(D("1.05"), D(20), carry=D("-0.01")) == D("0.87")
    # an exact net wins whatever the carry
    assert net_for_gross(D("10.00"), D(20), carry=D("-0.01")) == D("8.33")


def test_line_set_cancels_missed_cents_between_lines() -> None:
    lines = LineSet()
    for _ in range(3):
        lines.add(
            kind=LineKind.PRODUCT,
            title="Carte postale",
            quantity=D(1),
            amount=D("1.05"),
            discount=D(0),
            vat_rate=D(20),
            taxes_included=True,
        )
    assert [line.gross for line in lines.lines] == [D("1.06"), D("1.04"), D("1.06")]


def test_discount_becomes_a_percentage_when_one_reproduces_the_net() -> None:
    line = priced_line(
        kind=LineKind.PRODUCT,
        title="Vin",
        quantity=D(6),
        amount=D("54.90"),
        discount=D("5.49"),
        vat_rate=D(20),
        taxes_included=False,
    )
    assert (line.unit_price, line.discount_percent, line.net) == (D("9.15"), D(10), D("49.41"))


def test_discount_folds_into_the_unit_price_when_no_percentage_is_exact() -> None:
    # 33.33 off 1000.00: 3.33 % would give 966.70, so the unit price carries the discount
    line = priced_line(
        kind=LineKind.PRODUCT,
        title="Machine à thé",
        quantity=D(1),
        amount=D("1000.00"),
        discount=D("33.33"),
        vat_rate=D(20),
        taxes_included=False,
    )
    assert (line.unit_price, line.discount_percent, line.net) == (D("966.67"), D(0), D("966.67"))


def test_uneven_discount_still_uses_a_percentage_when_exact() -> None:
    line = priced_line(
        kind=LineKind.PRODUCT,
        title="Thé",
        quantity=D(3),
        amount=D("25.50"),
        discount=D("1.37"),
        vat_rate=D("5.5"),
        taxes_included=False,
    )
    assert (line.unit_price, line.discount_percent, line.net) == (D("8.50"), D("5.37"), D("24.13"))


def test_priced_line_refuses_bad_quantities_and_discounts() -> None:
    common = {"kind": LineKind.PRODUCT, "title": "Mug", "vat_rate": D(20), "taxes_included": True}
    with pytest.raises(TranslationError, match="quantity 0 is not positive"):
        priced_line(quantity=D(0), amount=D(1), discount=D(0), **common)  # type: ignore[arg-type]
    with pytest.raises(TranslationError, match="discount 2 exceeds the line 1"):
        priced_line(quantity=D(1), amount=D(1), discount=D(2), **common)  # type: ignore[arg-type]


def test_unit_price_keeps_six_places_only_when_it_must() -> None:
    assert unit_price_for(D("16.66"), D(2)) == D("8.33")
    assert unit_price_for(D("25.00"), D(3)) == D("8.333333")


def _one_line(amount: str) -> list:  # type: ignore[type-arg]
    return [
        priced_line(
            kind=LineKind.PRODUCT,
            title="Mug",
            quantity=D(1),
            amount=D(amount),
            discount=D(0),
            vat_rate=D(0),
            taxes_included=False,
        )
    ]


def test_settle_total_adds_a_rounding_line_within_tolerance() -> None:
    lines, rounding = settle_total(
        _one_line("10.00"), D("10.03"), currency="EUR", tolerance=D("0.05"), what="order #1"
    )
    assert rounding == D("0.03")
    assert lines[-1].kind is LineKind.ROUNDING
    assert (lines[-1].unit_price, lines[-1].vat_rate, lines[-1].gross) == (
        D("0.03"),
        D(0),
        D("0.03"),
    )


def test_settle_total_refuses_a_difference_above_tolerance_naming_both_totals() -> None:
    with pytest.raises(TranslationError) as caught:
        settle_total(
            _one_line("10.00"), D("10.06"), currency="EUR", tolerance=D("0.05"), what="order #1"
        )
    message = str(caught.value)
    assert "order #1" in message
    assert "10.00 EUR" in message
    assert "10.06 EUR" in message


def test_settle_total_tolerance_is_at_least_one_minor_unit() -> None:
    _, rounding = settle_total(
        _one_line("1000.20"), D("1000"), currency="JPY", tolerance=D("0.05"), what="JPY"
    )
    assert rounding == D("-0.20")
    with pytest.raises(TranslationError, match="sub-cent precision"):
        settle_total(_one_line("12.34"), D("12.345"), currency="KWD", tolerance=D("0.05"), what="K")


def test_gateways_are_normalised() -> None:
    names = [
        "shopify_payments",
        "PayPal Express Checkout",
        "gift_card",
        "Bank Deposit",
        None,
        "Cash on Delivery (COD)",
    ]
    assert [normalise_gateway(n) for n in names] == [
        "shopify_payments",
        "paypal",
        "gift_card",
        "bank_transfer",
        "manual",
        "cash on delivery (cod)",
    ]


def test_percent_from_fraction_has_no_exponent_form() -> None:
    assert [str(percent_from_fraction(D(r))) for r in ("0.2", "0.055", "0.021", "0.10", "0")] == [
        "20",
        "5.5",
        "2.1",
        "10",
        "0",
    ]
