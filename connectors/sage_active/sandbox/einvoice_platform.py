"""The simulated Plateforme Agréée of the sandbox's French e-invoicing (`einvoicing.py`).

Posting an invoice that `einvoicing.submittable` says is ready submits it: a new `eInvoice`
entry, SUBMITTED, which moves on a clock (`SandboxState.einvoice_step` seconds a step,
applied when a request comes in, `advance`): ISSUE_BY_THE_PLATFORM -> MADE_AVAILABLE ->
APPROVED, and PAYMENT_RECEIVED once the invoice is Collected. Every change moves the
invoice's `modificationDate`, so a poller sees it. `control` (the `/_sandbox/einvoicing`
route) sets the registration status and makes the next submission end REJECTED (by the
platform), REFUSED (by the buyer) or FAILED_TO_SEND with a reason;
`retrySalesInvoiceElectronicSubmission` submits a failed one again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from connectors.sage_active.sandbox import invoices, ledger
from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.einvoice_setup import registered_setup
from connectors.sage_active.sandbox.einvoicing import (
    SETUP_STATUSES,
    require_accepted,
    submittable,
)
from connectors.sage_active.sandbox.entities import (
    AccountingEntry,
    EInvoice,
    EInvoiceSetup,
    SalesInvoice,
)
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.inputs import PostInput, RetryInput

if TYPE_CHECKING:
    from connectors.sage_active.sandbox.state import SandboxState

NORMAL_PLAN: tuple[str, ...] = ("ISSUE_BY_THE_PLATFORM", "MADE_AVAILABLE", "APPROVED")
OUTCOMES = {
    "REJECTED": (("REJECTED",), "Rejected by the platform: the invoice failed its checks"),
    "FAILED_TO_SEND": (("FAILED_TO_SEND",), "The platform could not be reached"),
    "REFUSED": (("ISSUE_BY_THE_PLATFORM", "MADE_AVAILABLE", "REFUSED"), "Refused by the buyer"),
}
RETRYABLE = frozenset({"REJECTED", "REFUSED", "FAILED_TO_SEND", "SUSPENDED"})
_WITH_REASON = frozenset({"REJECTED", "REFUSED", "FAILED_TO_SEND", "SUSPENDED", "DISPUTED"})


def _submit(books: Books, invoice: SalesInvoice, now: datetime, step: float) -> EInvoice:
    setup = books.einvoice_setup
    assert setup is not None
    plan, reason = NORMAL_PLAN, None
    if setup.next_outcome in OUTCOMES:
        plan, default = OUTCOMES[setup.next_outcome]
        reason = setup.next_reason or default
        setup.next_outcome, setup.next_reason = None, None
    entry = EInvoice(
        id=uuid4(),
        sales_invoice_id=invoice.id,
        creation_date=now,
        trace_parent=f"00-{uuid4().hex}-{uuid4().hex[:16]}-01",
        plan=list(plan),
        plan_reason=reason,
        next_at=now + timedelta(seconds=step),
    )
    invoice.e_invoice.append(entry)
    if invoice.id not in books.einvoice_active:
        books.einvoice_active.append(invoice.id)
    return entry


def post_and_submit(state: SandboxState) -> Any:
    """The `postSalesInvoice` rule: post, then submit to the platform when due."""

    def rule(books: Books, clock: Clock, data: PostInput) -> AccountingEntry:
        entry = ledger.post_invoice(books, clock, data)
        invoice = books.invoices[data.sales_invoice_id]
        if submittable(books, invoice):
            _submit(books, invoice, invoice.modification_date, state.einvoice_step)
        return entry

    return rule


def retry_submission(state: SandboxState) -> Any:
    """The `retrySalesInvoiceElectronicSubmission` rule."""

    def rule(books: Books, clock: Clock, data: RetryInput) -> UUID:
        invoice = invoices.get_invoice(books, data.sales_invoice_id)
        require_accepted(books, "salesInvoiceId")
        if not invoice.e_invoice:
            raise BusinessError("salesInvoiceNotSentElectronically", id=str(invoice.id))
        current = invoice.e_invoice[-1].status
        if current not in RETRYABLE:
            raise BusinessError("eInvoiceSubmissionNotRetryable", status=current)
        now = clock.now()
        _submit(books, invoice, now, state.einvoice_step)
        invoice.modification_date = now
        books.put_invoice(invoice)
        return invoice.id

    return rule


def _move(books: Books, invoice: SalesInvoice, clock: Clock, step: float) -> tuple[bool, bool]:
    """Apply what is due of the invoice's last submission: (something is left to do, it
    moved now)."""
    entry = invoice.e_invoice[-1]
    moved = False
    current = clock.now()
    while entry.plan and entry.next_at is not None and entry.next_at <= current:
        entry.status = entry.plan.pop(0)
        if entry.status in _WITH_REASON:
            entry.rejected_reason = entry.plan_reason
        entry.next_at = entry.next_at + timedelta(seconds=step) if entry.plan else None
        moved = True
    if not entry.plan and entry.status == "APPROVED" and invoice.status == "Collected":
        entry.status = "PAYMENT_RECEIVED"
        moved = True
    if moved:
        invoice.modification_date = clock.now()
        books.put_invoice(invoice)
    return bool(entry.plan) or entry.status == "APPROVED", moved


def advance(state: SandboxState) -> None:
    """Move every submission whose step is due (called under the lock, per request)."""
    for books in state.books.values():
        if not books.einvoice_active:
            continue
        keep: list[UUID] = []
        changed = False
        for invoice_id in books.einvoice_active:
            invoice = books.invoices.get(invoice_id)
            if invoice is None or not invoice.e_invoice:
                changed = True
                continue
            left, moved = _move(books, invoice, state.clock, state.einvoice_step)
            changed = changed or moved or not left
            if left:
                keep.append(invoice_id)
        books.einvoice_active = keep
        if changed:  # the persistence writer saves what moved
            state.changed()


# -- the control surface ------------------------------------------------------------------


def control(
    books: Books, now: datetime, status: str | None, outcome: str | None, reason: str | None
) -> EInvoiceSetup:
    """`POST /_sandbox/einvoicing`: the registration status, and how the next submission ends.

    Raises:
        BusinessError: not a French organisation, an unknown status or outcome.
    """
    if books.organization.legislation_code != "FR":
        raise BusinessError(
            "eInvoicingFranceOnly", legislationCode=books.organization.legislation_code
        )
    if status is not None and status not in SETUP_STATUSES:
        raise BusinessError("invalidEInvoiceSetupStatus", status=status)
    if outcome is not None and outcome not in OUTCOMES:
        raise BusinessError("invalidOutcome", next=outcome)
    setup = books.einvoice_setup or registered_setup(now, status or "InProgress")
    if status is not None:
        setup.status = status
        setup.status_connection_date = now
        setup.error_code = "REGISTRATION_FAILED" if status == "Failed" else None
    if outcome is not None:
        setup.next_outcome, setup.next_reason = outcome, reason
    books.einvoice_setup = setup
    return setup
