"""`bridge doctor`'s month-end check: what `bridge close-month` and the bank
reconciliation need in Sage (listed in `bridge.ops.doctor.CHECK_MODULES`). Its findings
never hold processing: only the month end waits for them."""

from __future__ import annotations

from collections.abc import Iterator

from bridge.ops.doctor import DoctorContext, Finding, Level, check
from bridge.payouts.mapping import PROCESSORS, accounts_for
from connectors.sage_active.banking import BankOperations
from connectors.sage_active.purchases import PurchaseOperations

NAME = "Month end"


def _finding(level: Level, detail: str, fix: str = "") -> Finding:
    return Finding(check=NAME, level=level, detail=detail, fix=fix)


@check(NAME, needs_sage=True)
def month_end(ctx: DoctorContext) -> Iterator[Finding]:
    """Fee invoices (journal, reverse-charge treatment, accounts, suppliers' VAT numbers)
    when `BRIDGE_FEE_INVOICES` is on; the payouts' bank accounts among Sage's
    `bankAccounts` when `BRIDGE_BANK_RECONCILE` is."""
    settings = ctx.settings
    found = 0
    if settings.fee_invoices:
        journal = ctx.sage.journal_by_code(settings.purchase_journal_code)
        if journal is None or journal.type != "PURCHASE_INVOICE":
            found += 1
            yield _finding(
                Level.ERROR,
                f"no PURCHASE_INVOICE journal {settings.purchase_journal_code!r}",
                "create it in Sage or set BRIDGE_PURCHASE_JOURNAL",
            )
        treatment = PurchaseOperations(ctx.sage.client).tax_treatment(settings.fee_tax_treatment)
        if treatment is None or not treatment.is_intracomunity:
            found += 1
            yield _finding(
                Level.ERROR,
                f"tax treatment {settings.fee_tax_treatment!r} is not an "
                "intra-community (reverse-charge) treatment in Sage",
                "set BRIDGE_FEE_TAX_TREATMENT to its taxCode",
            )
        codes = [settings.fees_account, settings.suppliers_account]
        accounts = ctx.sage.accounting_accounts(codes)
        for code in codes:
            if code not in accounts or accounts[code].deactivated:
                found += 1
                yield _finding(
                    Level.ERROR,
                    f"account {code} is not in Sage's chart",
                    "create it or set BRIDGE_FEES_ACCOUNT / BRIDGE_SUPPLIERS_ACCOUNT",
                )
        for processor, supplier in sorted(settings.fee_suppliers.items()):
            if not supplier.vat_number:
                found += 1
                yield _finding(
                    Level.WARNING,
                    f"no VAT number for the {processor} supplier {supplier.code}",
                    "set vat_number in BRIDGE_FEE_SUPPLIERS (it is on the processor's invoice)",
                )
    if settings.bank_reconcile:
        banks = {b.accounting_account_code for b in BankOperations(ctx.sage.client).bank_accounts()}
        for processor in PROCESSORS:
            code = accounts_for(settings, processor).bank
            if code not in banks:
                found += 1
                yield _finding(
                    Level.WARNING,
                    f"no Sage bank account on {code} ({processor}'s "
                    "payouts): they cannot be reconciled with the bank",
                    "connect the bank account in Sage, set "
                    "BRIDGE_PAYOUT_BANK_ACCOUNTS, or BRIDGE_BANK_RECONCILE=false",
                )
    if not found:
        mode = "fee invoices on" if settings.fee_invoices else "fee invoices off"
        yield _finding(
            Level.OK, f"{mode}; bank reconciliation {'on' if settings.bank_reconcile else 'off'}"
        )
