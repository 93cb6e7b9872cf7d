"""Money arithmetic: the one place that mirrors how Sage Active computes a line.

Everything here is `Decimal`; a float never enters (see `Money`, which rejects floats at
validation time instead of silently carrying binary rounding errors into the books).

Sage's line arithmetic (reference/sage-active/09-sales-invoices.md):
`net = quantity × unitPrice × (1 − firstDiscount / 100)` and `vat = net × rate / 100`, each
rounded to the cent, half-up; document totals are sums of the rounded line amounts and
`totalLiquid = totalNet + totalVat`. VAT is computed on the already rounded net, as a
person reading the invoice would check it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Unit prices excluding VAT derived from tax-included prices keep this many decimals:
# Sage stores unit prices as decimals, and 6 places make `qty × price` land on the intended
# cent for any realistic quantity; what remains is left to the explicit rounding line.
UNIT_PRICE_PLACES = 6
UNIT_PRICE_QUANTUM = Decimal(1).scaleb(-UNIT_PRICE_PLACES)

# ISO 4217 currencies whose Stripe amounts are not in hundredths
# (https://docs.stripe.com/currencies#zero-decimal and #three-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL_CURRENCIES = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def _reject_float(value: Any) -> Any:
    """Refuse floats (and bools) so no binary fraction ever becomes an amount.

    Raises:
        ValueError: the value is a float or a bool.
    """
    if isinstance(value, bool | float):
        raise ValueError(f"money must be a Decimal, int or numeric string, not {value!r}")
    return value


Money = Annotated[Decimal, BeforeValidator(_reject_float)]
"""A pydantic field type: a Decimal that refuses floats."""


def round_cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, half-up (Sage's rule), always with two places.

    A zero result is always `0.00`, never `-0.00` (VAT of a negative 0 % line).
    """
    result = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return result if result else result.copy_abs()


def sage_line_amounts(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, vat_rate: Decimal
) -> tuple[Decimal, Decimal]:
    """`(net, vat)` exactly as Sage computes them for one invoice line.

    `unit_price` excludes VAT; `discount_percent` is Sage's `firstDiscount`; `vat_rate` is a
    percentage (`Decimal("20")` for 20 %). Both results are rounded to the cent, half-up.
    """
    net = round_cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)
    vat = round_cents(net * vat_rate / HUNDRED)
    return net, vat


def currency_exponent(currency: str) -> int:
    """Number of decimals of `currency`'s minor unit as Stripe counts them (2 by default)."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def minor_unit(currency: str) -> Decimal:
    """The smallest amount `currency` can express: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def from_minor_units(amount: int, currency: str) -> Decimal:
    """A Stripe integer amount in `currency`'s minor units, as a Decimal in major units.

    `from_minor_units(1999, "eur") == Decimal("19.99")`, `from_minor_units(500, "jpy") ==
    Decimal("500")`, `from_minor_units(1500, "kwd") == Decimal("1.500")`.

    Raises:
        ValueError: `amount` is not an int (Stripe never sends fractional minor units).
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"a minor-unit amount must be an int, got {amount!r}")
    return Decimal(amount).scaleb(-currency_exponent(currency))
