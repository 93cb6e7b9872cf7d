"""Mutation resolvers: build the typed input, apply the rule, signal the change.

Each returns the entity (or output DTO) the reference documents; a rule's refusal is a
`BusinessError`, which the GraphQL layer reports in `errors[]` with this field null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo
from pydantic import BaseModel, ValidationError

from connectors.sage_active.sandbox import (
    catalog,
    credit,
    einvoice_platform,
    einvoicing,
    entries,
    invoices,
    ledger,
)
from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import AccountingEntry
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.inputs import (
    CreditNoteInput,
    CustomerFields,
    CustomerUpdate,
    EntryByCodes,
    EntryByIds,
    InvoiceCreate,
    InvoiceDelete,
    InvoiceRef,
    InvoiceUpdate,
    PostInput,
    ProductCreate,
    RetryInput,
    SettlementInput,
)
from connectors.sage_active.sandbox.purchase_api import MUTATIONS as PURCHASE_MUTATIONS
from connectors.sage_active.sandbox.resolvers import Context
from connectors.sage_active.sandbox.state import SandboxState

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: dict[str, Any]) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BusinessError("invalidInput", field=".".join(map(str, first["loc"]))) from exc


class _Out:
    """An output DTO read through `read()`: attributes are the camelCase names' snake forms."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _posted(entry: AccountingEntry) -> _Out:
    single = _Out(accounting_entry_id=entry.id, accounting_entry_number=entry.number)
    return _Out(
        accounting_entry_id=entry.id,
        accounting_entry_number=entry.number,
        accounting_entries=[single],
    )


Rule = Callable[[Books, Clock, Any], Any]


def _mutation(
    model: type[BaseModel], rule: Rule, shape: Callable[[Any], Any]
) -> Callable[..., Any]:
    def resolve(_root: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Any:
        ctx: Context = info.context
        books = ctx.require_books()
        result = rule(books, ctx.state.clock, _parse(model, input))
        ctx.state.changed()
        return shape(result)

    return resolve


def _stateful(
    model: type[BaseModel], make_rule: Callable[[SandboxState], Rule], shape: Callable[[Any], Any]
) -> Callable[..., Any]:
    """A mutation whose rule needs the sandbox state itself (e.g. the platform's clock step)."""

    def resolve(root: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Any:
        rule = make_rule(info.context.state)
        return _mutation(model, rule, shape)(root, info, input)

    return resolve


def _same(value: Any) -> Any:
    return value


def _delete(books: Books, _clock: Clock, data: InvoiceDelete) -> _Out:
    document = invoices.get_invoice(books, data.id)
    invoices.delete_invoice(books, data.id)
    credit.release(books, document)
    return _Out(id=data.id)


def _close(books: Books, clock: Clock, data: InvoiceRef) -> Any:
    return invoices.close_invoice(books, clock, data.sales_invoice_id)


_settle = _mutation(SettlementInput, ledger.settle, lambda e: _Out(**{
    "accounting_entry_id": e.id, "accounting_entry_number": e.number}))  # fmt: skip

MUTATIONS: dict[str, Callable[..., Any]] = {
    "createCustomer": _mutation(CustomerFields, einvoicing.create_customer, _same),
    "updateCustomer": _mutation(CustomerUpdate, einvoicing.update_customer, _same),
    "createProduct": _mutation(ProductCreate, catalog.create_product, _same),
    "createSalesInvoice": _mutation(InvoiceCreate, einvoicing.create_invoice, _same),
    "updateSalesInvoice": _mutation(InvoiceUpdate, einvoicing.update_invoice, _same),
    "deleteSalesInvoice": _mutation(InvoiceDelete, _delete, _same),
    "closeSalesInvoice": _mutation(InvoiceRef, _close, _same),
    "postSalesInvoice": _stateful(PostInput, einvoice_platform.post_and_submit, _posted),
    "createSalesOpenItemSettlement": _settle,
    "salesOpenItemSettlement": _settle,
    "generateCreditNote": _mutation(
        CreditNoteInput, einvoicing.generate_credit_note, lambda note: _Out(id=note.id)
    ),
    "retrySalesInvoiceElectronicSubmission": _stateful(
        RetryInput, einvoice_platform.retry_submission, lambda invoice_id: _Out(id=invoice_id)
    ),
    "createAccountingEntryUsingCodes": _mutation(EntryByCodes, entries.create_by_codes, _same),
    "createAccountingEntryUsingIds": _mutation(EntryByIds, entries.create_by_ids, _same),
    **PURCHASE_MUTATIONS,
}
