"""Tax reference data for sales across borders: legislation, document types, tax treatments.

`TaxReference` is a base of `operations.SageActive` next to `ReferenceData`:

- `legislation()`: the organisation's `legislationCode` (FR, ES, DE, PT);
- `document_types()`: the identification document types of that legislation
  (`documentTypes`: `01` domestic id, `02` intra-community VAT, `06` other);
- `tax_treatments()`: Sage's tax treatments (`taxTreatments`, `isIntracomunity`);
- `product_taxes(codes)`: each product's tax, rate and treatment (`taxId`,
  `taxTreatmentId`), to check that a product carries the tax the bridge books on it.

Lists are cached like the other reference data (`RefCache`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connectors.sage_active.cache import RefCache
from connectors.sage_active.client import SageClient
from connectors.sage_active.models import Customer, Organization, SageModel
from connectors.sage_active.pagination import MAX_PAGE_SIZE, M, connection, parse

ORGANIZATIONS = "query { organizations(first: 50) { nodes { id socialName legislationCode } } }"
DOCUMENT_TYPES = "query { documentTypes(first: 500) { nodes { id code name } } }"
TAX_TREATMENTS = (
    "query { taxTreatments(first: 500) { nodes { id description taxCode isIntracomunity "
    "registerType taxType inactive } } }"
)
PRODUCT_TAXES = (
    "query ($codes: [String], $first: Int) { products(first: $first, where: "
    "{ code: { in: $codes } }) { nodes { id code salesVatPercentage taxId taxTreatmentId "
    "tax { id name percentage taxType } } } }"
)


CUSTOMER_BY_COMMENTS = (
    "query ($text: String) { customers(first: 1, where: { comments: { eq: $text } }) "
    "{ nodes { id code socialName } } }"
)
WALKIN_FIELDS = "id code socialName countryAcronym customerType nonIdentifiedCustomer comments"
WALKINS = (
    "query ($prefix: String) { customers(first: 500, where: { code: { startsWith: $prefix } }) "
    "{ nodes { " + WALKIN_FIELDS + " } } }"
)
WALKINS_BY_COMMENTS = (
    "query ($prefix: String) { customers(first: 500, where: { comments: { startsWith: "
    "$prefix } }) { nodes { " + WALKIN_FIELDS + " } } }"
)


class WalkinCustomer(SageModel):
    """A walk-in customer as the doctor checks it (country, ES simplified invoices)."""

    id: str
    code: str
    social_name: str | None = None
    country_acronym: str | None = None
    customer_type: str | None = None
    non_identified_customer: bool | None = None
    comments: str | None = None


class DocumentType(SageModel):
    id: str
    code: str
    name: str | None = None


class TaxTreatment(SageModel):
    id: str
    description: str | None = None
    tax_code: str | None = None
    is_intracomunity: bool = False
    register_type: str | None = None
    tax_type: str | None = None
    inactive: bool = False


class ProductTax(SageModel):
    """A product's sales tax: `tax.taxType` is `FOREIGN` for another country's rate."""

    class TaxOf(SageModel):
        id: str
        name: str | None = None
        percentage: Decimal | None = None
        tax_type: str | None = None

    id: str
    code: str
    sales_vat_percentage: Decimal | None = None
    tax_id: str | None = None
    tax_treatment_id: str | None = None
    tax: TaxOf | None = None


class TaxReference:
    """See the module docstring; needs `client` and `cache` (set by `ReferenceData`)."""

    client: SageClient
    cache: RefCache

    def legislation(self) -> str:
        """The organisation's legislation code (`FR` when Sage does not say)."""
        wanted = self.client.organization_id()
        organizations = self._cached_list(
            "tax_organizations", ORGANIZATIONS, "organizations", Organization
        )
        for organization in organizations:
            if organization.id == wanted and organization.legislation_code:
                return organization.legislation_code.upper()
        return "FR"

    def document_types(self) -> list[DocumentType]:
        return self._cached_list("document_types", DOCUMENT_TYPES, "documentTypes", DocumentType)

    def document_type_by_code(self, code: str) -> DocumentType | None:
        return next((d for d in self.document_types() if d.code == code), None)

    def tax_treatments(self) -> list[TaxTreatment]:
        return self._cached_list("tax_treatments", TAX_TREATMENTS, "taxTreatments", TaxTreatment)

    def product_taxes(self, codes: Iterable[str]) -> dict[str, ProductTax]:
        """The products among `codes` with their tax and treatment (not cached)."""
        wanted = list(dict.fromkeys(codes))
        found: dict[str, ProductTax] = {}
        for start in range(0, len(wanted), MAX_PAGE_SIZE):
            chunk = wanted[start : start + MAX_PAGE_SIZE]
            data = self.client.execute(
                PRODUCT_TAXES, {"codes": chunk, "first": len(chunk)}, name="products"
            )
            for node in connection(data, "products").nodes:
                product = parse(ProductTax, node)
                found[product.code] = product
        return found

    def customer_by_comments(self, text: str) -> Customer | None:
        """The customer whose `comments` are `text`: where the bridge keeps its stable code
        when Sage numbers customers itself (German legislation). Cached once found."""
        cached = self.cache.get("customer:comments", text, Customer)
        if cached is not None:
            return cached
        data = self.client.execute(CUSTOMER_BY_COMMENTS, {"text": text}, name="customers")
        nodes = connection(data, "customers").nodes
        if not nodes:
            return None
        customer = parse(Customer, nodes[0])
        self.cache.put("customer:comments", text, customer)
        return customer

    def customers_by_code_prefix(
        self, prefix: str, in_comments: bool = False
    ) -> list[WalkinCustomer]:
        """The customers whose code (or, `in_comments`, comments) starts with `prefix`
        (walk-in customers; not cached)."""
        document = WALKINS_BY_COMMENTS if in_comments else WALKINS
        data = self.client.execute(document, {"prefix": prefix}, name="customers")
        return [parse(WalkinCustomer, node) for node in connection(data, "customers").nodes]

    def _cached_list(self, kind: str, document: str, field: str, model: type[M]) -> list[M]:
        cached = self.cache.get_list(kind, model)
        if cached is not None:
            return cached
        nodes = connection(self.client.execute(document, name=field), field).nodes
        items = [parse(model, node) for node in nodes]
        self.cache.put_list(kind, items)
        return items


__all__ = ["DocumentType", "ProductTax", "TaxReference", "TaxTreatment", "WalkinCustomer"]
