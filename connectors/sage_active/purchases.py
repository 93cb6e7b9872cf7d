"""Suppliers and purchase invoices (03-suppliers.md, 11-purchase-invoices.md): the
operations the month-end close needs, on top of `SageClient`.

`PurchaseOperations(client)`: find a supplier by code or VAT number, create one; find a
tax treatment by its `taxCode`; find purchase invoices by supplier and number or date;
create, post (`postPurchaseInvoice`) and settle (`purchaseOpenItemSettlement`) them; a
supplier's balance on the suppliers' account, as Sage's entry lines say. Errors are the
`errors` tree (a refusal is `SageBusinessError`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from connectors.sage_active.client import SageClient
from connectors.sage_active.models import SageInput, SageModel
from connectors.sage_active.pagination import connection, paginate, parse

ZERO = Decimal("0")


class SupplierAddressInput(SageInput):
    first_line: str | None = Field(default=None, max_length=35)
    city: str | None = Field(default=None, max_length=35)
    zip_code: str | None = Field(default=None, max_length=9)
    country_iso_code_alpha2: str = Field(min_length=2, max_length=2)


class SupplierInput(SageInput):
    """`SupplierCreateGLDtoInput` (the fields the bridge sets)."""

    code: str | None = Field(default=None, max_length=17)
    social_name: str = Field(min_length=1, max_length=70)
    vat_number: str | None = Field(default=None, max_length=25)
    addresses: list[SupplierAddressInput] = Field(min_length=1)


class Supplier(SageModel):
    id: str
    code: str | None = None
    social_name: str | None = None
    vat_number: str | None = None
    country_acronym: str | None = None


class TaxTreatment(SageModel):
    id: str
    tax_code: str | None = None
    description: str | None = None
    is_intracomunity: bool = False
    inactive: bool = False


class PurchaseVatLineInput(SageInput):
    total_vat_base: Decimal
    total_vat: Decimal
    vat_percentage: Decimal
    tax_treatment_id: str | None = None
    purchase_accounting_account_id: str | None = None


class PurchaseInvoiceInput(SageInput):
    """`PurchaseInvoiceCreateGLDtoInput`."""

    supplier_id: str
    invoice_date: dt.date
    operation_date: dt.date | None = None
    invoice_number: str = Field(min_length=1, max_length=50)
    total_liquid: Decimal
    vat_lines: list[PurchaseVatLineInput] = Field(min_length=1)


class PurchaseOpenItem(SageModel):
    id: str
    amount: Decimal = ZERO
    paid_amount_accumulated: Decimal = ZERO
    status: str | None = None


class PurchaseVatLine(SageModel):
    total_vat_base: Decimal = ZERO
    total_vat: Decimal = ZERO


class PurchaseInvoice(SageModel):
    id: str
    invoice_number: str | None = None
    invoice_date: dt.datetime | None = None
    status: str | None = None
    total_liquid: Decimal = ZERO
    pending_amount: Decimal = ZERO
    supplier_id: str | None = None
    vat_lines: list[PurchaseVatLine] = Field(default_factory=list)
    open_items: list[PurchaseOpenItem] = Field(default_factory=list)


class Amounts(SageModel):
    debit_amount: Decimal = ZERO
    credit_amount: Decimal = ZERO


class PostedEntry(SageModel):
    accounting_entry_id: str
    accounting_entry_number: int | None = None


class PaidAmount(SageInput):
    open_item_id: str
    paid_amount: Decimal


class PurchaseSettlementInput(SageInput):
    """`PurchaseOpenItemSettlementGLDtoInput`."""

    entry_date: dt.date
    payment_method_id: str
    third_party_id: str
    description: str | None = Field(default=None, max_length=200)
    document_number: str | None = Field(default=None, max_length=50)
    purchase_open_item_linkage_paid_amounts: list[PaidAmount] = Field(min_length=1)


SUPPLIER_FIELDS = "id code socialName vatNumber countryAcronym"
INVOICE_FIELDS = (
    "id invoiceNumber invoiceDate status totalLiquid pendingAmount supplierId "
    "vatLines { totalVatBase totalVat } openItems { id amount paidAmountAccumulated status }"
)
SUPPLIERS = (
    "query ($where: SupplierFilterInput) { suppliers(first: 20, where: $where) "
    f"{{ nodes {{ {SUPPLIER_FIELDS} }} }} }}"
)
CREATE_SUPPLIER = (
    "mutation ($values: SupplierCreateGLDtoInput!) "
    f"{{ createSupplier(input: $values) {{ {SUPPLIER_FIELDS} }} }}"
)
TREATMENTS = (
    "query ($code: String) { taxTreatments(first: 20, where: { taxCode: { eq: $code } }) "
    "{ nodes { id taxCode description isIntracomunity inactive } } }"
)
INVOICES = (
    "query ($where: PurchaseInvoiceFilterInput, $first: Int, $after: String) { "
    "purchaseInvoices(first: $first, after: $after, where: $where) "
    f"{{ nodes {{ {INVOICE_FIELDS} }} pageInfo {{ endCursor hasNextPage }} }} }}"
)
CREATE_INVOICE = (
    "mutation ($values: PurchaseInvoiceCreateGLDtoInput!) "
    f"{{ createPurchaseInvoice(input: $values) {{ {INVOICE_FIELDS} }} }}"
)
POST_INVOICE = (
    "mutation ($input: PostPurchaseInvoiceGLDtoInput!) "
    "{ postPurchaseInvoice(input: $input) { accountingEntryId accountingEntryNumber } }"
)
SETTLE = (
    "mutation ($input: PurchaseOpenItemSettlementGLDtoInput!) "
    "{ purchaseOpenItemSettlement(input: $input) { accountingEntryId accountingEntryNumber } }"
)
THIRD_PARTY_LINES = (
    "query ($code: String, $third: UUID, $first: Int, $after: String) { "
    "accountingEntryLines(first: $first, after: $after, where: { subAccount: { code: "
    "{ eq: $code } }, accountingEntryThirdParty: { thirdPartyId: { eq: $third } } }) "
    "{ nodes { debitAmount creditAmount } pageInfo { endCursor hasNextPage } } }"
)


class PurchaseOperations:
    """See the module docstring."""

    def __init__(self, client: SageClient) -> None:
        self.client = client

    def suppliers_where(self, where: dict[str, object]) -> list[Supplier]:
        data = self.client.execute(SUPPLIERS, {"where": where}, name="suppliers")
        return [parse(Supplier, n) for n in connection(data, "suppliers").nodes]

    def find_supplier(self, code: str, vat_number: str | None) -> Supplier | None:
        """The supplier with `code`, else the one with `vat_number` (None: neither)."""
        found = self.suppliers_where({"code": {"eq": code}})
        if not found and vat_number:
            found = self.suppliers_where({"vatNumber": {"eq": vat_number}})
        return found[0] if found else None

    def create_supplier(self, values: SupplierInput) -> Supplier:
        data = self.client.execute(
            CREATE_SUPPLIER, {"values": values.to_graphql()}, mutation=True, name="createSupplier"
        )
        return parse(Supplier, data.get("createSupplier"))

    def tax_treatment(self, tax_code: str) -> TaxTreatment | None:
        """The active tax treatment whose `taxCode` is `tax_code`."""
        data = self.client.execute(TREATMENTS, {"code": tax_code}, name="taxTreatments")
        found = [parse(TaxTreatment, n) for n in connection(data, "taxTreatments").nodes]
        return next((t for t in found if not t.inactive), None)

    def invoices_where(self, where: dict[str, object]) -> list[PurchaseInvoice]:
        nodes = paginate(
            self.client,
            INVOICES,
            {"where": where},
            "purchaseInvoices",
            page_size=100,
            name="purchaseInvoices",
        )
        return [parse(PurchaseInvoice, n) for n in nodes]

    def invoice_by_number(self, supplier_id: str, number: str) -> PurchaseInvoice | None:
        found = self.invoices_where(
            {"supplierId": {"eq": supplier_id}, "invoiceNumber": {"eq": number}}
        )
        return found[0] if found else None

    def invoices_dated(
        self, supplier_id: str, first: dt.date, last: dt.date
    ) -> list[PurchaseInvoice]:
        """The supplier's invoices dated from `first` to `last` (inclusive)."""
        return self.invoices_where(
            {
                "supplierId": {"eq": supplier_id},
                "invoiceDate": {
                    "gte": first.isoformat(),
                    "lt": (last + dt.timedelta(1)).isoformat(),
                },
            }
        )

    def create_invoice(self, values: PurchaseInvoiceInput) -> PurchaseInvoice:
        data = self.client.execute(
            CREATE_INVOICE,
            {"values": values.to_graphql()},
            mutation=True,
            name="createPurchaseInvoice",
        )
        return parse(PurchaseInvoice, data.get("createPurchaseInvoice"))

    def post_invoice(
        self, invoice_id: str, journal_id: str, description: str, posting_date: dt.date
    ) -> PostedEntry:
        payload = {
            "purchaseInvoiceId": invoice_id,
            "journalTypeId": journal_id,
            "accountingEntryDescription": description[:200],
            "postingDate": posting_date.isoformat(),
        }
        data = self.client.execute(
            POST_INVOICE, {"input": payload}, mutation=True, name="postPurchaseInvoice"
        )
        return parse(PostedEntry, data.get("postPurchaseInvoice"))

    def settle(self, values: PurchaseSettlementInput) -> PostedEntry:
        data = self.client.execute(
            SETTLE,
            {"input": values.to_graphql()},
            mutation=True,
            name="purchaseOpenItemSettlement",
        )
        return parse(PostedEntry, data.get("purchaseOpenItemSettlement"))

    def third_party_balance(self, account_code: str, third_party_id: str) -> Decimal:
        """Debits minus credits of `third_party_id`'s lines on `account_code` (a supplier's
        balance is negative while it is owed money)."""
        total = ZERO
        for node in paginate(
            self.client,
            THIRD_PARTY_LINES,
            {"code": account_code, "third": third_party_id},
            "accountingEntryLines",
            name="accountingEntryLines",
        ):
            line = parse(Amounts, node)
            total += line.debit_amount - line.credit_amount
        return total
