"""Reading the books through GraphQL: field access, relations, and the list queries.

`read(context, item, "fieldName")` is the one way a field is read, by the GraphQL layer
and by filters and sorting alike: a relation or computed field if one is registered for
the item's class, otherwise the snake_case attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any
from uuid import UUID

from graphql import GraphQLResolveInfo

from connectors.sage_active.sandbox import legislation_reference
from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.credit import available
from connectors.sage_active.sandbox.entities import (
    AccountingEntry,
    AccountingEntryLine,
    EInvoice,
    OpenItem,
    PaymentMethod,
    Product,
    SalesInvoice,
    SalesInvoiceLine,
    Tax,
)
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.filters import Connection, Filter, paginate
from connectors.sage_active.sandbox.organization_status import require_usable
from connectors.sage_active.sandbox.purchase_api import COMPUTED as PURCHASE_COMPUTED
from connectors.sage_active.sandbox.purchase_api import SOURCES as PURCHASE_SOURCES
from connectors.sage_active.sandbox.seed import seed_id
from connectors.sage_active.sandbox.state import SandboxState


@dataclass(slots=True)
class UserProfile:
    id: UUID
    first_name: str = "Camille"
    last_name: str = "Démo"
    full_name: str = "Camille Démo"
    application_language_code: str = "fr-FR"
    authentication_email: str = "camille.demo@sandbox.invalid"


@dataclass(slots=True)
class ThirdParty:
    third_party_id: UUID
    code: str | None
    social_name: str | None
    origin: str = "CUSTOMER"


@dataclass
class Context:
    """What a request's resolvers share: the state, the organisation's books, a filter."""

    state: SandboxState
    organization_header: str | None
    books: Books | None = None
    filter: Filter = field(init=False)

    def __post_init__(self) -> None:
        from connectors.sage_active.sandbox.schema import schema

        self.filter = Filter(schema(), partial(read, self))

    def require_books(self) -> Books:
        """The books of the organisation named by `X-OrganizationId`.

        Raises:
            BusinessError: header missing (`organizationIdRequired`) or unknown.
        """
        if self.books is not None:
            return self.books
        if not self.organization_header:
            raise BusinessError("organizationIdRequired", header="X-OrganizationId")
        try:
            books = self.state.books.get(UUID(self.organization_header))
        except ValueError:
            books = None
        if books is None:
            raise BusinessError("organizationNotFound", id=self.organization_header)
        self.books = require_usable(books)
        return books


@cache
def attribute_name(field_name: str) -> str:
    """`totalLiquid` -> `total_liquid`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in field_name)


def _third_party(ctx: Context, line: AccountingEntryLine) -> ThirdParty | None:
    if line.third_party_id is None:
        return None
    books = ctx.require_books()
    customer = books.customers.get(line.third_party_id)
    supplier = books.purchases.suppliers.get(line.third_party_id) if customer is None else None
    party = customer or supplier
    return ThirdParty(
        line.third_party_id,
        party.code if party else None,
        party.social_name if party else None,
        "SUPPLIER" if supplier is not None else "CUSTOMER",
    )


_COMPUTED: dict[tuple[type, str], Callable[[Context, Any], Any]] = {
    (SalesInvoice, "customer"): lambda c, i: c.require_books().customers.get(i.customer_id),
    (SalesInvoice, "sourceSalesInvoice"): lambda c, i: c.require_books().invoices.get(
        i.source_sales_invoice_id
    ),
    (SalesInvoice, "openItems"): lambda c, i: [
        c.require_books().open_items[x] for x in i.open_item_ids
    ],
    (SalesInvoice, "totalVatBase"): lambda _c, i: i.total_net,
    (SalesInvoice, "eInvoicingStatus"): lambda _c, i: (
        i.e_invoice[-1].status if i.e_invoice else None
    ),
    (SalesInvoice, "eInvoiceId"): lambda _c, i: i.e_invoice[-1].id if i.e_invoice else None,
    (EInvoice, "salesInvoice"): lambda c, i: c.require_books().invoices.get(i.sales_invoice_id),
    (SalesInvoiceLine, "salesInvoice"): lambda c, i: c.require_books().invoices.get(
        i.sales_invoice_id
    ),
    (SalesInvoiceLine, "product"): lambda c, i: c.require_books().products.get(i.product_id),
    (SalesInvoiceLine, "totalVatBase"): lambda _c, i: i.total_net,
    (SalesInvoiceLine, "availableForCreditNoteQuantity"): lambda _c, i: available(i),
    (OpenItem, "salesInvoice"): lambda c, i: c.require_books().invoices.get(i.sales_invoice_id),
    (Tax, "group"): lambda c, i: c.require_books().tax_groups.get(i.group_id),
    (PaymentMethod, "journalType"): lambda c, i: c.require_books().journal_types.get(
        i.journal_type_id
    ),
    (Product, "salesVatPercentage"): lambda c, i: (
        tax.percentage if (tax := c.require_books().tax_of_group(i.tax_group_id)) else None
    ),
    (AccountingEntry, "journalType"): lambda c, i: c.require_books().journal_types.get(
        i.journal_type_id
    ),
    (AccountingEntry, "salesInvoice"): lambda c, i: (
        c.require_books().invoices.get(i.source_entity_id) if i.source_type == "SALES" else None
    ),
    (AccountingEntryLine, "subAccount"): lambda c, i: c.require_books().account_by_code(
        i.account_code
    ),
    (AccountingEntryLine, "subAccountId"): lambda c, i: (
        account.id if (account := c.require_books().account_by_code(i.account_code)) else None
    ),
    (AccountingEntryLine, "accountingEntry"): lambda c, i: c.require_books().entries.get(
        i.accounting_entry_id
    ),
    (PaymentMethod, "subAccount"): lambda c, i: c.require_books().accounts.get(i.sub_account_id),
    (AccountingEntryLine, "accountingEntryThirdParty"): _third_party,
    **legislation_reference.computed_fields(),
    **PURCHASE_COMPUTED,
}


def read(ctx: Context, item: Any, name: str) -> Any:
    """The value of GraphQL field `name` on `item`."""
    computed = _COMPUTED.get((type(item), name))
    if computed is not None:
        return computed(ctx, item)
    return getattr(item, attribute_name(name), None)


def field_resolver(source: Any, info: GraphQLResolveInfo[Context], **_args: Any) -> Any:
    """The default resolver for every non-root field."""
    return read(info.context, source, info.field_name)


Source = Callable[[Books, dict[str, Any] | None], tuple[Iterable[Any], dict[str, Any] | None]]


def _all(getter: Callable[[Books], Iterable[Any]]) -> Source:
    return lambda books, where: (getter(books), where)


def _invoices(books: Books, where: dict[str, Any] | None) -> tuple[Iterable[Any], Any]:
    """Use the modificationDate index when the filter starts from a date (the poller)."""
    changed = (where or {}).get("modificationDate") or {}
    since = changed.get("gte") or changed.get("gt")
    if since is None:
        return books.invoices.values(), where
    strict = "gt" in changed and changed.get("gt") is not None
    rest = dict(where or {})
    if set(changed) <= {"gte", "gt"}:
        rest.pop("modificationDate")
    return books.invoices_by_modification(since, strict), rest


def _entry_lines(books: Books) -> Iterable[AccountingEntryLine]:
    return (line for entry in books.entries.values() for line in entry.accounting_entry_lines)


def _lines(books: Books) -> Iterable[SalesInvoiceLine]:
    return (line for invoice in books.invoices.values() for line in invoice.lines)


SOURCES: dict[str, tuple[str, Source]] = {
    "customers": ("Customer", _all(lambda b: b.customers.values())),
    "products": ("Product", _all(lambda b: b.products.values())),
    "paymentMethods": ("PaymentMethod", _all(lambda b: b.payment_methods.values())),
    "journalTypes": ("JournalType", _all(lambda b: b.journal_types.values())),
    "taxes": ("Tax", _all(lambda b: b.taxes.values())),
    "taxGroups": ("TaxGroup", _all(lambda b: b.tax_groups.values())),
    "salesInvoices": ("SalesInvoice", _invoices),
    "salesInvoiceLines": ("SalesInvoiceLine", _all(_lines)),
    "salesInvoiceOpenItems": ("SalesInvoiceOpenItem", _all(lambda b: b.open_items.values())),
    "accountingEntries": ("AccountingEntry", _all(lambda b: b.entries.values())),
    "accountingEntryLines": ("AccountingEntryLine", _all(_entry_lines)),
    "accountingAccounts": ("AccountingAccount", _all(lambda b: b.accounts.values())),
    "documentTypes": ("DocumentType", _all(legislation_reference.document_types)),
    **PURCHASE_SOURCES,
    "taxTreatments": ("TaxTreatment", _all(legislation_reference.all_tax_treatments)),
}


def select(ctx: Context, type_name: str, items: Iterable[Any], args: dict[str, Any]) -> Connection:
    """`items` filtered, sorted and paginated as the list query's arguments say."""
    where = args.get("where")
    matcher = ctx.filter
    chosen = [item for item in items if matcher.matches(type_name, item, where)]
    matcher.sort(chosen, args.get("order"))
    return paginate(
        chosen, args.get("first"), args.get("after"), args.get("last"), args.get("before")
    )


# Sources keyed by id: a filter `id: { eq: ... }` reads one entry instead of them all.
_BY_ID: dict[str, Callable[[Books], Mapping[UUID, Any]]] = {
    "customers": lambda b: b.customers,
    "products": lambda b: b.products,
    "salesInvoices": lambda b: b.invoices,
    "accountingEntries": lambda b: b.entries,
}


def _one_by_id(books: Books, root_field: str, where: dict[str, Any] | None) -> list[Any] | None:
    """The entry an `id: { eq: ... }` filter names ([] when none), or None when the filter
    does not name one id (the whole source is scanned then)."""
    by_id = _BY_ID.get(root_field)
    condition = (where or {}).get("id")
    if by_id is None or not isinstance(condition, dict) or set(condition) != {"eq"}:
        return None
    try:
        key = condition["eq"] if isinstance(condition["eq"], UUID) else UUID(str(condition["eq"]))
    except ValueError:
        return []
    item = by_id(books).get(key)
    return [] if item is None else [item]


def list_resolver(root_field: str) -> Callable[..., Connection]:
    """The resolver of a list query such as `salesInvoices`."""
    type_name, source = SOURCES[root_field]

    def resolve(_root: Any, info: GraphQLResolveInfo[Context], **args: Any) -> Connection:
        ctx: Context = info.context
        books = ctx.require_books()
        found = _one_by_id(books, root_field, args.get("where"))
        if found is not None:  # the full filter still applies to it
            return select(ctx, type_name, found, args)
        items, where = source(books, args.get("where"))
        return select(ctx, type_name, items, {**args, "where": where})

    return resolve


def user_profile(_root: Any, _info: GraphQLResolveInfo[Context]) -> UserProfile:
    return UserProfile(id=seed_id("user", "camille.demo"))
