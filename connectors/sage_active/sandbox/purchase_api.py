"""The GraphQL face of the purchase side and the bank feed: list sources, computed fields,
the `bankAccounts` action query and the mutations (wired in by `resolvers`, `mutations`
and `execution`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from graphql import GraphQLResolveInfo
from pydantic import BaseModel, ValidationError

from connectors.sage_active.sandbox import banking, purchases, suppliers
from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import AccountingEntry
from connectors.sage_active.sandbox.errors import BusinessError
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
    ReconcileInput,
    SupplierCreate,
    UnreconcileInput,
)
from connectors.sage_active.sandbox.state import SandboxState


class Context(Protocol):
    """What these resolvers use of `resolvers.Context` (not imported: it imports us)."""

    @property
    def state(self) -> SandboxState: ...

    def require_books(self) -> Books: ...


Source = Callable[[Books, dict[str, Any] | None], tuple[Iterable[Any], dict[str, Any] | None]]


def _all(getter: Callable[[Books], Iterable[Any]]) -> Source:
    return lambda books, where: (getter(books), where)


SOURCES: dict[str, tuple[str, Source]] = {
    "suppliers": ("Supplier", _all(lambda b: b.purchases.suppliers.values())),
    "taxTreatments": ("TaxTreatment", _all(lambda b: b.purchases.tax_treatments.values())),
    "purchaseInvoices": ("PurchaseInvoice", _all(lambda b: b.purchases.invoices.values())),
    "purchaseInvoiceOpenItems": (
        "PurchaseInvoiceOpenItem",
        _all(lambda b: b.purchases.open_items.values()),
    ),
    "bankMovements": ("BankMovement", _all(lambda b: b.purchases.bank_movements.values())),
}


def _account(ctx: Context, code: str | None) -> Any:
    return ctx.require_books().account_by_code(code) if code else None


COMPUTED: dict[tuple[type, str], Callable[[Context, Any], Any]] = {
    (Supplier, "defaultAccountingAccount"): lambda c, s: _account(
        c, s.default_accounting_account_code
    ),
    (TaxTreatment, "inputAccountingAccount"): lambda c, t: [
        a for a in [_account(c, t.input_account_code)] if a
    ],
    (TaxTreatment, "outputAccountingAccount"): lambda c, t: [
        a for a in [_account(c, t.output_account_code)] if a
    ],
    (PurchaseVatLine, "taxes"): lambda c, v: c.require_books().taxes.get(v.tax_id),
    (PurchaseVatLine, "taxTreatment"): lambda c, v: c.require_books().purchases.tax_treatments.get(
        v.tax_treatment_id
    ),
    (PurchaseVatLine, "purchaseAccountingAccount"): lambda c, v: _account(
        c, v.purchase_account_code
    ),
    (PurchaseVatLine, "purchaseAccountingAccountId"): lambda c, v: getattr(
        _account(c, v.purchase_account_code), "id", None
    ),
    (PurchaseInvoice, "supplier"): lambda c, i: c.require_books().purchases.suppliers.get(
        i.supplier_id
    ),
    (PurchaseInvoice, "openItems"): lambda c, i: [
        c.require_books().purchases.open_items[x] for x in i.open_item_ids
    ],
    (PurchaseOpenItem, "purchaseInvoice"): lambda c, o: c.require_books().purchases.invoices.get(
        o.purchase_invoice_id
    ),
}


def bank_accounts(_root: Any, info: GraphQLResolveInfo[Context]) -> list[banking.BankAccount]:
    return banking.bank_accounts(info.context.require_books())


ROOTS: dict[str, Callable[..., Any]] = {"bankAccounts": bank_accounts}


class _Out:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _entry_out(entry: AccountingEntry) -> _Out:
    return _Out(accounting_entry_id=entry.id, accounting_entry_number=entry.number)


Rule = Callable[[Books, Clock, Any], Any]


def _mutation(
    model: type[BaseModel], rule: Rule, shape: Callable[[Any], Any]
) -> Callable[..., Any]:
    def resolve(_root: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Any:
        ctx = info.context
        books = ctx.require_books()
        try:
            data = model.model_validate(input)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise BusinessError("invalidInput", field=".".join(map(str, first["loc"]))) from exc
        result = rule(books, ctx.state.clock, data)
        ctx.state.changed()
        return shape(result)

    return resolve


def _same(value: Any) -> Any:
    return value


MUTATIONS: dict[str, Callable[..., Any]] = {
    "createSupplier": _mutation(SupplierCreate, suppliers.create_supplier, _same),
    "createPurchaseInvoice": _mutation(
        PurchaseInvoiceCreate, purchases.create_purchase_invoice, _same
    ),
    "postPurchaseInvoice": _mutation(
        PostPurchaseInput, purchases.post_purchase_invoice, _entry_out
    ),
    "purchaseOpenItemSettlement": _mutation(
        PurchaseSettlementInput, purchases.settle_purchase, _entry_out
    ),
    "reconcileBankMovement": _mutation(ReconcileInput, banking.reconcile, lambda m: _Out(id=m.id)),
    "unReconcileBankMovement": _mutation(
        UnreconcileInput, banking.unreconcile, lambda m: _Out(id=m.id)
    ),
}
