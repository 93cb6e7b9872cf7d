"""`bridge close-month`: one purchase invoice per processor and month for its fees, posted
and settled against the clearing account, exactly once.

For each processor (`fees.month_fees` over its payout links):
1. no fees -> nothing is made ("nothing to invoice"); a dry run stops after the sums;
2. under a lock per processor and month: the supplier (`BRIDGE_FEE_SUPPLIERS`: found by
   code, else VAT number; created when missing);
3. the invoice, found by its number (`fees.invoice_number`) before anything is created: a
   re-run or a run after a crash carries on from what Sage has. None, but the supplier has
   another invoice dated in the month: the month was closed by hand; it is reported (and an
   attention item says so), nothing is made;
4. created (reverse-charge VAT line: `BRIDGE_FEE_TAX_TREATMENT` at `BRIDGE_FEE_VAT_RATE`,
   on `BRIDGE_FEES_ACCOUNT`) while Sage has none, posted (`BRIDGE_PURCHASE_JOURNAL`) while
   Pending, settled while something is pending: against the processor's payment method,
   whose account is the clearing account (the fees were withheld from the payouts). It
   ends Paid, `pendingAmount` 0.
An invoice of ours whose amount differs from the fees now booked (a payout of the month
booked after the close) is reported and left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bridge.month.fees import (
    STANDARD_RATES,
    ZERO,
    FeeInvoice,
    Month,
    fee_invoice,
    invoice_number,
    month_fees,
)
from bridge.month.store import CloseRecord, MonthStore
from bridge.month.supplier import find_or_create_supplier
from bridge.payouts.mapping import PROCESSORS
from bridge.payouts.store import PayoutStore
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.sync.locks import OrderLock
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.purchases import (
    PaidAmount,
    PurchaseInvoice,
    PurchaseInvoiceInput,
    PurchaseOperations,
    PurchaseSettlementInput,
    PurchaseVatLineInput,
    Supplier,
)

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
LOCK_LEASE = 60.0


class CloseError(Exception):
    """The books lack something the close needs; the message says what to set."""


@dataclass
class Closing:
    services: Services
    processor: str
    month: Month
    dry_run: bool
    progress: Progress

    @property
    def label(self) -> str:
        return PROCESSORS.get(self.processor, self.processor)

    def say(self, text: str) -> None:
        self.progress(f"{self.processor} {self.month}: {text}")


def close_month(
    services: Services,
    month: Month,
    processors: list[str] | None = None,
    dry_run: bool = False,
    progress: Progress = log.info,
) -> list[CloseRecord]:
    """Close `month` for each processor (all by default); one record each.

    Raises:
        SageError, redis.RedisError, LockBusy: Sage or Redis failed, or another close of
            the same month runs (what was done stays done: run it again).
    """
    records = []
    for processor in processors or list(PROCESSORS):
        job = Closing(services, processor, month, dry_run, progress)
        try:
            record = _close(job)
        except (CloseError, SageBusinessError) as exc:
            record = CloseRecord(
                processor=processor, month=str(month), outcome="failed", notes=[str(exc)]
            )
            job.say(f"failed: {exc}")
            _attention(job, f"month {month} not closed for {job.label}: {exc}")
        if not dry_run:
            MonthStore(services.redis, services.settings).save(record)
        records.append(record)
    return records


def _legislation(services: Services) -> str | None:
    """The organisation's legislation (FR, ES, DE), None when Sage does not say."""
    ident = services.sage.organization_id()
    found = next((o for o in services.sage.organizations() if o.id == ident), None)
    return found.legislation_code if found else None


def _close(job: Closing) -> CloseRecord:
    services, month = job.services, job.month
    links = PayoutStore(services.redis, services.settings).recent(job.processor, limit=100_000)
    fees = month_fees(links, job.processor, month)
    record = CloseRecord(
        processor=job.processor,
        month=str(month),
        outcome="nothing to invoice",
        fees=fees.total,
        payouts=len(fees.payouts),
    )
    job.say(f"{len(fees.payouts)} payouts, fees {fees.total:.2f}")
    if fees.on_expense:
        note = (
            f"{len(fees.on_expense)} payouts booked with their fees on the expense "
            f"account ({fees.on_expense_total:.2f}): not invoiced"
        )
        record.notes.append(note)
        job.say(note)
    if fees.total <= ZERO:
        if fees.total < ZERO:
            record.notes.append(f"fees of {fees.total:.2f} (refunded fees): book a credit note")
        return record
    number = invoice_number(job.processor, month, services.settings.connection)
    legislation = _legislation(services)
    rate = services.settings.fee_vat_rate
    if rate is None:
        rate = STANDARD_RATES.get(legislation or "", STANDARD_RATES["FR"])
    invoice = fee_invoice(fees.total, rate, number, month)
    record.vat, record.invoice_number = invoice.vat, number
    if job.dry_run:
        return _dry_run(job, record, invoice)
    key = services.settings.key("lock", "close-month", job.processor, str(month))
    with OrderLock(services.redis, key, lease=LOCK_LEASE):
        return _close_locked(job, record, invoice, legislation)


def _dry_run(job: Closing, record: CloseRecord, invoice: FeeInvoice) -> CloseRecord:
    """Say what a run would do, reading Sage only."""
    record.outcome = "dry run"
    ops = PurchaseOperations(job.services.sage.client)
    config = job.services.settings.fee_suppliers.get(job.processor)
    supplier = ops.find_supplier(config.code, config.vat_number) if config else None
    found = ops.invoice_by_number(supplier.id, invoice.number) if supplier else None
    if found is not None:
        record.status, record.pending = found.status, found.pending_amount
        job.say(
            f"invoice {invoice.number} is already in Sage ({found.status}, pending "
            f"{found.pending_amount:.2f})"
        )
        return record
    job.say(
        f"would invoice {invoice.number}: {invoice.base:.2f} + reverse-charge VAT "
        f"{invoice.vat:.2f} ({invoice.rate}%)"
        + ("" if supplier else f", and create the supplier {config.code if config else '?'}")
    )
    return record


def _close_locked(
    job: Closing, record: CloseRecord, invoice: FeeInvoice, legislation: str | None
) -> CloseRecord:
    services, month = job.services, job.month
    settings = services.settings
    ops = PurchaseOperations(services.sage.client)
    config = settings.fee_suppliers.get(job.processor)
    if config is None:
        raise CloseError(f"BRIDGE_FEE_SUPPLIERS has no supplier for {job.processor}")
    try:
        supplier = find_or_create_supplier(ops, config, legislation, job.say)
    except ValueError as exc:
        raise CloseError(str(exc)) from exc
    number = str(record.invoice_number)
    found = ops.invoice_by_number(supplier.id, number)
    if found is None:
        others = [
            i
            for i in ops.invoices_dated(supplier.id, month.first, month.last)
            if i.invoice_number != number
        ]
        if others:
            names = ", ".join(f"{i.invoice_number} ({i.total_liquid:.2f})" for i in others)
            record.outcome = "closed by hand"
            record.notes.append(f"{supplier.code} already has {names} dated in {month}")
            job.say(f"closed by hand: {names}; nothing made")
            _attention(
                job,
                f"month {month} of {job.label} closed by hand ({names}): the "
                f"bridge made no invoice; fees booked {invoice.base:.2f}",
            )
            return record
        found = _create(job, ops, supplier, invoice)
        record.outcome = "invoiced"
    else:
        record.outcome = "already closed" if found.status == "Paid" else "invoiced"
        job.say(f"invoice {number} found in Sage ({found.status})")
        if found.total_liquid != invoice.total:
            note = (
                f"invoice {number} is for {found.total_liquid:.2f}, the month's fees are "
                f"now {invoice.total:.2f}: the difference is left to book by hand"
            )
            record.notes.append(note)
            _attention(job, note)
    if found.status == "Pending":
        journal = services.sage.journal_by_code(settings.purchase_journal_code)
        if journal is None or journal.type != "PURCHASE_INVOICE":
            raise CloseError(
                f"BRIDGE_PURCHASE_JOURNAL: no PURCHASE_INVOICE journal "
                f"{settings.purchase_journal_code!r} in Sage"
            )
        posted = ops.post_invoice(
            found.id, journal.id, f"{job.label} fees {month} ({number})", month.last
        )
        job.say(f"posted: entry {posted.accounting_entry_number}")
        found = _reread(ops, supplier, number)
    if found.pending_amount > ZERO:
        settled = _settle(job, ops, supplier, found, number)
        job.say(f"settled against the clearing account: entry {settled}")
        found = _reread(ops, supplier, number)
    record.invoice_id, record.status, record.pending = found.id, found.status, found.pending_amount
    job.say(f"invoice {number}: {found.status}, pending {found.pending_amount:.2f}")
    return record


def _reread(ops: PurchaseOperations, supplier: Supplier, number: str) -> PurchaseInvoice:
    found = ops.invoice_by_number(supplier.id, number)
    if found is None:
        raise CloseError(f"invoice {number} vanished from Sage")
    return found


def _create(
    job: Closing, ops: PurchaseOperations, supplier: Supplier, invoice: FeeInvoice
) -> PurchaseInvoice:
    settings = job.services.settings
    treatment = ops.tax_treatment(settings.fee_tax_treatment)
    if treatment is None or not treatment.is_intracomunity:
        raise CloseError(
            f"BRIDGE_FEE_TAX_TREATMENT: {settings.fee_tax_treatment!r} is not an "
            "active intra-community (reverse-charge) tax treatment in Sage"
        )
    accounts = job.services.sage.accounting_accounts([settings.fees_account])
    account = accounts.get(settings.fees_account)
    if account is None or account.id is None or account.deactivated:
        raise CloseError(f"BRIDGE_FEES_ACCOUNT: account {settings.fees_account} is not in Sage")
    line = PurchaseVatLineInput(
        total_vat_base=invoice.base,
        total_vat=invoice.vat,
        vat_percentage=invoice.rate,
        tax_treatment_id=treatment.id,
        purchase_accounting_account_id=account.id,
    )
    values = PurchaseInvoiceInput(
        supplier_id=supplier.id,
        invoice_date=job.month.last,
        operation_date=job.month.last,
        invoice_number=invoice.number,
        total_liquid=invoice.total,
        vat_lines=[line],
    )
    created = ops.create_invoice(values)
    job.say(
        f"invoice {invoice.number} created: {invoice.base:.2f}, reverse-charge VAT "
        f"{invoice.vat:.2f} ({invoice.rate}%)"
    )
    return created


def _settle(
    job: Closing, ops: PurchaseOperations, supplier: Supplier, invoice: PurchaseInvoice, number: str
) -> int | None:
    settings = job.services.settings
    name = settings.payment_methods.get(job.processor, job.label)
    method = job.services.sage.payment_method_by_name(name)
    if method is None:
        raise CloseError(
            f"no Sage payment method {name!r} (BRIDGE_PAYMENT_METHODS) to settle "
            "the fees against the clearing account"
        )
    parts = [
        PaidAmount(open_item_id=item.id, paid_amount=item.amount - item.paid_amount_accumulated)
        for item in invoice.open_items
        if item.amount > item.paid_amount_accumulated
    ]
    if not parts:
        raise CloseError(f"invoice {number} owes {invoice.pending_amount} but has no open item")
    values = PurchaseSettlementInput(
        entry_date=job.month.last,
        payment_method_id=method.id,
        third_party_id=supplier.id,
        description=f"{job.label} fees {job.month}: withheld from the payouts",
        document_number=number,
        purchase_open_item_linkage_paid_amounts=parts,
    )
    return ops.settle(values).accounting_entry_number


def _attention(job: Closing, reason: str) -> None:
    job.services.attention.add(
        AttentionItem(
            id=f"month-close:{job.processor}:{job.month}",
            kind="month_close",
            reason=reason,
            source=invoice_number(job.processor, job.month, job.services.settings.connection),
        )
    )
