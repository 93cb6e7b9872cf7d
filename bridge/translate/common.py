"""Money rules shared by the provider translators (DESIGN.md section 4).

How a provider line becomes a Sage line (`priced_line`):

- The target is the line's amount after its discounts: its net when prices exclude VAT,
  its gross when they include it. For a gross, the net is the cent amount `n` nearest to
  `gross / (1 + rate)` such that `n + round(n × rate) == gross` (Sage computes VAT from
  the net); when no cent amount does that, the neighbour that best cancels the cents
  earlier such lines of the order missed is kept (`LineSet` carries them), and the
  order's rounding line absorbs what remains.
- Without a discount the unit price is the provider's (prices excluding VAT) or
  `net / quantity` (prices including VAT). Unit prices that do not terminate keep
  `UNIT_PRICE_PLACES` (6) decimals, enough for `quantity × price` to round back to the
  intended cent for any quantity below 10 000.
- With a discount (the provider's own allocation of line and order-level discounts to
  this line), the catalogue unit price is kept and the discount becomes Sage's
  `firstDiscount` percentage when a percentage with two decimals reproduces the net to
  the cent (10 %, 12.5 %...); otherwise the discount is folded into a reduced unit price,
  which always reproduces it. Totals exact first, readability second.

`settle_total` then compares the lines with the provider's total and adds the explicit
rounding line, or refuses above the tolerance.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from bridge.models import Line, LineKind, TranslationError
from bridge.money import (
    CENT,
    HUNDRED,
    UNIT_PRICE_QUANTUM,
    ZERO,
    minor_unit,
    round_cents,
    sage_line_amounts,
)

ROUNDING_TITLE = "Arrondi"

_GATEWAYS: dict[str, str] = {
    "shopify_payments": "shopify_payments",
    "shopify payments": "shopify_payments",
    "stripe": "stripe",
    "paypal": "paypal",
    "paypal express checkout": "paypal",
    "paypal_express": "paypal",
    "gift_card": "gift_card",
    "gift card": "gift_card",
    "manual": "manual",
    "bank_transfer": "bank_transfer",
    "bank transfer": "bank_transfer",
    "bank deposit": "bank_transfer",
    "virement bancaire": "bank_transfer",
}


def normalise_gateway(raw: str | None) -> str:
    """The bridge's gateway key for a provider gateway name (`"manual"` when absent).

    Known names map to `shopify_payments`, `stripe`, `paypal`, `gift_card`, `manual`,
    `bank_transfer`; anything else is the raw name lower-cased, so the payment-method
    mapping can still be configured for it (and an unmapped one fails visibly there).
    """
    if raw is None or not raw.strip():
        return "manual"
    key = raw.strip().lower()
    return _GATEWAYS.get(key, key)


def plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros and never in exponent form (`20.0` -> `20`)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def percent_from_fraction(rate: Decimal) -> Decimal:
    """A provider's fractional rate (`0.055`) as a percentage (`5.5`)."""
    return plain(rate * HUNDRED)


def unit_price_for(amount: Decimal, quantity: Decimal) -> Decimal:
    """`amount / quantity`, exact when it terminates within 6 places, else rounded to 6."""
    value = amount / quantity
    rounded = value.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    return value if value == rounded else rounded


def net_for_gross(gross: Decimal, vat_rate: Decimal, carry: Decimal = ZERO) -> Decimal:
    """The cent net whose Sage gross (net + VAT) is `gross`, or failing that the closest.

    An exact net always wins, so every line that can be reproduced is. When none exists,
    `carry` (what earlier lines of the order missed: target - Sage gross) picks between
    the two neighbours, so missed cents cancel out instead of piling up on the rounding
    line.
    """
    nearest = round_cents(gross * HUNDRED / (HUNDRED + vat_rate))

    def miss(net: Decimal) -> Decimal:
        return gross - (net + round_cents(net * vat_rate / HUNDRED))

    candidates = (nearest, nearest - CENT, nearest + CENT)
    return min(candidates, key=lambda net: (miss(net) != 0, abs(carry + miss(net))))


def _discount_percent(
    quantity: Decimal, unit_price: Decimal, net: Decimal, vat_rate: Decimal
) -> Decimal | None:
    """A two-decimal `firstDiscount` that turns `quantity × unit_price` into `net`, if any."""
    base = quantity * unit_price
    if base <= 0:
        return None
    percent = (HUNDRED * (base - net) / base).quantize(CENT, rounding=ROUND_HALF_UP)
    if not ZERO <= percent <= HUNDRED:
        return None
    if sage_line_amounts(quantity, unit_price, percent, vat_rate)[0] != net:
        return None
    return plain(percent)


def priced_line(
    *,
    kind: LineKind,
    title: str,
    quantity: Decimal,
    amount: Decimal,
    discount: Decimal,
    vat_rate: Decimal,
    taxes_included: bool,
    sku: str | None = None,
    provider_line_id: str | None = None,
    carry: Decimal = ZERO,
) -> Line:
    """A Sage line for a provider line (see the module docstring for the rules).

    `amount` is the provider's line amount before discounts (quantity × unit price,
    including VAT when `taxes_included`), `discount` the total discount allocated to the
    line on the same basis; `carry` is the order's running rounding miss (see
    `net_for_gross`, prices including VAT only).

    Raises:
        TranslationError: the quantity is not positive or the discount exceeds the line.
    """
    if quantity <= 0:
        raise TranslationError(f"line {title!r}: quantity {quantity} is not positive")
    after = amount - discount
    if after < 0:
        raise TranslationError(f"line {title!r}: discount {discount} exceeds the line {amount}")
    net = net_for_gross(after, vat_rate, carry) if taxes_included else round_cents(after)
    excl = amount * HUNDRED / (HUNDRED + vat_rate) if taxes_included else amount
    base_unit = unit_price_for(excl, quantity)
    unit_price, percent = unit_price_for(net, quantity), ZERO
    if discount == 0 and not taxes_included:
        unit_price = base_unit
    elif discount != 0:
        found = _discount_percent(quantity, base_unit, net, vat_rate)
        if found is not None:
            unit_price, percent = base_unit, found
    return Line.build(
        kind=kind,
        title=title,
        sku=sku,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=percent,
        vat_rate=vat_rate,
        provider_line_id=provider_line_id,
    )


class LineSet:
    """An order's lines in the making: carries each tax-included line's missed cent into the
    next line's choice of net (see `net_for_gross`)."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._carry = ZERO

    def add(
        self,
        *,
        kind: LineKind,
        title: str,
        quantity: Decimal,
        amount: Decimal,
        discount: Decimal,
        vat_rate: Decimal,
        taxes_included: bool,
        sku: str | None = None,
        provider_line_id: str | None = None,
        credit: bool = False,
    ) -> None:
        """Append the `priced_line` for these values; with `credit`, the line gives them
        back: `amount` and `discount` are the credit's magnitudes and the line is appended
        with a negative quantity (`negated`).

        Raises:
            TranslationError: as `priced_line`.
        """
        line = priced_line(
            kind=kind,
            title=title,
            quantity=quantity,
            amount=amount,
            discount=discount,
            vat_rate=vat_rate,
            taxes_included=taxes_included,
            sku=sku,
            provider_line_id=provider_line_id,
            carry=-self._carry if credit else self._carry,
        )
        if taxes_included:
            missed = amount - discount - line.gross
            self._carry += -missed if credit else missed
        self.lines.append(negated(line) if credit else line)


def negated(line: Line) -> Line:
    """`line` giving back what it charged: the same unit price, discount and rate with the
    opposite quantity. Sage's half-up cent rounding is symmetric, so its net and VAT are
    exactly the opposites of `line`'s (a credit of 50.00 at 20 % is -50.00 and -10.00)."""
    return Line.build(
        kind=line.kind,
        title=line.title,
        sku=line.sku,
        quantity=-line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        vat_rate=line.vat_rate,
        provider_line_id=line.provider_line_id,
    )


def settle_total(
    lines: list[Line], total: Decimal, *, currency: str, tolerance: Decimal, what: str
) -> tuple[list[Line], Decimal]:
    """`lines` plus a rounding line when they miss `total` by at most the tolerance.

    The tolerance is never below one minor unit of the currency (1 JPY), as a provider
    cannot express less. Returns the lines and the rounding amount (0 when none).

    Raises:
        TranslationError: the difference exceeds the tolerance, or `total` has more
            decimals than Sage's cent arithmetic can reproduce.
    """
    computed = sum((line.gross for line in lines), ZERO)
    difference = total - computed
    if difference == 0:
        return lines, ZERO
    limit = max(tolerance, minor_unit(currency))
    if abs(difference) > limit:
        raise TranslationError(
            f"{what}: Sage lines total {computed} {currency} but the provider's total is "
            f"{total} {currency}; the difference {difference} exceeds the rounding "
            f"tolerance {limit}"
        )
    if round_cents(difference) != difference:
        raise TranslationError(
            f"{what}: total {total} {currency} has sub-cent precision that Sage's "
            "cent rounding cannot reproduce"
        )
    rounding = Line.build(
        kind=LineKind.ROUNDING,
        title=ROUNDING_TITLE,
        quantity=Decimal(1),
        unit_price=difference,
        vat_rate=ZERO,
    )
    return [*lines, rounding], difference
