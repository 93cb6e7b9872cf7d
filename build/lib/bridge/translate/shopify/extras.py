"""Shopify order lines beyond products and shipping, and the order's presentment money.

Cross-border and retail orders carry money that is not a product sale; each becomes its
own line, on its own product (chosen by kind in `bridge.sync.products`), so the invoice
still equals the order to the cent:

- duties (`line_items[].duties`, else `original_total_duties_set`): one line, 0 % VAT;
  a duty's own tax lines are part of what the customer paid for it;
- additional fees (`original_total_additional_fees_set`): one line, 0 % VAT;
- a tip given without a tip line item (`total_tip_received`; tip line items are booked
  as `tip` lines where the products are);
- cash rounding of a point-of-sale cash payment
  (`total_cash_rounding_payment_adjustment_set`): one line, 0 % VAT, that takes the
  invoice to what the customer actually paid (the order's `total_price` is before it).

`original_*` amounts are used: they are what `total_price` was made of (`current_*`
change with later edits and refunds, which the invoice does not follow). The README says
why these lines carry no VAT.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Line, LineKind, Presentment, TranslationError
from bridge.money import ZERO
from bridge.translate.common import LineSet
from bridge.translate.markets import to_shop
from bridge.translate.shopify.parts import shop_amount
from connectors.shopify import payloads as sp

DUTIES_TITLE = "Droits de douane"
FEES_TITLE = "Frais additionnels"
TIP_TITLE = "Pourboire"
CASH_ROUNDING_TITLE = "Arrondi espèces"


def _zero_vat_line(lines: LineSet, kind: LineKind, title: str, amount: Decimal) -> None:
    # One unit at the amount (negative for a rounding down): exact at 0 %, no cent to carry.
    if amount != 0:
        lines.lines.append(
            Line.build(
                kind=kind, title=title, quantity=Decimal(1), unit_price=amount, vat_rate=ZERO
            )
        )


def _duty(duty: sp.Duty, what: str) -> Decimal:
    if duty.shop_money is not None:
        amount = duty.shop_money.amount
    elif duty.price_set is not None:
        amount = duty.price_set.shop_money.amount
    else:
        raise TranslationError(f"{what}: duty {duty.id} has no shop money")
    return amount + sum((shop_amount(t.price, t.price_set, what) for t in duty.tax_lines), ZERO)


def duties(payload: sp.ShopifyOrder, what: str) -> Decimal:
    """The duties the customer paid, in shop money (0 when none).

    Raises:
        TranslationError: a duty without an amount.
    """
    per_line = [duty for item in payload.line_items for duty in item.duties]
    if per_line:
        return sum((_duty(duty, what) for duty in per_line), ZERO)
    money = payload.original_total_duties_set or payload.current_total_duties_set
    return money.shop_money.amount if money is not None else ZERO


def fees(payload: sp.ShopifyOrder) -> Decimal:
    """The order's additional fees in shop money (0 when none)."""
    money = payload.original_total_additional_fees_set
    money = money or payload.current_total_additional_fees_set
    return money.shop_money.amount if money is not None else ZERO


def loose_tip(payload: sp.ShopifyOrder, presentment: Presentment | None, total: Decimal) -> Decimal:
    """A tip the order reports only as `total_tip_received` (no tip line item), in shop
    money: that field has no money bag, so on a Markets order it is converted from the
    presentment currency with the order's ratio."""
    tip = payload.total_tip_received or ZERO
    if tip <= 0 or any(item.is_tip for item in payload.line_items):
        return ZERO
    if presentment is None:
        return tip
    return to_shop(tip, presentment, total, payload.currency.upper())


def cash_rounding(payload: sp.ShopifyOrder) -> tuple[Decimal, Decimal]:
    """The cash rounding of the order's payments: (shop money, presentment money)."""
    money = payload.total_cash_rounding_payment_adjustment_set
    if money is None:
        return ZERO, ZERO
    shown = money.presentment_money.amount if money.presentment_money else money.shop_money.amount
    return money.shop_money.amount, shown


def presentment(
    payload: sp.ShopifyOrder, currency: str, shown_rounding: Decimal
) -> Presentment | None:
    """The order's presentment currency and total, when it differs from the shop's."""
    money = payload.total_price_set
    shown = money.presentment_money if money is not None else None
    if shown is None or shown.currency_code.upper() == currency:
        return None
    total = shown.amount + shown_rounding
    return Presentment(currency=shown.currency_code.upper(), total=total) if total > 0 else None


def add_extras(
    lines: LineSet, payload: sp.ShopifyOrder, total: Decimal, shown: Presentment | None
) -> Decimal:
    """Append the duties, fees, loose tip and cash rounding lines; returns the cash
    rounding (shop money) that the invoice total adds to `total_price`.

    Raises:
        TranslationError: a duty without an amount.
    """
    what = f"Shopify order {payload.name} ({payload.id})"
    _zero_vat_line(lines, LineKind.DUTIES, DUTIES_TITLE, duties(payload, what))
    _zero_vat_line(lines, LineKind.FEES, FEES_TITLE, fees(payload))
    _zero_vat_line(lines, LineKind.TIP, TIP_TITLE, loose_tip(payload, shown, total))
    rounding, _ = cash_rounding(payload)
    _zero_vat_line(lines, LineKind.CASH_ROUNDING, CASH_ROUNDING_TITLE, rounding)
    return rounding
