"""Money helpers: Sage's line arithmetic and Stripe's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from bridge.money import (
    Money,
    currency_exponent,
    from_minor_units,
    minor_unit,
    round_cents,
    sage_line_amounts,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # the reference's example: 50 x 11 at 5 % discount, 20 % VAT
        (("50", "11", "5", "20"), ("522.50", "104.50")),
        (("1", "0.875", "0", "20"), ("0.88", "0.18")),  # half-up, never half-even
        (("3", "8.333333", "0", "20"), ("25.00", "5.00")),
        (("7", "3.33", "10", "5.5"), ("20.98", "1.15")),
        (("1", "-0.01", "0", "0"), ("-0.01", "0.00")),
    ],
)
def test_sage_line_amounts_round_half_up_to_the_cent(
    args: tuple[str, str, str, str], expected: tuple[str, str]
) -> None:
    net, vat = sage_line_amounts(*(Decimal(a) for a in args))
    assert (str(net), str(vat)) == expected


def test_round_cents_never_gives_negative_zero() -> None:
    assert str(round_cents(Decimal("-0.004"))) == "0.00"
    assert str(round_cents(Decimal("-0.005"))) == "-0.01"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1999, "eur", "19.99"),
        (5, "usd", "0.05"),
        (500, "jpy", "500"),
        (1000, "KRW", "1000"),
        (1500, "kwd", "1.500"),
        (12345, "BHD", "12.345"),
        (0, "eur", "0.00"),
    ],
)
def test_from_minor_units_respects_the_currency_exponent(
    amount: int, currency: str, expected: str
) -> None:
    assert str(from_minor_units(amount, currency)) == expected


def test_from_minor_units_refuses_non_integers() -> None:
    with pytest.raises(ValueError, match="must be an int"):
        from_minor_units(19.99, "eur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be an int"):
        from_minor_units(True, "eur")


def test_exponents_and_minor_units() -> None:
    assert [currency_exponent(c) for c in ("EUR", "jpy", "XOF", "tnd")] == [2, 0, 0, 3]
    assert minor_unit("EUR") == Decimal("0.01")
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("OMR") == Decimal("0.001")


class _Priced(BaseModel):
    amount: Money


def test_money_fields_reject_floats_but_take_strings_and_ints() -> None:
    assert _Priced(amount="1.10").amount == Decimal("1.10")  # type: ignore[arg-type]
    assert _Priced(amount=3).amount == Decimal(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"not 1\.1"):
        _Priced(amount=1.1)  # type: ignore[arg-type]
