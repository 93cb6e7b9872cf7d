"""VAT rate and tax behaviour of Stripe invoice lines, in every API version's shape (pure).

Which shape an event has is decided here, once, from its `api_version` (`new_shapes`):

- up to `2025-02-24.acacia`: a line's rates are its `tax_rates` (or the invoice's
  `default_tax_rates`), its taxes `tax_amounts[]` (`amount`, `inclusive`, `tax_rate`,
  `taxable_amount`);
- from `2025-03-31.basil` (up to `2026-10-28.endive` and on): `taxes[]` (`amount`,
  `taxable_amount`, `tax_behavior`, `tax_rate_details.tax_rate`), no `tax_rates`.

Both give, per line, tax entries of a rate. The rate comes from the payload when the rate
object is in it (expanded, or one of the invoice's `default_tax_rates`). When only its id
is there, it is derived from the amounts: over every line taxed at that id, the tax
charged against the taxable amount. The derived rate must be one of the books' VAT rates
(the rates of `BRIDGE_FALLBACK_PRODUCTS`) within what Stripe's per-line rounding explains;
otherwise the invoice is refused, naming the rate found. A line with no tax entry, or
whose entries charge nothing and cannot be derived, bears no VAT (0 %): nothing was
charged, so nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bridge.models import TranslationError
from bridge.money import ZERO
from bridge.settings import DEFAULT_FALLBACK_PRODUCTS
from bridge.translate.common import plain
from connectors.stripe import payloads as st

BASIL = "2025-03-31"  # first API version of the new invoice shapes
DEFAULT_VAT_RATES: tuple[Decimal, ...] = tuple(Decimal(r) for r in DEFAULT_FALLBACK_PRODUCTS)
HALF = Decimal("0.5")
HUNDRED = Decimal(100)


def new_shapes(api_version: str | None, invoice: st.StripeInvoice) -> bool:
    """True when the invoice is in the shapes of `2025-03-31.basil` or later.

    An event names its `api_version` (a webhook endpoint keeps the version it was created
    with, so one account may send both shapes). Without one (a bare object), the fields
    it carries decide.
    """
    if api_version:
        return api_version[:10] >= BASIL
    if invoice.total_taxes is not None or invoice.parent is not None:
        return True
    return any(
        line.taxes is not None or line.pricing is not None or line.parent is not None
        for line in invoice.lines.data
    )


@dataclass(frozen=True)
class TaxEntry:
    """One tax on one line, whatever the API version."""

    key: str  # the tax rate's id (or a key of its own when the payload names no rate)
    amount: int
    taxable: int | None
    inclusive: bool
    rate: Decimal | None  # when the rate object is in the payload


def _rate_key(rate: str | st.TaxRate | None, fallback: str) -> tuple[str, Decimal | None]:
    if isinstance(rate, st.TaxRate):
        return rate.id, rate.percentage
    return (rate or fallback), None


def _entries(line: st.InvoiceLine, new: bool) -> list[TaxEntry]:
    found = []
    if new:
        for n, tax in enumerate(line.taxes or []):
            key, rate = _rate_key(tax.rate, f"{line.id}#{n}")
            found.append(TaxEntry(key, tax.amount, tax.taxable_amount, tax.inclusive, rate))
    else:
        for n, old in enumerate(line.tax_amounts):
            key, rate = _rate_key(old.tax_rate, f"{line.id}#{n}")
            found.append(TaxEntry(key, old.amount, old.taxable_amount, old.inclusive, rate))
    return found


class LineTaxes:
    """The VAT rate and tax behaviour of each line of one invoice (see the module doc)."""

    def __init__(
        self,
        invoice: st.StripeInvoice,
        *,
        api_version: str | None,
        vat_rates: Sequence[Decimal] = DEFAULT_VAT_RATES,
    ) -> None:
        self._invoice = invoice
        self._new = new_shapes(api_version, invoice)
        self._vat_rates = tuple(vat_rates)
        self._by_line = {line.id: _entries(line, self._new) for line in invoice.lines.data}
        self._known: dict[str, Decimal] = {r.id: r.percentage for r in invoice.default_tax_rates}
        for line in invoice.lines.data:
            self._known.update({r.id: r.percentage for r in line.tax_rates})
        for entries in self._by_line.values():
            self._known.update({e.key: e.rate for e in entries if e.rate is not None})
        self._derived: dict[str, Decimal | None] = {}

    @property
    def new_shapes(self) -> bool:
        return self._new

    def inclusive(self, line: st.InvoiceLine) -> bool:
        """Whether the line's `amount` includes its VAT."""
        if any(e.inclusive for e in self._by_line[line.id]):
            return True
        return not self._new and any(r.inclusive for r in line.tax_rates)

    def rate(self, line: st.InvoiceLine) -> Decimal:
        """The line's VAT rate in percent (the sum of its taxes' rates).

        Raises:
            TranslationError: tax was charged at a rate the payload does not give and the
                amounts do not show, or show one the books do not know.
        """
        if not self._new:
            rates = line.tax_rates or self._invoice.default_tax_rates
            if rates:
                return plain(sum((r.percentage for r in rates), ZERO))
        entries = self._by_line[line.id]
        total = ZERO
        for key in dict.fromkeys(e.key for e in entries):
            rate = self._known.get(key)
            if rate is None:
                rate = self._derive(key, line)
            total += rate
        return plain(total)

    def _derive(self, key: str, line: st.InvoiceLine) -> Decimal:
        if key not in self._derived:
            self._derived[key] = self._from_amounts(key)
        rate = self._derived[key]
        if rate is not None:
            return rate
        if all(e.amount == 0 for e in self._by_line[line.id] if e.key == key):
            return ZERO  # nothing charged at it
        raise TranslationError(
            f"{self._what(line)}: tax charged at rate {key}, but the payload gives neither "
            "the rate nor the taxable amount (expand the tax rate)"
        )

    def _from_amounts(self, key: str) -> Decimal | None:
        """The books' rate that the tax charged at `key` shows, or None without a taxable
        amount.

        Raises:
            TranslationError: the amounts show a rate that is not one of the books'.
        """
        entries = [e for each in self._by_line.values() for e in each if e.key == key and e.taxable]
        if not entries:
            return None
        # in absolute values: a proration credit (negative) must not cancel its charge out
        tax = sum(abs(e.amount) for e in entries)
        taxable = Decimal(sum(abs(e.taxable or 0) for e in entries))
        best = _closest(self._vat_rates, tax, taxable, len(entries))
        if best is None:
            found = (Decimal(tax) * HUNDRED / taxable).quantize(Decimal("0.001"))
            raise TranslationError(
                f"Stripe invoice {self._invoice.number or self._invoice.id}: tax rate {key} "
                f"charges {tax} on {taxable} (minor units), {plain(found)} %, which is not one "
                f"of the books' VAT rates ({_listed(self._vat_rates)}): add it to "
                "BRIDGE_FALLBACK_PRODUCTS, or expand the tax rate"
            )
        return best

    def _what(self, line: st.InvoiceLine) -> str:
        return f"Stripe invoice {self._invoice.id} line {line.id}"

    def any_inclusive(self) -> bool:
        return any(self.inclusive(line) for line in self._invoice.lines.data)


def _closest(rates: Iterable[Decimal], tax: int, taxable: Decimal, lines: int) -> Decimal | None:
    """The rate whose tax on `taxable` is nearest to `tax`, among those within Stripe's
    rounding: each line's tax is rounded to the minor unit (and on tax-inclusive lines the
    taxable amount moves with it), so up to half a unit times (1 + rate) per line."""
    found: tuple[Decimal, Decimal] | None = None
    for rate in rates:
        gap = abs(taxable * rate / HUNDRED - tax)
        if gap <= HALF * lines * (1 + rate / HUNDRED) and (found is None or gap < found[0]):
            found = (gap, rate)
    return plain(found[1]) if found else None


def _listed(rates: Iterable[Decimal]) -> str:
    return ", ".join(f"{plain(r)} %" for r in sorted(rates, reverse=True))
