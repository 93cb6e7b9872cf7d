"""Organisations by legislation (FR, ES, DE) and what Sage's reference leaves to us: OSS.

`apply_legislation(books, now)` finishes a seeded organisation for its legislation:

- ES and DE get their own books instead of the French ones: VAT rates (ES 21 / 10 / 4,
  DE 19 / 7, both 0), chart of accounts (ES PGC: 430 / 477 / 700; DE SKR03: 1400 / 1776 /
  8400), sales and bank journals, walk-in customer (ES: non-identified, for simplified
  invoices), and fallback products per rate named as there (`GEN-21` "Artículo IVA 21 %",
  `GEN-19` "Artikel USt 19 %");
- every organisation gets, for the other EU countries' rates it may charge under the One
  Stop Shop (OSS), a tax of type `FOREIGN` per destination and rate (`DE 19 % (OSS)`) and
  a product on it (`OSS-DE-19`), plus an `INTRA-EU` product at 0 % whose tax treatment is
  the intra-community supply (`isIntracomunity`), and an `EXPORT` product at 0 %.

Sage's reference documents `taxes` (taxType `FOREIGN`), `taxGroups` and `taxTreatments`
but not how OSS sales are booked: products per destination and rate are this sandbox's
(and the bridge's) choice, documented in docs/accounting.md.

`posting_accounts` names the accounts an invoice is posted on: Sage picks the sales account
by the customer's country (national, VIES, other: 09-sales-invoices.md, "New Logic for
Sales Ledger Account Selection"). `documentTypes` and `taxTreatments` are answered by
`legislation_reference`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.entities import (
    AccountingAccount,
    Customer,
    JournalType,
    PaymentMethod,
    Product,
    Tax,
    TaxGroup,
)
from connectors.sage_active.sandbox.ids import seed_id
from connectors.sage_active.sandbox.purchases_seed import ensure_purchases

_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI"
EU = frozenset(_EU.split())
# Destination rates seeded as OSS taxes (a selection: add more with `createProduct`).
OSS_RATES: dict[str, tuple[str, ...]] = {
    "FR": ("20", "10", "5.5", "2.1"),
    "DE": ("19", "7"),
    "ES": ("21", "10", "4"),
    "BE": ("21", "12", "6"),
    "IT": ("22", "10", "5", "4"),
    "NL": ("21", "9"),
    "AT": ("20", "13", "10"),
    "PT": ("23", "13", "6"),
}
DEFAULT_NAMES = {"FR": "Boutique Démo SAS", "ES": "Tienda Demo SL", "DE": "Demo Laden GmbH"}


@dataclass(frozen=True, slots=True)
class Legislation:
    """What differs between the legislations' seeded books."""

    code: str
    tax_type: str
    tax_label: str  # "TVA", "IVA", "USt"
    rates: tuple[str, ...]
    customers_account: str
    sales_account: str
    intracommunity_account: str
    foreign_account: str
    vat_account: str
    bank_account: str
    chart: tuple[tuple[str, str], ...]
    journals: tuple[tuple[str, str], ...]  # (sales, bank) codes and names
    walkin_name: str
    article: str
    shipping: str
    document_types: tuple[tuple[str, str], ...]
    intra_eu: str
    export: str


FR = Legislation(
    "FR", "TVA", "TVA", ("20", "10", "5.5", "2.1", "0"),
    "411000000", "707000000", "707100000", "707200000", "445710000", "512000000",
    (("707100000", "Ventes de marchandises - UE"), ("707200000", "Ventes de marchandises - export"),
     ("445720000", "TVA collectée - OSS")),
    (("VT", "Ventes"), ("BQ", "Banque")),
    "Clients comptoir", "Article TVA", "Frais de port",
    (("01", "SIRET"), ("02", "TVA Intracommunautaire"), ("06", "Autre document justificatif")),
    "Livraison intracommunautaire (autoliquidation)", "Exportation hors UE",
)  # fmt: skip
ES = Legislation(
    "ES", "IVA", "IVA", ("21", "10", "4", "0"),
    "430000000", "700000000", "700100000", "700200000", "477000000", "572000000",
    (("430000000", "Clientes"), ("477000000", "Hacienda Pública, IVA repercutido"),
     ("477100000", "IVA repercutido - OSS"), ("572000000", "Bancos"),
     ("572100000", "Stripe - cobros pendientes"), ("572200000", "Shopify Payments - cobros"),
     ("572300000", "PayPal - cobros pendientes"), ("438000000", "Anticipos de clientes"),
     ("626000000", "Servicios bancarios"), ("700000000", "Ventas de mercaderías"),
     ("700100000", "Ventas de mercaderías - UE"),
     ("700200000", "Ventas de mercaderías - exportación"),
     ("705000000", "Prestaciones de servicios")),
    (("VE", "Ventas"), ("BA", "Bancos")),
    "Clientes varios", "Artículo IVA", "Gastos de envío",
    (("01", "NIF/DNI"), ("02", "NIF/IVA"), ("03", "Pasaporte"),
     ("04", "Documento oficial emitido en el pais de residencia"),
     ("05", "Certificado de residencia"), ("06", "Otro documento probatorio")),
    "Entrega intracomunitaria exenta", "Exportación",
)  # fmt: skip
DE = Legislation(
    "DE", "UST", "USt", ("19", "7", "0"),
    "1400", "8400", "8125", "8120", "1776", "1200",
    (("1400", "Forderungen aus Lieferungen und Leistungen"), ("1776", "Umsatzsteuer 19 %"),
     ("1778", "Umsatzsteuer OSS"), ("1200", "Bank"), ("1360", "Geldtransit Stripe"),
     ("1361", "Geldtransit Shopify Payments"), ("1362", "Geldtransit PayPal"),
     ("1718", "Erhaltene Anzahlungen"), ("4970", "Nebenkosten des Geldverkehrs"),
     ("8400", "Erlöse 19 % USt"), ("8125", "Steuerfreie innergemeinschaftliche Lieferungen"),
     ("8120", "Steuerfreie Umsätze (Ausfuhr)")),
    (("VK", "Verkauf"), ("BK", "Bank")),
    "Laufkundschaft", "Artikel USt", "Versandkosten",
    (("01", "Steur-IdN"), ("02", "USt-IdNr"), ("06", "Another supporting document")),
    "Innergemeinschaftliche Lieferung (steuerfrei)", "Ausfuhrlieferung (steuerfrei)",
)  # fmt: skip
LEGISLATIONS = {law.code: law for law in (FR, ES, DE)}
# The seeded payment methods' clearing accounts, by legislation (FR: seed.PAYMENT_METHODS).
PAYMENT_ACCOUNTS = {
    "ES": {"Stripe": "572100000", "Shopify Payments": "572200000", "PayPal": "572300000",
           "Gift cards": "438000000", "Bank transfer": "572000000"},
    "DE": {"Stripe": "1360", "Shopify Payments": "1361", "PayPal": "1362",
           "Gift cards": "1718", "Bank transfer": "1200"},
}  # fmt: skip


def oss_products(legislation: str = "FR") -> dict[str, str]:
    """The seeded OSS products of an organisation, as `BRIDGE_OSS_PRODUCTS` maps them."""
    return {
        f"{country}:{rate}": f"OSS-{country}-{rate}"
        for country, rates in OSS_RATES.items()
        if country != legislation
        for rate in rates
    }


def legislation_of(books: Books) -> Legislation:
    return LEGISLATIONS.get(books.organization.legislation_code, FR)


def treatment_id(legislation: str, code: str) -> UUID:
    return seed_id("taxTreatment", f"{legislation}:{code}")


def posting_accounts(books: Books, customer: Customer | None) -> tuple[str, str, str]:
    """(customers, sales, VAT) accounts of an invoice: sales by the customer's country."""
    law = legislation_of(books)
    country = (customer.country_acronym if customer else None) or law.code
    if country.upper() == law.code:
        sales = law.sales_account
    elif country.upper() in EU:
        sales = law.intracommunity_account
    else:
        sales = law.foreign_account
    if law.code == "FR" and country.upper() == "FR":
        sales = "706000000"  # the seeded French books' historical sales account
    return law.customers_account, sales, law.vat_account


def apply_legislation(books: Books, now: datetime) -> None:
    """Finish freshly seeded (French) books for their legislation, then add OSS."""
    law = legislation_of(books)
    if law.code != "FR":
        _replace_french_books(books, law, now)
        ensure_purchases(books, now, seed_id)  # the purchase side, as every organisation
    for code, name in law.chart:
        _account(books, code, name, now)
    _add_oss(books, law, now)
    for code, text, treatment in (
        ("INTRA-EU", law.intra_eu, "IC"),
        ("EXPORT", law.export, "EXP"),
    ):
        product = _product(books, code, text[:50], seed_id("taxGroup", "0"), now)
        product.tax_treatment_id = treatment_id(law.code, treatment)


def _replace_french_books(books: Books, law: Legislation, now: datetime) -> None:
    books.tax_groups.clear()
    books.taxes.clear()
    books.accounts.clear()
    books.products.clear()
    for rate in law.rates:
        _tax(books, rate, f"{law.tax_label} {rate} %", law.tax_type, now)
    books.journal_types.clear()
    for (code, name), kind in zip(law.journals, ("SALES_INVOICE", "FINANCIAL"), strict=True):
        journal = JournalType(seed_id("journalType", code), code, name, kind, now, now)
        books.journal_types[journal.id] = journal
    bank = seed_id("journalType", law.journals[1][0])
    for method in list(books.payment_methods.values()):
        account = PAYMENT_ACCOUNTS[law.code].get(method.reference_name, law.bank_account)
        books.payment_methods[method.id] = PaymentMethod(
            method.id, method.reference_name, bank, now, now,
            sub_account_id=seed_id("accountingAccount", account),
        )  # fmt: skip
    for code, name, rate in (
        ("SHIPPING", law.shipping, law.rates[0]),
        ("ROUNDING", "Redondeo / Rundung", "0"),
        ("DUTIES", "Derechos / Zölle", "0"),
        ("FEES", "Tasas / Gebühren", "0"),
        ("TIP", "Propinas / Trinkgeld", "0"),
        ("GIFT-CARD", "Tarjetas regalo / Gutscheine", "0"),
        *((f"GEN-{rate}", f"{law.article} {rate} %", rate) for rate in law.rates),
    ):
        product = _product(books, code, name, seed_id("taxGroup", rate), now)
        product.category = "PRODUCT" if code.startswith("GEN-") else "SERVICE"
    walkin = books.customers.get(seed_id("customer", "WALKIN"))
    if walkin is not None:
        walkin.social_name = law.walkin_name
        walkin.country_acronym = law.code
        walkin.customer_type = "INDIVIDUAL"
        walkin.non_identified_customer = law.code == "ES"


def _add_oss(books: Books, law: Legislation, now: datetime) -> None:
    for country, rates in OSS_RATES.items():
        if country == law.code:
            continue
        for rate in rates:
            key = f"{country}:{rate}"
            _tax(books, key, f"{country} {rate} % (OSS)", "FOREIGN", now, Decimal(rate))
            product = _product(
                books, f"OSS-{country}-{rate}", f"Vente à distance {country} {rate} %",
                seed_id("taxGroup", key), now,
            )  # fmt: skip
            product.tax_treatment_id = treatment_id(law.code, "OSS")


def _tax(
    books: Books, key: str, name: str, kind: str, now: datetime, rate: Decimal | None = None
) -> None:
    group = TaxGroup(seed_id("taxGroup", key), name, f"T{key}", now, now, tax_type=kind)
    books.tax_groups[group.id] = group
    percentage = Decimal(key) if rate is None else rate
    tax = Tax(seed_id("tax", key), name, percentage, group.id, name, now, now, tax_type=kind)
    books.taxes[tax.id] = tax


def _product(books: Books, code: str, name: str, group: UUID, now: datetime) -> Product:
    product = Product(seed_id("product", code), code, name, group, now, now)
    product.category = "SERVICE" if code in {"INTRA-EU", "EXPORT"} else "PRODUCT"
    books.products[product.id] = product
    return product


def _account(books: Books, code: str, name: str, now: datetime) -> None:
    account = AccountingAccount(seed_id("accountingAccount", code), code, name, now, now)
    books.accounts[account.id] = account
