"""The month end as the Clearing page and `GET /admin/clearing` show it (`month_end`).

Per processor: for each recent month, the fees booked in its payouts (those left on the
clearing account for the monthly invoice), what the close made of them (invoice number,
VAT, status, pending amount: settled when Paid with nothing pending) and its notes; and
each recent payout's bank status: reconciled (with the movement), waiting (looked for on
each run), not found (an attention item names it), not looked at yet.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from bridge.month.fees import ZERO, Month, month_fees
from bridge.month.store import MonthStore
from bridge.payouts.mapping import PROCESSORS
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.services import Services

BANK_LABELS = {
    "reconciled": "reconciled",
    "waiting": "waiting",
    "not_found": "not found",
    None: "not looked at yet",
}


class MonthRow(BaseModel):
    month: str
    fees_booked: str  # in the month's payouts, left on the clearing account
    payouts: int
    outcome: str  # of the last close: "not closed yet" before any
    invoice_number: str | None
    invoiced: str | None  # the invoice's amount
    vat: str | None  # reverse charge: due and deductible
    status: str | None
    pending: str | None
    settled: bool
    notes: list[str]


class BankRow(BaseModel):
    payout_id: str
    amount: str
    currency: str
    date: str | None
    bank: str  # reconciled, waiting, not found, not looked at yet
    movement_id: str | None


class ProcessorMonthEnd(BaseModel):
    processor: str
    label: str
    fee_invoices: bool
    months: list[MonthRow]
    bank: list[BankRow]
    bank_counts: dict[str, int]


def _months(links: list[PayoutLink], closed: list[str], limit: int) -> list[Month]:
    seen = {Month(ln.date.year, ln.date.month) for ln in links if ln.date and ln.entry_id}
    seen |= {Month.parse(m) for m in closed}
    return sorted(seen, reverse=True)[:limit]


def fees_withheld(services: Services, processor: str, links: list[PayoutLink]) -> Decimal:
    """The fees booked on the clearing account (payouts of the monthly-invoice mode) that
    no settled fee invoice has taken off it yet.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    store = MonthStore(services.redis, services.settings)
    months = {Month(ln.date.year, ln.date.month) for ln in links if ln.date and ln.entry_id}
    total = ZERO
    for month in months:
        fees = month_fees(links, processor, month).total
        record = store.get(processor, str(month))
        total += fees - (record.fees if record is not None and record.settled else ZERO)
    return total


def month_end_status(
    services: Services, months: int = 6, payouts: int = 20
) -> list[ProcessorMonthEnd]:
    """Each processor's month end (see the module docstring).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    payout_store = PayoutStore(services.redis, services.settings)
    month_store = MonthStore(services.redis, services.settings)
    result = []
    for processor, label in PROCESSORS.items():
        links = payout_store.recent(processor, limit=100_000)
        records = {r.month: r for r in month_store.recent(processor, limit=months)}
        rows = []
        for month in _months(links, list(records), months):
            fees = month_fees(links, processor, month)
            record = records.get(str(month))
            invoiced = record.fees if record and record.invoice_id else None
            rows.append(
                MonthRow(
                    month=str(month),
                    fees_booked=f"{fees.total:.2f}",
                    payouts=len(fees.payouts),
                    outcome=record.outcome if record else "not closed yet",
                    invoice_number=record.invoice_number if record else None,
                    invoiced=f"{invoiced:.2f}" if invoiced is not None else None,
                    vat=f"{record.vat:.2f}" if record and record.invoice_id else None,
                    status=record.status if record else None,
                    pending=f"{record.pending:.2f}"
                    if record and record.pending is not None
                    else None,
                    settled=bool(record and record.settled),
                    notes=record.notes if record else [],
                )
            )
        booked = [ln for ln in links if ln.entry_id and not ln.failure_entry_id]
        counts: dict[str, int] = {}
        for link in booked:
            name = BANK_LABELS.get(link.bank_status, str(link.bank_status))
            counts[name] = counts.get(name, 0) + 1
        bank = [
            BankRow(
                payout_id=ln.payout_id,
                amount=f"{ln.amount:.2f}",
                currency=ln.currency.upper(),
                date=ln.date.isoformat() if ln.date else None,
                bank=BANK_LABELS.get(ln.bank_status, str(ln.bank_status)),
                movement_id=ln.bank_movement_id,
            )
            for ln in booked[:payouts]
        ]
        result.append(
            ProcessorMonthEnd(
                processor=processor,
                label=label,
                fee_invoices=services.settings.fee_invoices,
                months=rows,
                bank=bank,
                bank_counts=counts,
            )
        )
    return result
