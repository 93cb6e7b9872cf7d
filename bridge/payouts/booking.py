"""Booking a payout exactly once: one entry, found again by its `documentNumber`.

Under the payout's lock: a payout whose link holds its entry is done; one whose intent
marker is set may have reached Sage, so Sage is asked for an entry with the payout id as
`documentNumber` before anything is created. The transactions are read (streamed) only when
an entry has to be made. A payout that cannot be booked as it is (conversion, unknown type,
amounts that do not add up) becomes one attention item with its amounts, and nothing is
booked. While the mapping check has problems, payouts are parked (`mapping.MappingGate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from bridge.payouts.entry import (
    WITHHELD,
    ZERO,
    Accounts,
    Movement,
    PayoutFacts,
    PayoutTotals,
    entry_input,
    entry_lines,
    failure_input,
)
from bridge.payouts.mapping import MappingGate, accounts_for
from bridge.payouts.store import BOOK, FAIL, PayoutLink, PayoutStore
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.sync.dispatch import Outcome, Parked, Processed
from bridge.sync.locks import OrderLock
from connectors.sage_active.accounting import LedgerEntry
from connectors.sage_active.errors import SageInvalidRequest

MAPPING_PARK = 60.0  # seconds between looks while the mapping has problems
FAILED_SUFFIX = ":failed"

Movements = Callable[[], Iterable[Movement]]
OrderOf = Callable[[str], str | None]  # a refund's / dispute's hint -> order reference


@dataclass
class PayoutJob:
    """What booking one payout needs from its processor."""

    payout: PayoutFacts
    movements: Movements  # streams the payout's balance transactions (called at most once)
    order_of: OrderOf


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def mapping_wait(services: Services) -> Parked | None:
    """A `Parked` naming the problems while the payout mapping is not in the books.

    Raises:
        SageError: a needed re-check could not ask Sage.
    """
    gate = MappingGate(services.redis, services.settings, services.attention)
    problems = gate.problems(services.sage, services.settings)
    if not problems:
        return None
    names = "; ".join(p.message for p in problems)
    return Parked(MAPPING_PARK, f"payouts wait for the books: {names}")


def book_payout(services: Services, job: PayoutJob) -> Outcome:
    """Book `job.payout` once (see the module docstring).

    Raises:
        SageError, ProviderApiError, LockBusy, LockLost, redis.RedisError: classified by
            the caller.
    """
    waiting = mapping_wait(services)
    if waiting is not None:
        return waiting
    store = PayoutStore(services.redis, services.settings)
    payout = job.payout
    with OrderLock(services.redis, store.lock_key(payout.processor, payout.payout_id)) as lock:
        link = store.get(payout.processor, payout.payout_id) or PayoutLink(
            processor=payout.processor,
            payout_id=payout.payout_id,
            amount=payout.amount,
            currency=payout.currency,
        )
        booked = _ensure_entry(services, store, link, job, lock)
        return booked if booked is not None else Processed(_done(link))


def fail_payout(services: Services, job: PayoutJob) -> Outcome:
    """A payout that failed or was cancelled: its entry (booked first if it was not), then
    the entry that puts the amount back from the bank to the clearing account.

    Raises:
        as `book_payout`.
    """
    waiting = mapping_wait(services)
    if waiting is not None:
        return waiting
    store = PayoutStore(services.redis, services.settings)
    payout = job.payout
    accounts = accounts_for(services.settings, payout.processor)
    with OrderLock(services.redis, store.lock_key(payout.processor, payout.payout_id)) as lock:
        link = store.get(payout.processor, payout.payout_id) or PayoutLink(
            processor=payout.processor,
            payout_id=payout.payout_id,
            amount=payout.amount,
            currency=payout.currency,
        )
        if link.failure_entry_id:
            return Processed(f"payout {payout.payout_id}: failure already booked")
        not_booked = _ensure_entry(services, store, link, job, lock)
        if not_booked is not None:
            return not_booked
        document = (payout.payout_id + FAILED_SUFFIX)[:50]
        if link.intended(FAIL):
            found = services.sage.entries_with_lines(document)
            if found:
                link.failure_entry_id = found[0].id
                link.done(FAIL)
                store.save(link)
                return Processed(f"payout {payout.payout_id}: failure found in Sage")
        values = failure_input(payout, accounts, document)
        lock.check()
        link.intend(FAIL, _now())
        store.save(link)
        created = services.sage.create_accounting_entry(values)
        link.failure_entry_id = created.id
        link.done(FAIL)
        store.save(link)
        return Processed(
            f"payout {payout.payout_id} failed: entry {created.number} reverses the bank line"
        )


def _done(link: PayoutLink) -> str:
    amount = f"{link.amount} {link.currency}"
    return f"payout {link.payout_id} booked as entry {link.entry_number} ({amount})"


def _ensure_entry(
    services: Services, store: PayoutStore, link: PayoutLink, job: PayoutJob, lock: OrderLock
) -> Outcome | None:
    """None once the payout's entry is in Sage (made now, earlier, or found); else the
    outcome that stops here (attention)."""
    if link.entry_id:
        return None
    payout, sage = job.payout, services.sage
    if link.intended(BOOK):
        found = sage.entries_with_lines(payout.payout_id[:50])
        if found:
            _adopt(link, found[0], accounts_for(services.settings, payout.processor))
            _month_facts(link, payout, services)
            store.save(link)
            return None
    totals = PayoutTotals(currency=payout.currency)
    for move in job.movements():
        totals.add(move)
    problems = totals.check(payout)
    shop_currency = services.settings.shop_currency.upper()
    if payout.currency.upper() != shop_currency:
        problems.insert(
            0, f"the payout is in {payout.currency.upper()}, the books in {shop_currency}"
        )
    if problems:
        return _needs_attention(services, store, link, totals, problems)
    accounts = accounts_for(services.settings, payout.processor)
    unmatched: list[tuple[str | None, Decimal]] = []
    sides = entry_lines(
        payout, totals, accounts, _customer_finder(services, job, totals, unmatched)
    )
    values = entry_input(payout, accounts, sides)
    lock.check()
    link.intend(BOOK, _now())
    store.save(link)
    created = sage.create_accounting_entry(values)
    link.entry_id, link.entry_number = created.id, created.number
    link.fees, link.sales, link.transactions = totals.fees, totals.sales, totals.count
    link.refunds, link.disputes = totals.refunds, totals.disputes
    link.attention, link.problems = False, []
    _month_facts(link, payout, services)
    link.done(BOOK)
    store.save(link)
    if unmatched:
        _unmatched_attention(services, payout, unmatched)
    return None


def _month_facts(link: PayoutLink, payout: PayoutFacts, services: Services) -> None:
    """What the month end needs: the payout's date, and where its fees were booked."""
    link.date = payout.date
    link.fees_on = "clearing" if services.settings.fee_invoices else "expense"


def _adopt(link: PayoutLink, entry: LedgerEntry, accounts: Accounts) -> None:
    """Take an entry an earlier attempt made (its fee line gives the fees; on the clearing
    account, the line that says the fees are withheld)."""
    link.entry_id, link.entry_number = entry.id, entry.number
    link.fees = sum(
        (
            ln.debit_amount - ln.credit_amount
            for ln in entry.accounting_entry_lines
            if ln.sub_account is not None
            and ln.sub_account.code == accounts.fees
            and (accounts.fees != accounts.clearing or WITHHELD in (ln.description or ""))
        ),
        ZERO,
    )
    link.attention, link.problems = False, []
    link.done(BOOK)


def _customer_finder(
    services: Services,
    job: PayoutJob,
    totals: PayoutTotals,
    unmatched: list[tuple[str | None, Decimal]],
) -> Callable[[str | None], str | None]:
    """hint -> customer code of the order the bridge booked, else None (noted in `unmatched`)."""

    def find(hint: str | None) -> str | None:
        reference = job.order_of(hint) if hint else None
        link = services.links.order(reference) if reference else None
        code = None
        if link is not None and link.customer_id:
            try:
                code = services.sage.customer_code(link.customer_id)
            except SageInvalidRequest:
                code = None
        if code is None:
            unmatched.append((hint, totals.by_order_hint.get(hint, ZERO)))
        return code

    return find


def _needs_attention(
    services: Services,
    store: PayoutStore,
    link: PayoutLink,
    totals: PayoutTotals,
    problems: list[str],
) -> Processed:
    payout = link.payout_id
    summary = (
        f"{link.amount} {link.currency.upper()} payout, {totals.count} transactions: sales "
        f"{totals.sales}, refunds {totals.refunds}, disputes {totals.disputes}, fees "
        f"{totals.fees}, net {totals.net}"
    )
    services.attention.add(
        AttentionItem(
            id=f"payout:{link.processor}:{payout}",
            kind="payout",
            amount=link.amount,
            currency=link.currency.upper(),
            reason=f"payout {payout} not booked ({summary}): " + "; ".join(problems),
            source=payout,
        )
    )
    link.attention, link.problems, link.transactions = True, problems, totals.count
    link.sales, link.fees = totals.sales, totals.fees
    store.save(link)
    return Processed(f"payout {payout} needs attention: {problems[0]}")


def _unmatched_attention(
    services: Services, payout: PayoutFacts, unmatched: list[tuple[str | None, Decimal]]
) -> None:
    total = sum((amount for _, amount in unmatched), ZERO)
    hints = ", ".join(str(h) for h, _ in unmatched[:10])
    services.attention.add(
        AttentionItem(
            id=f"payout-unmatched:{payout.processor}:{payout.payout_id}",
            kind="payout_unmatched",
            amount=total,
            currency=payout.currency.upper(),
            reason=f"payout {payout.payout_id}: refunds/disputes of {total} whose order the "
            f"bridge did not book ({hints}) were booked on the clearing account",
            source=payout.payout_id,
        )
    )
