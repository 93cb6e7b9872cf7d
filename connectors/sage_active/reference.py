"""Reference data, customers and products: looked up in Sage, cached in Redis.

`ReferenceData` is the base of `operations.SageActive`. Journals, payment methods and
taxes are cached as whole lists; products and customers per code (and customers per
e-mail). Nothing is cached negatively, so an item created in Sage is found next time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from connectors.sage_active import documents as doc
from connectors.sage_active.cache import RefCache
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError, SageInvalidRequest
from connectors.sage_active.models import (
    Customer,
    CustomerInput,
    EInvoiceSetup,
    JournalType,
    Organization,
    OrganizationDetail,
    PaymentMethod,
    Product,
    ProductInput,
    Tax,
)
from connectors.sage_active.pagination import MAX_PAGE_SIZE, M, connection, parse


def _emails(node: Any) -> set[str]:
    contacts = node.get("contacts") if isinstance(node, dict) else None
    return {
        str(email.get("emailAddress") or "").casefold()
        for contact in contacts or []
        if isinstance(contact, dict)
        for email in contact.get("emails") or []
        if isinstance(email, dict)
    }


class ReferenceData:
    """Organisation, journals, payment methods, taxes, customers and products."""

    def __init__(
        self,
        client: SageClient,
        redis: redis.Redis | None = None,
        cache_ttl: int | None = None,
    ) -> None:
        self.client = client
        ttl = cache_ttl or client.config.cache_ttl
        self.cache = RefCache(redis or client.redis, client.config.key_prefix, ttl)
        # What an organisation can change in Sage at any time (its e-invoicing registration)
        # is kept a minute at most.
        self.short_cache = RefCache(redis or client.redis, client.config.key_prefix, min(ttl, 60))

    # -- organisation and reference data ------------------------------------------------

    def organization_id(self) -> str:
        return self.client.organization_id()

    def organizations(self) -> list[Organization]:
        """Every organisation visible, with its `status` and `onboardingCompleted`."""
        return self.client.list_organizations()

    def organization_detail(self) -> OrganizationDetail:
        """`organizationDetail` of the organisation this client works for (not cached)."""
        data = self.client.execute(doc.ORGANIZATION_DETAIL, name="organizationDetail")
        return parse(OrganizationDetail, data.get("organizationDetail"))

    def einvoice_setup(self) -> EInvoiceSetup | None:
        """The organisation's registration with the e-invoicing platform (FR, 2026-09),
        None when it never registered; cached like reference data."""
        cached = self.short_cache.get("einvoice", "setup", EInvoiceSetup)
        if cached is not None:
            return cached if cached.status else None
        try:
            data = self.client.execute(doc.EINVOICE_SETUP, name="organizationEInvoiceSetupByOrgId")
        except SageBusinessError:  # FR only: another legislation's organisation has none
            data = {}
        raw = data.get("organizationEInvoiceSetupByOrgId")
        setup = parse(EInvoiceSetup, raw) if isinstance(raw, dict) else EInvoiceSetup()
        self.short_cache.put("einvoice", "setup", setup)
        return setup if setup.status else None

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
        found = self.cache.get_many("product:v2", wanted, Product)
        missing = [c for c in wanted if c not in found]
        for start in range(0, len(missing), MAX_PAGE_SIZE):
            chunk = missing[start : start + MAX_PAGE_SIZE]
            data = self.client.execute(
                doc.PRODUCTS_BY_CODES, {"codes": chunk, "first": len(chunk)}, name="products"
            )
            fetched = [parse(Product, n) for n in connection(data, "products").nodes]
            fresh = {p.code: p for p in fetched if p.code in chunk}
            self.cache.put_many("product:v2", fresh.items())
            found.update(fresh)
        return {c: found[c] for c in wanted if c in found}

    def create_product(self, values: ProductInput) -> Product:
        data = self.client.execute(
            doc.CREATE_PRODUCT, {"values": values.to_graphql()}, mutation=True, name="createProduct"
        )
        product = parse(Product, data.get("createProduct"))
        self.cache.put("product:v2", product.code, product)
        return product
