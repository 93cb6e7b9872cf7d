"""A month, the processor fees of its payouts, and the fee invoice's amounts (pure).

A payout belongs to the month of its date (Stripe's `arrival_date`, Shopify Payments'
payout date). Its fees are those the payout booking summed from its balance transactions
(Stripe `fee`, i.e. its `fee_details`, and fee transactions; Shopify Payments' `fee`).
Only payouts booked with the fees left on the clearing account (`fees_on == "clearing"`,
`BRIDGE_FEE_INVOICES` on) are invoiced: the others already put theirs on the expense
account, and invoicing them again would count them twice.

The processor invoices an EU business from Ireland without VAT (reverse charge): the
invoice's base is the fees, its VAT (self-assessed at the organisation's rate, due and
deductible) is not owed to the supplier, so its total (`totalLiquid`) is the fees too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bridge.payouts.store import PayoutLink

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The standard VAT rate of each legislation: what is self-assessed on a service bought in
# the EU unless BRIDGE_FEE_VAT_RATE says otherwise.
STANDARD_RATES = {"FR": Decimal("20"), "ES": Decimal("21"), "DE": Decimal("19")}


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-11` -> Month(2026, 11).

        Raises:
            ValueError: not YYYY-MM with a month 01..12.
        """
        found = _MONTH.match(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12:
            raise ValueError(f"a month is written YYYY-MM (e.g. 2026-11), not {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def before(cls, day: dt.date) -> Month:
        """The month before the one `day` is in."""
        first = day.replace(day=1) - dt.timedelta(days=1)
        return cls(first.year, first.month)

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: dt.date) -> bool:
        return (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class MonthFees:
    """The fees of one processor's payouts in one month."""

    processor: str
    month: Month
    total: Decimal = ZERO
    payouts: list[str] = field(default_factory=list)  # invoiced: fees on the clearing account
    on_expense: list[str] = field(default_factory=list)  # booked before the mode was on
    on_expense_total: Decimal = ZERO
    currencies: set[str] = field(default_factory=set)


def month_fees(links: Iterable[PayoutLink], processor: str, month: Month) -> MonthFees:
    """Sum the fees of the booked payouts of `processor` dated in `month`."""
    result = MonthFees(processor, month)
    for link in links:
        if link.processor != processor or not link.entry_id or link.date is None:
            continue
        if link.date not in month:
            continue
        if link.fees_on == "clearing":
            result.total += link.fees
            result.payouts.append(link.payout_id)
            result.currencies.add(link.currency.upper())
        else:
            result.on_expense.append(link.payout_id)
            result.on_expense_total += link.fees
    result.payouts.sort()
    result.on_expense.sort()
    return result


def invoice_number(processor: str, month: Month, connection: str = "default") -> str:
    """`stripe-2026-11` (`stripe-<connection>-2026-11` for a connection other than the
    default): how the invoice is found again (max 50)."""
    middle = "" if connection == "default" else f"-{connection}"
    return f"{processor}{middle}-{month}"[:50]


@dataclass(frozen=True)
class FeeInvoice:
    number: str
    day: dt.date
    base: Decimal
    rate: Decimal
    vat: Decimal  # self-assessed: due and deductible, not paid to the supplier
    total: Decimal  # what the supplier is owed: the fees


def fee_invoice(fees: Decimal, rate: Decimal, number: str, month: Month) -> FeeInvoice:
    """The reverse-charge invoice for `fees` (the VAT at `rate` percent, half-up cents).

    Raises:
        ValueError: fees not positive or not to the cent.
    """
    if fees <= ZERO or fees != fees.quantize(CENT):
        raise ValueError(f"fees of {fees} cannot be invoiced (positive, to the cent)")
    vat = (fees * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return FeeInvoice(number, month.last, fees, rate, vat, fees)
