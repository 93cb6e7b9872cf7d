"""Shopify Markets: money in the customer's (presentment) currency, booked in the shop's.

An order sold through Markets has two totals: `total` in the shop currency (what the
invoice says) and `presentment.total` in the currency the customer saw. Shopify reports
payments and refunds in the presentment currency, with the shop-money amount beside it
only sometimes (`amount_set`, `currency_exchange_adjustment`). When it is missing, the
amount is converted with the order's own ratio, `total / presentment.total`, and never with
a market rate: the books must agree with the invoice, whatever the bank did.

Converting each payment on its own would lose or gain a cent now and then, so payments are
converted cumulatively: a payment turns `[paid before, paid before + amount]` of the
presentment total into the matching stretch of the shop total, each end rounded to the
cent. Payments adding up to the presentment total therefore settle exactly the shop total,
and the one that completes it takes whatever cents remain.

Pure functions, `Decimal` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bridge.models import Presentment, TranslationError
from bridge.money import minor_unit


def to_shop(
    amount: Decimal, presentment: Presentment, shop_total: Decimal, currency: str
) -> Decimal:
    """`amount` (presentment currency) in shop money at the order's ratio, rounded half-up
    to the minor unit of the shop `currency`."""
    value = amount * shop_total / presentment.total
    result = value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    return result if result else result.copy_abs()


def settle_share(
    amount: Decimal,
    *,
    presentment: Presentment,
    presentment_paid: Decimal,
    shop_total: Decimal,
    shop_paid: Decimal,
    currency: str,
) -> Decimal:
    """The shop money a payment of `amount` (presentment currency) settles.

    `presentment_paid` is what earlier converted payments of the order paid in the
    presentment currency, `shop_paid` what all earlier payments settled in shop money. The
    payment that brings the presentment total exactly to the order's takes what the shop
    total still lacks; any other takes its cumulative share (module docstring). A payment
    beyond the presentment total is converted the same way, so that the caller's check of
    what is due refuses it. The result may be 0 or less when earlier payments booked in shop
    money already settled the whole total: the caller refuses such a payment.
    """
    after = presentment_paid + amount
    if after == presentment.total:
        return shop_total - shop_paid
    before_shop = to_shop(presentment_paid, presentment, shop_total, currency)
    return to_shop(after, presentment, shop_total, currency) - before_shop


@dataclass(frozen=True)
class OrderMoney:
    """An order's shop currency and total, and its presentment money when it has one: what
    translating its refunds needs (a refund payload does not repeat them)."""

    currency: str
    total: Decimal
    presentment: Presentment | None = None

    def in_shop(self, amount: Decimal, currency: str, what: str) -> Decimal:
        """`amount` in `currency` as shop money (converted at the order's ratio).

        Raises:
            TranslationError: `currency` is neither the shop's nor the order's presentment
                currency.
        """
        code = currency.upper()
        if code == self.currency:
            return amount
        shown = self.presentment
        if shown is not None and code == shown.currency:
            return to_shop(amount, shown, self.total, self.currency)
        also = f" (presented to the customer in {shown.currency})" if shown else ""
        raise TranslationError(
            f"{what} is in {code}, the order in {self.currency}{also}: no rate to book it"
        )
