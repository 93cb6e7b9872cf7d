"""The reconciliation view of the processors' clearing accounts (`GET /admin/clearing`,
the console's Clearing page).

Per processor: the clearing account's balance as Sage computes it (its entry lines), the
payouts booked, those waiting for a person (not booked: their payments stay in the clearing
account) and those that failed, the fees withheld and not invoiced yet (`bridge.month`),
the open attention items about payouts, and what remains:
payments settled in Sage that are in no booked payout yet (still in the processor's
balance, or on their way to the bank). A balance of zero means every payment settled
through the processor has reached the bank, net of its fees.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from bridge.month.view import fees_withheld
from bridge.payouts.mapping import PROCESSORS
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.services import Services
from bridge.store.attention import AttentionItem
from connectors.sage_active.errors import SageError

ZERO = Decimal("0")
PAYOUT_KINDS = frozenset(
    {"payout", "payout_unmatched", "payout_mapping", "payout_bank", "month_close"}
)


class PayoutRow(BaseModel):
    payout_id: str
    amount: str
    currency: str
    state: str  # booked, needs attention, failed, in progress
    entry_number: int | None
    fees: str
    transactions: int


class ProcessorClearing(BaseModel):
    processor: str
    label: str
    account: str
    balance: str | None  # None when Sage could not be asked
    error: str | None = None
    payouts_booked: int
    booked_amount: str
    payouts_waiting: int
    waiting_sales: str  # payments of payouts not booked, still in the clearing account
    payouts_failed: int
    settled_not_paid_out: str | None  # the balance less what the waiting payouts explain
    explanation: list[str]
    payouts: list[PayoutRow]


def _row(link: PayoutLink) -> PayoutRow:
    state = "in progress"
    if link.failure_entry_id:
        state = "failed (bank line reversed)"
    elif link.entry_id:
        state = "booked"
    elif link.attention:
        state = "needs attention"
    return PayoutRow(
        payout_id=link.payout_id,
        amount=f"{link.amount:.2f}",
        currency=link.currency,
        state=state,
        entry_number=link.entry_number,
        fees=f"{link.fees:.2f}",
        transactions=link.transactions,
    )


def clearing_status(
    services: Services, limit: int = 20
) -> tuple[list[ProcessorClearing], list[AttentionItem]]:
    """Each processor's clearing status, and the open attention items about payouts."""
    store = PayoutStore(services.redis, services.settings)
    attention = [i for i in services.attention.items(limit=500) if i.kind in PAYOUT_KINDS]
    result = []
    for processor, label in PROCESSORS.items():
        account = services.settings.clearing_accounts.get(processor, "")
        links = store.recent(processor, limit=100_000)
        booked = [ln for ln in links if ln.entry_id]
        waiting = [ln for ln in links if not ln.entry_id and ln.attention]
        failed = [ln for ln in links if ln.failure_entry_id]
        waiting_sales = sum((ln.sales for ln in waiting), ZERO)
        balance: Decimal | None = None
        error = None
        try:
            balance = services.sage.account_balance(account)
        except SageError as exc:
            error = f"Sage could not be asked: {exc}"
        withheld = fees_withheld(services, processor, links)
        rest = balance - waiting_sales - withheld if balance is not None else None
        explanation = []
        if balance is not None and balance == ZERO:
            explanation.append("zero: every payment settled through it has been paid out")
        if waiting:
            explanation.append(
                f"{len(waiting)} payout(s) not booked (needing attention): their payments, "
                f"{waiting_sales:.2f}, are still in the clearing account"
            )
        if withheld:
            explanation.append(
                f"{withheld:.2f}: fees withheld from the payouts, until the month's fee invoice "
                "is settled against the clearing account (bridge close-month)"
            )
        if rest:
            explanation.append(
                f"{rest:.2f}: payments settled in Sage and in no booked payout yet (still in "
                f"the {label} balance or on their way to the bank)"
            )
        result.append(
            ProcessorClearing(
                processor=processor,
                label=label,
                account=account,
                balance=f"{balance:.2f}" if balance is not None else None,
                error=error,
                payouts_booked=len(booked),
                booked_amount=f"{sum((ln.amount for ln in booked), ZERO):.2f}",
                payouts_waiting=len(waiting),
                waiting_sales=f"{waiting_sales:.2f}",
                payouts_failed=len(failed),
                settled_not_paid_out=f"{rest:.2f}" if rest is not None else None,
                explanation=explanation,
                payouts=[_row(ln) for ln in links[:limit]],
            )
        )
    return result, attention
