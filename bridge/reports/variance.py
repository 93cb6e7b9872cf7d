"""The variance report accountants sign a month off with: per day, what the providers
said (sales, refunds, payments, fees) against what Sage holds (invoices, credit notes,
settlements, fee entries), and every order whose figures differ.

Provider side: the facts the bridge noted from each provider event (`bridge.reports.facts`)
and the payouts it booked (`bridge.payouts.store`). Sage side: read from Sage itself with
paged queries (`connectors.sage_active.reports`), so a document changed, added or deleted
by hand in Sage shows as a difference.

The days compare by date (the provider's date of each object, Sage's document and entry
dates). The orders compare whole: every order the range concerns (a provider fact or a Sage
invoice dated in it) with all its provider facts and all its Sage documents, whatever their
dates, so a refund dated after its invoice, or a credit note Sage dates otherwise, is no
difference. Per order (by its reference, the invoice's `salesOrderNumber`):
- sales: the order's total against its invoice's `totalLiquid` (an order cancelled before
  anything was booked is no sale);
- refunds: the refunds' value against the credit notes of the invoice;
- payments: the payments (an `orders/paid` fallback only when there is no transaction)
  against what was settled on the invoice's open items, by the bridge or by hand (less
  what its credit notes settled: Sage letters a credit note against what is still due).
An order edit's documents (`<reference>:edit:<id>`: a supplementary invoice, the credit
note of what it removed) count with their order's sales: the order's total now.
Per payout: its fees against the fee line of its Sage entry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.money import ZERO
from bridge.payouts.mapping import PROCESSORS
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.reports.facts import Fact, ProviderFacts
from bridge.services import Services
from connectors.sage_active.reports import (
    ReportDocument,
    ReportEntry,
    documents_between,
    documents_of_orders,
    entries_between,
)

MAX_DAYS = 366
NO_ORDER = "sage:"  # key of a Sage document that carries no order reference
PAYOUTS_READ = 5000
NOT_BOOKED = {"Pending", "Draft"}  # not in the books yet
COLUMNS = ("sales", "refunds", "payments", "fees")
SAGE_NAMES = {
    "sales": "invoices",
    "refunds": "credit notes",
    "payments": "settlements",
    "fees": "fee entries",
}


@dataclass
class Figures:
    """Provider and Sage amounts of one day (or of the whole range)."""

    provider: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(COLUMNS, ZERO))
    sage: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(COLUMNS, ZERO))

    def add(self, other: Figures) -> None:
        for column in COLUMNS:
            self.provider[column] += other.provider[column]
            self.sage[column] += other.sage[column]

    def difference(self, column: str) -> Decimal:
        return self.provider[column] - self.sage[column]

    @property
    def balanced(self) -> bool:
        return all(self.difference(c) == 0 for c in COLUMNS)


@dataclass(frozen=True)
class Difference:
    """One order (or payout) whose provider and Sage figures differ."""

    reference: str
    label: str
    column: str  # sales / refunds / payments / fees
    provider: Decimal
    sage: Decimal
    note: str

    @property
    def amount(self) -> Decimal:
        return self.provider - self.sage


@dataclass
class Report:
    first: dt.date
    last: dt.date
    connection: str
    currency: str
    days: dict[dt.date, Figures]
    differences: list[Difference]

    @property
    def totals(self) -> Figures:
        total = Figures()
        for figures in self.days.values():
            total.add(figures)
        return total


@dataclass
class _Order:
    label: str = ""
    sales: Decimal = ZERO
    refunds: Decimal = ZERO
    payments: Decimal = ZERO
    fallback: Decimal = ZERO
    invoices: Decimal = ZERO
    credit_notes: Decimal = ZERO
    settled: Decimal = ZERO
    credit_applied: Decimal = ZERO  # credit notes lettered against the invoice's open items
    numbers: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def check_range(first: dt.date, last: dt.date) -> None:
    """Raises: ValueError for a range that ends before it starts or is longer than a year."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days at once ({first} to {last} asked)")


def _provider_days(facts: list[Fact], days: dict[dt.date, Figures]) -> None:
    refunded = {f.reference for f in facts if f.kind == "refund"}
    totals = {f.reference: f.amount for f in facts if f.kind == "order"}
    paid = {f.reference for f in facts if f.kind == "payment"}
    for fact in facts:
        figures = days[fact.day].provider
        if fact.kind == "order":
            if not fact.cancelled or fact.reference in refunded:
                figures["sales"] += fact.amount
        elif fact.kind == "refund":
            figures["refunds"] += fact.amount or (
                totals.get(fact.reference, ZERO) if fact.full else ZERO
            )
        elif fact.kind == "payment" or fact.reference not in paid:
            figures["payments"] += fact.amount


def _provider_order(facts: list[Fact], order: _Order) -> None:
    """One order's provider figures, from all its facts whatever their day."""
    refunded = any(f.kind == "refund" for f in facts)
    full = False
    for fact in facts:
        if fact.kind == "order":
            order.label = fact.label or fact.reference
            if not fact.cancelled or refunded:
                order.sales += fact.amount
        elif fact.kind == "refund":
            order.refunds += fact.amount
            full = full or (fact.full and not fact.amount)
        elif fact.kind == "payment":
            order.payments += fact.amount
        else:
            order.fallback += fact.amount
    if full:  # a cancellation or a void credits whatever the other refunds left
        order.refunds = max(order.refunds, order.sales)


def base_reference(number: str) -> str:
    """The order a document belongs to: its `salesOrderNumber` without the suffix of a
    refund's credit note (`:refund:<id>`) or an order edit's document (`:edit:<id>`)."""
    return number.split(":refund:")[0].split(":edit:")[0]


def _edit_credit(doc: ReportDocument) -> bool:
    """The credit note of what an order edit removed (not a refund)."""
    return doc.is_credit_note and ":edit:" in (doc.sales_order_number or "")


def _day(doc: ReportDocument) -> dt.date:
    return (doc.document_date or dt.datetime.min).date()


def _sage_days(docs: list[ReportDocument], days: dict[dt.date, Figures]) -> None:
    for doc in docs:
        if doc.status in NOT_BOOKED:
            continue
        if _edit_credit(doc):  # an order edit removed something: a smaller sale
            days[_day(doc)].sage["sales"] -= abs(doc.total_liquid)
            continue
        column = "refunds" if doc.is_credit_note else "sales"
        days[_day(doc)].sage[column] += abs(doc.total_liquid)


def _sage_orders(docs: list[ReportDocument], orders: dict[str, _Order]) -> None:
    """Each order's Sage documents (its invoices by reference, their credit notes by
    source invoice), whatever their date."""
    by_id = {d.id: d for d in docs}
    for doc in docs:
        reference = base_reference(doc.sales_order_number or "")
        source = by_id.get(doc.source_sales_invoice_id or "")
        if doc.is_credit_note and source is not None and source.sales_order_number:
            reference = base_reference(source.sales_order_number)
        order = orders[reference or f"{NO_ORDER}{doc.id}"]
        order.numbers.append(doc.operational_number or doc.id)
        if doc.status in NOT_BOOKED:
            order.pending.append(doc.operational_number or doc.id)
        elif _edit_credit(doc):
            order.invoices -= abs(doc.total_liquid)
            order.credit_applied += abs(doc.settled)
        elif doc.is_credit_note:
            order.credit_notes += abs(doc.total_liquid)
            order.credit_applied += abs(doc.settled)
        else:
            order.invoices += doc.total_liquid
            order.settled += doc.settled


def _sage_entries(
    entries: list[ReportEntry],
    days: dict[dt.date, Figures],
    payouts: dict[str, PayoutLink],
    fees_account: str,
    customers_account: str,
) -> dict[str, Decimal]:
    """Settlements and payout fees by day; returns the fees booked per payout id."""
    booked: dict[str, Decimal] = {}
    for entry in entries:
        day = (entry.date or dt.datetime.min).date()
        if entry.source_type == "BANKING":
            # a customer's settlement credits the customers' account (a supplier's does not)
            days[day].sage["payments"] -= entry.balance_on(customers_account)
        elif entry.document_number in payouts:
            fees = entry.balance_on(fees_account)
            booked[entry.document_number] = booked.get(entry.document_number, ZERO) + fees
            days[day].sage["fees"] += fees
    return booked


def _order_differences(orders: dict[str, _Order]) -> list[Difference]:
    found: list[Difference] = []
    for reference, o in sorted(orders.items()):
        numbers = ", ".join(o.numbers) or "none"
        label = o.label or reference
        if reference.startswith(NO_ORDER):
            label = f"Sage document {numbers} (made in Sage, no order)"
        pairs = (
            ("sales", o.sales, o.invoices, f"invoice {numbers}"),
            ("refunds", o.refunds, o.credit_notes, f"documents {numbers}"),
            (
                "payments",
                o.payments or o.fallback,
                o.settled - o.credit_applied,
                "settled on the invoice by payments",
            ),
        )
        for column, provider, sage, where in pairs:
            if provider != sage:
                note = f"provider {provider:.2f}, Sage {sage:.2f} ({where})"
                if o.pending:
                    note += f"; not closed/posted in Sage: {', '.join(o.pending)}"
                found.append(Difference(reference, label, column, provider, sage, note))
    return found


def build_report(services: Services, first: dt.date, last: dt.date) -> Report:
    """The report of `first` to `last` (inclusive) for `services`' connection.

    Raises:
        ValueError: a bad range (see `check_range`).
        redis.RedisError: Redis is unreachable.
        SageError: Sage could not be read.
    """
    check_range(first, last)
    settings = services.settings
    days: dict[dt.date, Figures] = defaultdict(Figures)
    facts = ProviderFacts(services.redis, settings).between(first, last)
    _provider_days(facts, days)
    payouts = _payouts(services, first, last)
    for link in payouts.values():
        if link.date is not None:
            days[link.date].provider["fees"] += link.fees
    client = services.sage.client
    docs = list(documents_between(client, first, last))
    _sage_days(docs, days)
    entries = list(entries_between(client, first, last))
    booked = _sage_entries(
        entries, days, payouts, settings.fees_account, settings.customers_account
    )
    orders = _orders(services, facts, docs)
    differences = _order_differences(orders)
    for payout_id, link in sorted(payouts.items()):
        sage_fees = booked.get(payout_id, ZERO)
        if link.fees != sage_fees:
            note = (
                f"payout fees {link.fees}, Sage fee lines {sage_fees} (entry {link.entry_number})"
            )
            differences.append(
                Difference(payout_id, f"payout {payout_id}", "fees", link.fees, sage_fees, note)
            )
    in_range = {d: f for d, f in sorted(days.items()) if first <= d <= last}
    return Report(
        first, last, settings.connection, settings.shop_currency.upper(), in_range, differences
    )


def _orders(services: Services, facts: list[Fact], docs: list[ReportDocument]) -> dict[str, _Order]:
    """The orders the range concerns (a provider fact or a Sage invoice in it), each with
    all its provider facts and all its Sage documents, whatever their dates; and the
    documents of the range made in Sage with no order reference."""
    scope = {f.reference for f in facts}
    scope |= {
        base_reference(d.sales_order_number)
        for d in docs
        if d.sales_order_number and not d.is_credit_note
    }
    references = sorted(scope)
    # an order edit's supplementary invoices carry references of their own
    chained = [doc.reference for link in services.links.orders(references) for doc in link.chain]
    orders: dict[str, _Order] = defaultdict(_Order)
    for reference, found in (
        ProviderFacts(services.redis, services.settings).of_orders(references).items()
    ):
        _provider_order(found, orders[reference])
    held = documents_of_orders(services.sage.client, references + sorted(set(chained)))
    _sage_orders(list(held), orders)
    loose = [d for d in docs if not d.sales_order_number and not d.source_sales_invoice_id]
    _sage_orders(loose, orders)
    return orders


def _payouts(services: Services, first: dt.date, last: dt.date) -> dict[str, PayoutLink]:
    store = PayoutStore(services.redis, services.settings)
    found: dict[str, PayoutLink] = {}
    for processor in PROCESSORS:
        for link in store.recent(processor, limit=PAYOUTS_READ):
            # fees invoiced monthly (BRIDGE_FEE_INVOICES) stay on the clearing account until
            # the month's close: that close, not this report, compares them
            invoiced = link.fees_on == "clearing"
            if link.entry_id and link.date and first <= link.date <= last and not invoiced:
                found[link.payout_id] = link
    return found
