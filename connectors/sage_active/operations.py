"""Typed Sage Active operations for the pipeline, on top of `SageClient`.

Each method takes and returns pydantic models from `models` (money as `Decimal`) and
raises the `errors` tree only. Reference data (journals, payment methods, taxes,
products, customers) is cached in Redis for `cache_ttl` seconds; nothing is cached
negatively, so a product or customer created in Sage is found on the next look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import redis

from connectors.sage_active import documents as doc
from connectors.sage_active.batch import Operation
from connectors.sage_active.cache import RefCache
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError, SageError, SageInvalidRequest
from connectors.sage_active.models import (
    AccountingEntry,
    CloseAndPost,
    ClosedInvoice,
    CreatedInvoice,
    CreditNoteLineInput,
    Customer,
    CustomerInput,
    JournalType,
    OpenItem,
    Organization,
    PaymentMethod,
    PostedInvoice,
    PostInvoiceInput,
    Product,
    ProductInput,
    SalesInvoice,
    SalesInvoiceInput,
    Settlement,
    SettlementInput,
    Tax,
)
from connectors.sage_active.pagination import MAX_PAGE_SIZE, M, connection, paginate, parse


def _op(spec: tuple[str, str, str], payload: dict[str, Any]) -> Operation:
    field, input_type, selection = spec
    return Operation(field, selection, {"input": (input_type, payload)})


def _result(value: dict[str, Any] | SageError) -> dict[str, Any]:
    if isinstance(value, SageError):
        raise value
    return value


def _emails(node: Any) -> set[str]:
    contacts = node.get("contacts") if isinstance(node, dict) else None
    return {
        str(email.get("emailAddress") or "").casefold()
        for contact in contacts or []
        if isinstance(contact, dict)
        for email in contact.get("emails") or []
        if isinstance(email, dict)
    }


class SageActive:
    """The operations the bridge needs; see the module docstring."""

    def __init__(
        self,
        client: SageClient,
        redis: redis.Redis | None = None,
        cache_ttl: int | None = None,
    ) -> None:
        self.client = client
        ttl = cache_ttl or client.config.cache_ttl
        self.cache = RefCache(redis or client.redis, client.config.key_prefix, ttl)

    # -- organisation and reference data ------------------------------------------------

    def organization_id(self) -> str:
        return self.client.organization_id()

    def organizations(self) -> list[Organization]:
        data = self.client.execute(doc.ORGANIZATIONS, name="organizations")
        return [parse(Organization, n) for n in connection(data, "organizations").nodes]

    def payment_methods(self) -> list[PaymentMethod]:
        return self._reference(
            "payment_methods", doc.PAYMENT_METHODS, "paymentMethods", PaymentMethod
        )

    def payment_method_by_name(self, name: str) -> PaymentMethod | None:
        """The enabled payment method whose `referenceName` is `name` (case-insensitive)."""
        wanted = name.casefold()
        return next(
            (
                m
                for m in self.payment_methods()
                if not m.disabled and m.reference_name.casefold() == wanted
            ),
            None,
        )

    def journal_types(self) -> list[JournalType]:
        return self._reference("journal_types", doc.JOURNAL_TYPES, "journalTypes", JournalType)

    def journal_by_code(self, code: str) -> JournalType | None:
        return next((j for j in self.journal_types() if j.code == code and not j.deactivated), None)

    def taxes(self) -> list[Tax]:
        return self._reference("taxes", doc.TAXES, "taxes", Tax)

    def _reference(self, kind: str, document: str, field: str, model: type[M]) -> list[M]:
        cached = self.cache.get_list(kind, model)
        if cached is not None:
            return cached
        nodes = connection(self.client.execute(document, name=field), field).nodes
        items = [parse(model, n) for n in nodes]
        self.cache.put_list(kind, items)
        return items

    def invalidate_cache(self) -> int:
        """Forget every cached reference; return the number of keys dropped."""
        return self.cache.clear()

    # -- customers and products --------------------------------------------------------

    def customer_by_code(self, code: str) -> Customer | None:
        cached = self.cache.get("customer:code", code, Customer)
        if cached is not None:
            return cached
        data = self.client.execute(doc.CUSTOMER_BY_CODE, {"code": code}, name="customers")
        return self._remember_customer(connection(data, "customers").nodes, email=None)

    def customer_by_email(self, email: str) -> Customer | None:
        key = email.strip().casefold()
        cached = self.cache.get("customer:email", key, Customer)
        if cached is not None:
            return cached
        data = self.client.execute(
            doc.CUSTOMER_BY_EMAIL, {"email": email.strip()}, name="customers"
        )
        exact = [n for n in connection(data, "customers").nodes if key in _emails(n)]
        return self._remember_customer(exact, email=key)

    def create_customer(self, values: CustomerInput) -> Customer:
        data = self.client.execute(
            doc.CREATE_CUSTOMER,
            {"values": values.to_graphql()},
            mutation=True,
            name="createCustomer",
        )
        email = values.email.strip().casefold() if values.email else None
        customer = self._remember_customer([data.get("createCustomer")], email=email)
        if customer is None:
            raise SageInvalidRequest("createCustomer returned no customer")
        return customer

    def _remember_customer(self, nodes: list[Any], email: str | None) -> Customer | None:
        if not nodes or nodes[0] is None:
            return None
        customer = parse(Customer, nodes[0])
        if customer.code:
            self.cache.put("customer:code", customer.code, customer)
        if email:
            self.cache.put("customer:email", email, customer)
        return customer

    def products_by_codes(self, codes: Iterable[str]) -> dict[str, Product]:
        """The products among `codes` (missing codes are left out); one request per 500
        uncached codes."""
        wanted = list(dict.fromkeys(codes))
        found = self.cache.get_many("product", wanted, Product)
        missing = [c for c in wanted if c not in found]
        for start in range(0, len(missing), MAX_PAGE_SIZE):
            chunk = missing[start : start + MAX_PAGE_SIZE]
            data = self.client.execute(
                doc.PRODUCTS_BY_CODES, {"codes": chunk, "first": len(chunk)}, name="products"
            )
            fetched = [parse(Product, n) for n in connection(data, "products").nodes]
            fresh = {p.code: p for p in fetched if p.code in chunk}
            self.cache.put_many("product", fresh.items())
            found.update(fresh)
        return {c: found[c] for c in wanted if c in found}

    def create_product(self, values: ProductInput) -> Product:
        data = self.client.execute(
            doc.CREATE_PRODUCT, {"values": values.to_graphql()}, mutation=True, name="createProduct"
        )
        product = parse(Product, data.get("createProduct"))
        self.cache.put("product", product.code, product)
        return product

    # -- sales invoices ----------------------------------------------------------------

    def invoice(self, invoice_id: str) -> SalesInvoice | None:
        """The invoice with its lines and open items, or None when Sage has no such id."""
        data = self.client.execute(doc.INVOICE_BY_ID, {"id": invoice_id}, name="salesInvoices")
        nodes = connection(data, "salesInvoices").nodes
        return parse(SalesInvoice, nodes[0]) if nodes else None

    def invoices_by_sales_order_number(self, ref: str) -> list[SalesInvoice]:
        """Documents carrying `salesOrderNumber == ref`, oldest first; credit notes that
        copied the reference are included (`type == "CREDIT_NOTE"`)."""
        data = self.client.execute(doc.INVOICES_BY_ORDER, {"ref": ref}, name="salesInvoices")
        return [parse(SalesInvoice, n) for n in connection(data, "salesInvoices").nodes]

    def invoices_changed_since(
        self, since: datetime, *, where: dict[str, Any] | None = None, page_size: int = 500
    ) -> Iterator[SalesInvoice]:
        """Invoices modified at or after `since`, oldest change first, walking all pages.

        `where` is an extra Sage filter (e.g. `{"status": {"in": ["Posted"]}}`), and-ed.
        """
        variables: dict[str, Any] = {"since": since}
        document = doc.INVOICES_CHANGED
        if where:
            variables["where"] = where
            document = doc.INVOICES_CHANGED_WHERE
        for node in paginate(
            self.client,
            document,
            variables,
            "salesInvoices",
            page_size=page_size,
            name="salesInvoices",
        ):
            yield parse(SalesInvoice, node)

    def create_invoice(self, values: SalesInvoiceInput) -> CreatedInvoice:
        data = self.client.execute(
            doc.CREATE_INVOICE,
            {"values": values.to_graphql()},
            mutation=True,
            name="createSalesInvoice",
        )
        return parse(CreatedInvoice, data.get("createSalesInvoice"))

    def close_invoice(self, invoice_id: str) -> ClosedInvoice:
        [result] = self.client.execute_batch([self._close_op(invoice_id)])
        return parse(ClosedInvoice, _result(result))

    def post_invoice(self, invoice_id: str, journal_id: str, description: str) -> PostedInvoice:
        [result] = self.post_invoices(
            [
                PostInvoiceInput(
                    sales_invoice_id=invoice_id,
                    journal_type_id=journal_id,
                    accounting_entry_description=description,
                )
            ]
        )
        if isinstance(result, SageError):
            raise result
        return result

    def close_and_post(self, invoice_id: str, journal_id: str, description: str) -> CloseAndPost:
        """Close then post in ONE request (two aliased mutations, run in order).

        A close refused while the post succeeds means an earlier attempt had closed the
        invoice already: `closed` is then None.

        Raises:
            SageBusinessError: the post was refused (the close's errors are in the note).
        """
        post = PostInvoiceInput(
            sales_invoice_id=invoice_id,
            journal_type_id=journal_id,
            accounting_entry_description=description,
        )
        closed, posted = self.client.execute_batch(
            [self._close_op(invoice_id), _op(doc.POST_INVOICE, post.to_graphql())]
        )
        if isinstance(posted, SageError):
            if isinstance(closed, SageError):
                posted.add_note(f"close failed too: {closed}")
            raise posted
        if isinstance(closed, SageError) and not isinstance(closed, SageBusinessError):
            raise closed
        return CloseAndPost(
            closed=None if isinstance(closed, SageError) else parse(ClosedInvoice, closed),
            posted=parse(PostedInvoice, posted),
        )

    def post_invoices(self, posts: Sequence[PostInvoiceInput]) -> list[PostedInvoice | SageError]:
        """Post many invoices in as few requests as allowed; one result or error each."""
        results = self.client.execute_batch([_op(doc.POST_INVOICE, p.to_graphql()) for p in posts])
        return [r if isinstance(r, SageError) else parse(PostedInvoice, r) for r in results]

    @staticmethod
    def _close_op(invoice_id: str) -> Operation:
        return _op(doc.CLOSE_INVOICE, {"salesInvoiceId": invoice_id})

    def open_items(self, invoice_id: str) -> list[OpenItem]:
        """Raises: SageInvalidRequest when Sage has no such invoice."""
        data = self.client.execute(doc.OPEN_ITEMS, {"id": invoice_id}, name="salesInvoices")
        nodes = connection(data, "salesInvoices").nodes
        if not nodes or not isinstance(nodes[0], dict):
            raise SageInvalidRequest(f"no sales invoice {invoice_id} in Sage")
        return [parse(OpenItem, item) for item in nodes[0].get("openItems") or []]

    # -- settlements, credit notes, ledger ---------------------------------------------

    def settle(self, values: SettlementInput) -> Settlement:
        field = self.client.config.settlement_mutation
        document = (
            f"mutation ($input: {doc.SETTLEMENT_INPUT_TYPE}) {{ {field}(input: $input) "
            f"{{ {doc.SETTLEMENT_FIELDS} }} }}"
        )
        data = self.client.execute(
            document,
            {"input": values.model_dump(by_alias=True, exclude_none=True, mode="python")},
            mutation=True,
            name=field,
        )
        return parse(Settlement, data.get(field))

    def generate_credit_note(
        self, invoice_id: str, lines: Sequence[CreditNoteLineInput] | None = None
    ) -> str:
        """Credit the whole invoice (no lines) or the given quantities; return its id."""
        payload: dict[str, Any] = {"id": invoice_id}
        if lines:
            payload["lines"] = [line.to_graphql() for line in lines]
        [result] = self.client.execute_batch([_op(doc.GENERATE_CREDIT_NOTE, payload)])
        value = _result(result).get("id")
        if not value:
            raise SageInvalidRequest("generateCreditNote returned no id")
        return str(value)

    def accounting_entries_by_document_number(self, document_number: str) -> list[AccountingEntry]:
        data = self.client.execute(
            doc.ACCOUNTING_ENTRIES_BY_DOCUMENT, {"doc": document_number}, name="accountingEntries"
        )
        return [parse(AccountingEntry, n) for n in connection(data, "accountingEntries").nodes]
