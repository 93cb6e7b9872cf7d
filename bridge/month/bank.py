"""Each booked payout reconciled with the bank movement that brought its money
(`reconcileBankMovement`), looked for on every month-end run.

A movement matches a payout when it is on the bank account the payout's entry debits
(`BRIDGE_PAYOUT_BANK_ACCOUNTS`, else `BRIDGE_BANK_ACCOUNT`, found among Sage's
`bankAccounts` by its general account), of exactly the payout's amount, posted from its
arrival date to `BRIDGE_BANK_MATCH_DAYS` days after, not reconciled already (by anyone),
and not claimed by another payout. Among several, one whose label (narratives, reference)
contains the payout's id comes first; a label naming another Stripe payout (`po_...`) is
never taken. Then the earliest.

Exactly once: the movement is claimed for the payout in Redis (`bank:claims`, a hash
movement id -> payout) before the mutation, so two payouts never take one movement; a
run after a crash sees the movement already linked to the payout's entry and records it.
A payout with no match stays `waiting` while today is within `BRIDGE_BANK_WAIT_DAYS` of
its arrival date, then becomes `not_found` with an attention item "payout not seen in the
bank" naming it (and is not looked for again: reconcile it by hand in Sage).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.payouts.mapping import PROCESSORS, accounts_for
from bridge.payouts.store import PayoutLink, PayoutStore
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.sync.locks import LockBusy, OrderLock
from connectors.sage_active.banking import BankAccount, BankMovement, BankOperations
from connectors.sage_active.errors import SageBusinessError

log = logging.getLogger(__name__)
DONE = frozenset({"reconciled", "not_found"})
_STRIPE_PAYOUT = re.compile(r"\bpo_[A-Za-z0-9]+")


@dataclass
class BankTally:
    reconciled: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"bank: {len(self.reconciled)} reconciled, {len(self.waiting)} waiting, "
            f"{len(self.not_found)} not found"
        )


@dataclass
class _Run:
    services: Services
    today: dt.date
    ops: BankOperations
    accounts: dict[str, BankAccount | None] = field(default_factory=dict)

    def bank_account(self, code: str) -> BankAccount | None:
        if code not in self.accounts:
            self.accounts[code] = self.ops.bank_account_for(code)
        return self.accounts[code]


def reconcile_payouts(
    services: Services, today: dt.date | None = None, progress: Callable[[str], None] = log.info
) -> BankTally:
    """Look for the movement of every booked payout not reconciled yet.

    Raises:
        SageError, redis.RedisError: Sage or Redis failed (what was done stays done).
    """
    tally = BankTally()
    if not services.settings.bank_reconcile:
        return tally
    run = _Run(
        services, today or dt.datetime.now(dt.UTC).date(), BankOperations(services.sage.client)
    )
    store = PayoutStore(services.redis, services.settings)
    for processor in PROCESSORS:
        for link in store.recent(processor, limit=100_000):
            if not link.entry_id or link.failure_entry_id or link.date is None:
                continue
            if link.bank_status in DONE:
                continue
            try:
                with OrderLock(services.redis, store.lock_key(processor, link.payout_id), wait=0):
                    fresh = store.get(processor, link.payout_id) or link
                    status = _one(run, store, fresh, tally)
            except LockBusy:
                continue  # being booked or looked at by another run: next time
            getattr(tally, status).append(link.payout_id)
    progress(tally.line())
    return tally


def _one(run: _Run, store: PayoutStore, link: PayoutLink, tally: BankTally) -> str:
    settings = run.services.settings
    if link.date is None or link.entry_id is None:  # filtered out by the caller
        return "waiting"
    code = accounts_for(settings, link.processor).bank
    account = run.bank_account(code)
    if account is None:
        tally.problems.append(f"no Sage bank account on {code}")
        return _waiting(run, store, link, f"no bank account on {code} in Sage's bankAccounts")
    last = link.date + dt.timedelta(days=settings.bank_match_days)
    candidates = run.ops.movements(account.id, link.amount, link.date, last)
    mine = next((m for m in candidates if m.linked_to(link.entry_id)), None)
    if mine is not None:
        return _reconciled(store, link, mine)
    claims = settings.key("bank", "claims")
    me = f"{link.processor}:{link.payout_id}"
    for movement in rank_movements(candidates, link.payout_id):
        owner = run.services.redis.hget(claims, movement.id)
        if movement.reconciled or (owner is not None and owner != me):
            continue
        if owner is None and not run.services.redis.hsetnx(claims, movement.id, me):
            continue  # another payout claimed it just now
        try:
            run.ops.reconcile(movement.id, [link.entry_id])
        except SageBusinessError as exc:
            tally.problems.append(f"{link.payout_id}: {exc}")
            continue
        return _reconciled(store, link, movement)
    return _waiting(run, store, link, None)


def rank_movements(candidates: list[BankMovement], payout_id: str) -> list[BankMovement]:
    """The movements a payout may take, best first: those whose label names it, then the
    earliest; a label naming another Stripe payout is left out."""

    def others(m: BankMovement) -> bool:
        return any(ref != payout_id for ref in _STRIPE_PAYOUT.findall(m.label))

    usable = [m for m in candidates if payout_id in m.label or not others(m)]
    earliest = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(usable, key=lambda m: (payout_id not in m.label, m.date_posted or earliest))


def _reconciled(store: PayoutStore, link: PayoutLink, movement: BankMovement) -> str:
    link.bank_status, link.bank_movement_id = "reconciled", movement.id
    link.bank_checked_at = dt.datetime.now(dt.UTC)
    store.save(link)
    return "reconciled"


def _waiting(run: _Run, store: PayoutStore, link: PayoutLink, why: str | None) -> str:
    settings = run.services.settings
    day = link.date or run.today
    link.bank_checked_at = dt.datetime.now(dt.UTC)
    if run.today <= day + dt.timedelta(days=settings.bank_wait_days):
        link.bank_status = "waiting"
        store.save(link)
        return "waiting"
    link.bank_status = "not_found"
    store.save(link)
    code = accounts_for(settings, link.processor).bank
    last = day + dt.timedelta(days=settings.bank_match_days)
    reason = why or (
        f"no movement of exactly {link.amount:.2f} on {code} from {link.date} to {last}"
    )
    run.services.attention.add(
        AttentionItem(
            id=f"payout-bank:{link.processor}:{link.payout_id}",
            kind="payout_bank",
            amount=link.amount,
            currency=link.currency.upper(),
            reason=f"payout {link.payout_id} not seen in the bank ({link.amount:.2f} "
            f"{link.currency.upper()}, arrival {link.date}, entry {link.entry_number}): {reason}",
            source=link.payout_id,
        )
    )
    return "not_found"
