"""The payout mapping (accounts and bank journal, from settings) checked against the books.

`check_payout_mapping(sage, settings)` returns named problems (empty: all good): each
account must exist and be active, the bank journal must exist, be active and FINANCIAL,
and the payment method each processor's payments are settled with must post to that
processor's clearing account (else the two sides never meet). `bridge doctor` and the
worker (at start) call it.

`MappingGate` keeps the last result in Redis. While it holds problems, payout events are
parked (they wait, they do not fail one by one); a parked payout re-checks the books when
the last check is older than `RECHECK_AFTER`, so fixing the books lets them through.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import redis
from pydantic import BaseModel

from bridge.payouts.entry import Accounts
from bridge.settings import Settings
from bridge.store.attention import AttentionItem, AttentionStore
from connectors.sage_active.operations import SageActive

log = logging.getLogger(__name__)
PROCESSORS = {"stripe": "Stripe", "shopify_payments": "Shopify Payments"}
RECHECK_AFTER = 60.0  # seconds


class MappingProblem(BaseModel):
    """One thing wrong: `name` is the setting (e.g. BRIDGE_FEES_ACCOUNT), `code` its value."""

    name: str
    code: str
    message: str


def accounts_for(settings: Settings, processor: str) -> Accounts:
    """The codes a payout of `processor` is booked with.

    Raises:
        KeyError: the processor has no clearing account in `BRIDGE_CLEARING_ACCOUNTS`.
    """
    clearing = settings.clearing_accounts[processor]
    return Accounts(
        bank=settings.payout_bank_accounts.get(processor, settings.payout_bank_account),
        clearing=clearing,
        # with monthly fee invoices the fees stay owed to the processor until its invoice
        # is settled against the clearing account (bridge.month)
        fees=clearing if settings.fee_invoices else settings.fees_account,
        customers=settings.customers_account,
        journal=settings.bank_journal_code,
    )


def check_payout_mapping(sage: SageActive, settings: Settings) -> list[MappingProblem]:
    """What in the payout mapping the organisation's books lack (see the module docstring).

    Raises:
        SageError: Sage could not be asked.
    """
    wanted = {
        "BRIDGE_BANK_ACCOUNT": settings.payout_bank_account,
        "BRIDGE_FEES_ACCOUNT": settings.fees_account,
        "BRIDGE_CUSTOMERS_ACCOUNT": settings.customers_account,
    }
    for processor, bank in settings.payout_bank_accounts.items():
        wanted[f"BRIDGE_PAYOUT_BANK_ACCOUNTS[{processor}]"] = bank
    for processor in PROCESSORS:
        code = settings.clearing_accounts.get(processor)
        if code is None:
            message = f"BRIDGE_CLEARING_ACCOUNTS has no account for {processor}"
            return [MappingProblem(name="BRIDGE_CLEARING_ACCOUNTS", code="", message=message)]
        wanted[f"BRIDGE_CLEARING_ACCOUNTS[{processor}]"] = code
    found = sage.accounting_accounts(wanted.values())
    problems = [
        MappingProblem(
            name=name,
            code=code,
            message=f"{name}: account {code} is not in Sage's chart of accounts",
        )
        for name, code in wanted.items()
        if code not in found or found[code].deactivated
    ]
    journal = sage.journal_by_code(settings.bank_journal_code)
    if journal is None or journal.type != "FINANCIAL":
        problems.append(
            MappingProblem(
                name="BRIDGE_BANK_JOURNAL",
                code=settings.bank_journal_code,
                message=f"BRIDGE_BANK_JOURNAL: no active FINANCIAL journal "
                f"{settings.bank_journal_code!r} in Sage",
            )
        )
    methods = sage.payment_method_accounts()
    for processor, label in PROCESSORS.items():
        name = settings.payment_methods.get(processor, label)
        account = methods.get(name)
        clearing = settings.clearing_accounts[processor]
        if name in methods and account != clearing:
            problems.append(
                MappingProblem(
                    name=f"payment method {name}",
                    code=account or "",
                    message=f"Sage payment method {name!r} posts to account {account}, not to "
                    f"the {label} clearing account {clearing}: set its account in Sage",
                )
            )
    return problems


class GateState(BaseModel):
    problems: list[MappingProblem]
    checked_at: float


class MappingGate:
    """The last mapping check, shared by every worker through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        attention: AttentionStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._key = settings.key("payouts", "mapping")
        self._attention = attention
        self._clock = clock

    def state(self) -> GateState | None:
        raw = self._redis.get(self._key)
        return GateState.model_validate_json(raw) if raw else None

    def refresh(self, sage: SageActive, settings: Settings) -> list[MappingProblem]:
        """Check the books now, remember the result, log and report each problem.

        Raises:
            SageError: Sage could not be asked (the previous result is kept).
        """
        problems = check_payout_mapping(sage, settings)
        self._redis.set(
            self._key, GateState(problems=problems, checked_at=self._clock()).model_dump_json()
        )
        for problem in problems:
            log.error("payouts stopped: %s", problem.message)
            self._attention.add(
                AttentionItem(
                    id=f"payout-mapping:{problem.name}:{problem.code}"[:300],
                    kind="payout_mapping",
                    reason=f"payouts wait until this is fixed: {problem.message}",
                    source=problem.code or problem.name,
                )
            )
        return problems

    def problems(self, sage: SageActive, settings: Settings) -> list[MappingProblem]:
        """The current problems, re-checked when unknown or older than `RECHECK_AFTER` and
        not clear.

        Raises:
            SageError: a needed re-check could not ask Sage.
        """
        state = self.state()
        if state is None or (state.problems and self._clock() - state.checked_at > RECHECK_AFTER):
            return self.refresh(sage, settings)
        return state.problems

    def checked_at(self) -> dt.datetime | None:
        state = self.state()
        return dt.datetime.fromtimestamp(state.checked_at, dt.UTC) if state else None
