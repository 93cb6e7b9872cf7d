"""What the purchase side needs in a seeded organisation: the purchase journal (HA), the
VAT accounts of self-assessed (reverse-charge) purchases, and the tax treatments of
purchases (15-reference-data.md "Tax Treatments", codes as Sage's FR transaction
categories show them: C0005 domestic, C0036 intra-EU goods; C0037 is the sandbox's
intra-EU services, reverse charge).

`ensure_purchases` adds what is missing and is safe to call again (a state file saved
before the sandbox had purchases gets them on load).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.entities import AccountingAccount, JournalType
from connectors.sage_active.sandbox.purchase_entities import TaxTreatment

PURCHASE_JOURNAL = ("HA", "Achats", "PURCHASE_INVOICE")
ACCOUNTS = (
    ("445200000", "TVA due intracommunautaire"),
    ("445662000", "TVA déductible intracommunautaire"),
    ("445660000", "TVA déductible sur autres biens et services"),
    ("401000000", "Fournisseurs"),
    ("627000000", "Services bancaires et assimilés"),
)
# taxCode, description, intra-community, output (VAT due) account when self-assessed
TREATMENTS = (
    ("C0005", "Achats de biens et services France", False, None),
    ("C0036", "Achats intracommunautaires de biens", True, "445200000"),
    ("C0037", "Prestations de services intracommunautaires (autoliquidation)", True, "445200000"),
)
IdOf = Callable[[str, str], UUID]


def ensure_purchases(books: Books, now: datetime, id_of: IdOf) -> None:
    """Add the purchase journal, accounts and tax treatments the books lack."""
    code, name, kind = PURCHASE_JOURNAL
    if not any(j.code == code for j in books.journal_types.values()):
        journal = JournalType(id_of("journalType", code), code, name, kind, now, now)
        books.journal_types[journal.id] = journal
    for account_code, account_name in ACCOUNTS:
        if books.account_by_code(account_code) is None:
            account = AccountingAccount(
                id_of("accountingAccount", account_code), account_code, account_name, now, now
            )
            books.accounts[account.id] = account
    treatments = books.purchases.tax_treatments
    for tax_code, description, intra, output in TREATMENTS:
        ident = id_of("taxTreatment", tax_code)
        if ident in treatments:
            continue
        treatments[ident] = TaxTreatment(
            id=ident,
            tax_code=tax_code,
            description=description,
            creation_date=now,
            modification_date=now,
            is_intracomunity=intra,
            input_account_code="445662000" if intra else "445660000",
            output_account_code=output,
        )
