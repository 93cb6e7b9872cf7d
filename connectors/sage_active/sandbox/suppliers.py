"""Suppliers (03-suppliers.md): creation with the rules that depend on the legislation and
the supplier's country.

- `socialName` mandatory (70); code (17) unique, numbered when absent (and always numbered
  in DE legislation: `supplierCodeIsAutomatic` when one is given there);
- at least one address (`addresses` mandatory); the country is `countryAcronym`, else the
  first address's `countryIsoCodeAlpha2`, else the legislation's;
- a supplier in another VIES country: `vatNumber` mandatory in ES and DE legislations
  (recommended in FR), and it must carry that country's VIES prefix (`invalidVatNumber`);
  outside VIES the VAT number is not used (dropped);
- the default accounting account is the suppliers' collective account 401000000.
"""

from __future__ import annotations

from uuid import uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import Address
from connectors.sage_active.sandbox.errors import BusinessError, check_length, require
from connectors.sage_active.sandbox.purchase_entities import Supplier
from connectors.sage_active.sandbox.purchase_inputs import SupplierCreate

VIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
VIES_PREFIX = {"GR": "EL"}
LIMITS = {
    "code": 17,
    "social_name": 70,
    "trade_name": 70,
    "country_acronym": 2,
    "document_id": 25,
    "vat_number": 25,
    "comments": 2000,
}


def create_supplier(books: Books, clock: Clock, data: SupplierCreate) -> Supplier:
    """Raises: BusinessError for any rule of the module docstring."""
    for name, limit in LIMITS.items():
        check_length(_camel(name), getattr(data, name), limit)
    require("socialName", data.social_name)
    if not data.addresses:
        raise BusinessError("requiredField", field="addresses")
    legislation = books.organization.legislation_code
    purchases = books.purchases
    if data.code is not None and legislation == "DE":
        raise BusinessError("supplierCodeIsAutomatic", legislation=legislation)
    if data.code is not None and any(s.code == data.code for s in purchases.suppliers.values()):
        raise BusinessError("codeAlreadyExists", supplierCode=data.code)
    country = (
        data.country_acronym or data.addresses[0].country_iso_code_alpha2 or legislation
    ).upper()
    vat = (data.vat_number or "").replace(" ", "").upper() or None
    vies_code = None
    if country in VIES and country != legislation:
        if vat is None and legislation in ("ES", "DE"):
            raise BusinessError("requiredField", field="vatNumber")
        prefix = VIES_PREFIX.get(country, country)
        if vat is not None and not vat.startswith(prefix):
            raise BusinessError("invalidVatNumber", vatNumber=vat, expectedPrefix=prefix)
        vies_code = prefix
    elif country not in VIES:
        vat = None
    if data.default_purchase_account_id is not None and (
        data.default_purchase_account_id not in books.accounts
    ):
        raise BusinessError("accountingAccountNotFound", id=str(data.default_purchase_account_id))
    now = clock.now()
    code = data.code or _next_code(books)
    supplier = Supplier(
        id=uuid4(),
        code=code,
        social_name=str(data.social_name),
        creation_date=now,
        modification_date=now,
        trade_name=data.trade_name,
        country_acronym=country,
        vies_code=vies_code,
        document_id=data.document_id,
        vat_number=vat,
        comments=data.comments,
        default_purchase_account_id=data.default_purchase_account_id,
        addresses=[Address(id=uuid4(), **a.model_dump()) for a in data.addresses],
    )
    purchases.suppliers[supplier.id] = supplier
    return supplier


def _next_code(books: Books) -> str:
    purchases = books.purchases
    taken = {s.code for s in purchases.suppliers.values()}
    while True:
        purchases.supplier_counter += 1
        code = f"F{purchases.supplier_counter:05d}"
        if code not in taken:
            return code


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
