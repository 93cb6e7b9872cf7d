"""Purchase invoices (11-purchase-invoices.md): create, post, settle.

- create: the supplier must exist and be enabled; `invoiceNumber` (50) is unique per
  supplier (`purchaseInvoiceNumberAlreadyExists`); `operationDate` not after `invoiceDate`;
  at least one VAT line, each with a known tax (`taxId`, or `vatPercentage` matching one),
  a tax treatment for purchases (given, else the first domestic one) and a purchase account
  (given, else the supplier's default, else the first class-6 account); `totalVat` must be
  the base at the rate, to the cent (`vatAmountMismatch`), and `totalLiquid` the bases plus
  the VAT the supplier charges: a self-assessed (reverse-charge) line's VAT is not owed to
  the supplier (`totalLiquidMismatch`). Status Pending, `pendingAmount` = `totalLiquid`.
- post (Pending only, a PURCHASE_INVOICE journal, a description): one entry debiting each
  purchase account its base and the deductible VAT account its VAT, crediting the supplier
  (401, with the supplier as third party) `totalLiquid`, and for a reverse charge crediting
  the VAT-due account too; one open item for `totalLiquid`. Status Posted.
- settle: open items of that supplier's invoices, each amount > 0 and at most what remains;
  one entry in the payment method's journal debiting the supplier and crediting the
  payment method's account. Open items PARTIAL / PAID, invoices PartiallyPaid / Paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import AccountingEntry, AccountingEntryLine
from connectors.sage_active.sandbox.errors import BusinessError, check_length, require
from connectors.sage_active.sandbox.money import CENT, HUNDRED, ZERO, cents
from connectors.sage_active.sandbox.purchase_entities import (
    PurchaseInvoice,
    PurchaseOpenItem,
    PurchaseVatLine,
    Supplier,
    TaxTreatment,
)
from connectors.sage_active.sandbox.purchase_inputs import (
    PostPurchaseInput,
    PurchaseInvoiceCreate,
    PurchaseSettlementInput,
    PurchaseVatLineInput,
)

SUPPLIERS_ACCOUNT = "401000000"
BANK_ACCOUNT = "512000000"


def create_purchase_invoice(
    books: Books, clock: Clock, data: PurchaseInvoiceCreate
) -> PurchaseInvoice:
    """Raises: BusinessError for any rule of the module docstring."""
    purchases = books.purchases
    supplier = purchases.suppliers.get(data.supplier_id)
    if supplier is None or supplier.disabled:
        raise BusinessError("supplierNotFound", id=str(data.supplier_id))
    require("invoiceNumber", data.invoice_number)
    check_length("invoiceNumber", data.invoice_number, 50)
    if any(
        i.supplier_id == supplier.id and i.invoice_number == data.invoice_number
        for i in purchases.invoices.values()
    ):
        raise BusinessError("purchaseInvoiceNumberAlreadyExists", invoiceNumber=data.invoice_number)
    if data.operation_date is not None and data.operation_date.date() > data.invoice_date.date():
        raise BusinessError("operationDateAfterInvoiceDate")
    if not data.vat_lines:
        raise BusinessError("requiredField", field="vatLines")
    now = clock.now()
    lines = [_vat_line(books, supplier, raw, data, n, now) for n, raw in enumerate(data.vat_lines)]
    treatments = purchases.tax_treatments
    owed = sum(
        (
            ln.total_vat_base
            + (ZERO if treatments[ln.tax_treatment_id].reverse_charge else ln.total_vat)
            for ln in lines
        ),
        ZERO,
    )
    if data.total_liquid != owed:
        raise BusinessError(
            "totalLiquidMismatch", totalLiquid=str(data.total_liquid), expected=str(owed)
        )
    invoice = PurchaseInvoice(
        id=uuid4(),
        supplier_id=supplier.id,
        invoice_number=str(data.invoice_number),
        invoice_date=data.invoice_date,
        creation_date=now,
        modification_date=now,
        total_liquid=data.total_liquid,
        pending_amount=data.total_liquid,
        operation_date=data.operation_date,
        has_cash_vat=data.has_cash_vat,
        vat_lines=lines,
    )
    purchases.invoices[invoice.id] = invoice
    return invoice


def _vat_line(
    books: Books,
    supplier: Supplier,
    raw: PurchaseVatLineInput,
    data: PurchaseInvoiceCreate,
    position: int,
    now: datetime,
) -> PurchaseVatLine:
    for name, amount in (("totalVatBase", raw.total_vat_base), ("totalVat", raw.total_vat)):
        if amount != amount.quantize(CENT):
            raise BusinessError("invalidAmount", field=name, line=position)
    if raw.tax_id is not None:
        tax = books.taxes.get(raw.tax_id)
    else:
        tax = next(
            (
                t
                for t in books.taxes.values()
                if t.percentage == raw.vat_percentage and not t.inactive
            ),
            None,
        )
    if tax is None:
        raise BusinessError("taxNotFound", line=position, vatPercentage=str(raw.vat_percentage))
    treatment = _treatment(books, raw.tax_treatment_id, position)
    expected = cents(raw.total_vat_base * tax.percentage / HUNDRED)
    if raw.total_vat != expected:
        raise BusinessError(
            "vatAmountMismatch", line=position, totalVat=str(raw.total_vat), expected=str(expected)
        )
    account_id = raw.purchase_accounting_account_id or supplier.default_purchase_account_id
    if account_id is not None:
        account = books.accounts.get(account_id)
        if account is None or account.deactivated:
            raise BusinessError("accountingAccountNotFound", id=str(account_id), line=position)
        account_code = account.code
    else:
        account_code = min(a.code for a in books.accounts.values() if a.code.startswith("6"))
    day = raw.invoice_date or data.invoice_date
    return PurchaseVatLine(
        uuid4(),
        raw.total_vat_base,
        raw.total_vat,
        tax.percentage,
        tax.id,
        treatment.id,
        account_code,
        day,
        now,
        now,
    )


def _treatment(books: Books, ident: UUID | None, position: int) -> TaxTreatment:
    treatments = books.purchases.tax_treatments
    if ident is None:
        found = next(
            (
                t
                for t in treatments.values()
                if not t.is_intracomunity and not t.inactive and t.register_type != "ISSUED"
            ),
            None,
        )
        if found is None:
            raise BusinessError("taxTreatmentNotFound", line=position)
        return found
    treatment = treatments.get(ident)
    if treatment is None or treatment.inactive:
        raise BusinessError("taxTreatmentNotFound", id=str(ident), line=position)
    if treatment.register_type == "ISSUED":
        raise BusinessError("taxTreatmentNotForPurchases", id=str(ident), line=position)
    return treatment


def post_purchase_invoice(books: Books, clock: Clock, data: PostPurchaseInput) -> AccountingEntry:
    """Raises: BusinessError for any rule of the module docstring."""
    purchases = books.purchases
    invoice = purchases.invoices.get(data.purchase_invoice_id)
    if invoice is None:
        raise BusinessError("purchaseInvoiceNotFound", id=str(data.purchase_invoice_id))
    if invoice.status != "Pending":
        raise BusinessError("purchaseInvoiceNotPending", status=invoice.status)
    journal = books.journal_types.get(data.journal_type_id)
    if journal is None or journal.deactivated or journal.type != "PURCHASE_INVOICE":
        raise BusinessError("journalTypeMustBePurchaseInvoice", id=str(data.journal_type_id))
    require("accountingEntryDescription", data.accounting_entry_description)
    check_length("accountingEntryDescription", data.accounting_entry_description, 200)
    now = clock.now()
    day = data.posting_date or invoice.invoice_date
    lines: list[tuple[str, Decimal, Decimal, UUID | None]] = []
    for vat in invoice.vat_lines:
        treatment = purchases.tax_treatments[vat.tax_treatment_id]
        lines.append((vat.purchase_account_code, vat.total_vat_base, ZERO, None))
        if vat.total_vat:
            lines.append((treatment.input_account_code, vat.total_vat, ZERO, None))
            if treatment.output_account_code is not None:
                lines.append((treatment.output_account_code, ZERO, vat.total_vat, None))
    lines.append((SUPPLIERS_ACCOUNT, ZERO, invoice.total_liquid, invoice.supplier_id))
    entry = _entry(
        books,
        now,
        day,
        journal.id,
        "PURCHASES",
        data.accounting_entry_description,
        invoice.invoice_number,
        lines,
    )
    entry.source_entity_id = invoice.id
    books.add_entry(entry)
    item = PurchaseOpenItem(
        uuid4(), invoice.id, invoice.total_liquid, invoice.invoice_date, now, now
    )
    purchases.open_items[item.id] = item
    invoice.open_item_ids.append(item.id)
    invoice.first_due_date = item.due_date
    invoice.status = "Posted"
    invoice.accounting_entry_id = entry.id
    invoice.modification_date = now
    return entry


def settle_purchase(books: Books, clock: Clock, data: PurchaseSettlementInput) -> AccountingEntry:
    """Raises: BusinessError for any rule of the module docstring."""
    check_length("documentNumber", data.document_number, 50)
    check_length("description", data.description, 200)
    purchases = books.purchases
    method = books.payment_methods.get(data.payment_method_id)
    if method is None or method.disabled:
        raise BusinessError("paymentMethodNotFound", id=str(data.payment_method_id))
    if data.third_party_id not in purchases.suppliers:
        raise BusinessError("thirdPartyNotFound", id=str(data.third_party_id))
    if not data.purchase_open_item_linkage_paid_amounts:
        raise BusinessError("requiredField", field="purchaseOpenItemLinkagePaidAmounts")
    paying: dict[UUID, Decimal] = {}
    for part in data.purchase_open_item_linkage_paid_amounts:
        item = purchases.open_items.get(part.open_item_id)
        if item is None:
            raise BusinessError("openItemNotFound", id=str(part.open_item_id))
        if purchases.invoices[item.purchase_invoice_id].supplier_id != data.third_party_id:
            raise BusinessError("openItemThirdPartyMismatch", id=str(item.id))
        if part.paid_amount <= ZERO or part.paid_amount != part.paid_amount.quantize(CENT):
            raise BusinessError("paidAmountMustBePositive", id=str(item.id))
        paying[item.id] = paying.get(item.id, ZERO) + part.paid_amount
        if paying[item.id] > item.amount - item.paid_amount_accumulated:
            raise BusinessError("paidAmountExceedsRemaining", id=str(item.id))
    account = books.accounts.get(method.sub_account_id) if method.sub_account_id else None
    total = sum(paying.values(), ZERO)
    lines: list[tuple[str, Decimal, Decimal, UUID | None]] = [
        (SUPPLIERS_ACCOUNT, total, ZERO, data.third_party_id),
        (account.code if account else BANK_ACCOUNT, ZERO, total, None),
    ]
    now = clock.now()
    entry = _entry(
        books,
        now,
        data.entry_date,
        method.journal_type_id,
        "BANKING",
        data.description,
        data.document_number,
        lines,
    )
    books.add_entry(entry)
    for item_id, amount in paying.items():
        item = purchases.open_items[item_id]
        item.paid_amount_accumulated += amount
        item.status = "PAID" if item.paid_amount_accumulated >= item.amount else "PARTIAL"
        item.modification_date = now
        invoice = purchases.invoices[item.purchase_invoice_id]
        invoice.pending_amount -= amount
        invoice.status = "Paid" if invoice.pending_amount <= ZERO else "PartiallyPaid"
        invoice.modification_date = now
    return entry


def _entry(
    books: Books,
    now: datetime,
    day: datetime,
    journal_id: UUID,
    source: str,
    description: str | None,
    document_number: str | None,
    lines: list[tuple[str, Decimal, Decimal, UUID | None]],
) -> AccountingEntry:
    entry = AccountingEntry(
        id=uuid4(),
        number=books.next_entry_number(),
        date=day,
        document_date=day,
        journal_type_id=journal_id,
        source_type=source,
        creation_date=now,
        modification_date=now,
        description=description,
        document_number=document_number,
    )
    entry.accounting_entry_lines = [
        AccountingEntryLine(
            id=uuid4(),
            order=n,
            account_code=code,
            description=description,
            debit_amount=debit,
            credit_amount=credit,
            document_number=document_number,
            third_party_id=third,
        )
        for n, (code, debit, credit, third) in enumerate(lines)
    ]
    return entry
