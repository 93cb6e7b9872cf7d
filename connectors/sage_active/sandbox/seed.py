"""The seeded organisation (the team's "Sandbox seed" contract) and fast bulk invoices.

Ids are uuid5 of a stable name, so docs and tests can rely on them: `seed_id("product",
"MUG-001")` is the same on every machine and after every reset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.einvoice_setup import registered_setup
from connectors.sage_active.sandbox.entities import (
    AccountingAccount,
    Customer,
    JournalType,
    Organization,
    PaymentMethod,
    Product,
    SalesInvoice,
    SalesInvoiceLine,
    Tax,
    TaxGroup,
)
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.ids import seed_id as seed_id
from connectors.sage_active.sandbox.invoices import recompute_totals, today
from connectors.sage_active.sandbox.ledger import make_open_items
from connectors.sage_active.sandbox.legislations import apply_legislation
from connectors.sage_active.sandbox.purchases_seed import ensure_purchases

ORGANIZATION_NAME = "Boutique Démo SAS"
VAT_RATES = ("20", "10", "5.5", "2.1", "0")
# Payment method -> the account its settlements debit: the processors' clearing accounts
# (what they owe the shop until they pay out), gift cards against customer advances, and
# the bank itself for transfers.
PAYMENT_METHODS = {
    "Stripe": "511500000",
    "Shopify Payments": "511600000",
    "PayPal": "511700000",
    "Gift cards": "419100000",
    "Bank transfer": "512000000",
    # what a Stripe customer's credit balance paid: the credit given earlier is spent
    "Stripe customer balance": "419800000",
}
# The French chart of accounts of the seeded organisation (the accounts the bridge uses).
CHART = (
    ("401000000", "Fournisseurs"),
    ("411000000", "Clients"),
    ("419100000", "Clients - avances et acomptes reçus"),
    ("419800000", "Clients - avoirs à imputer (solde client Stripe)"),
    ("445660000", "TVA déductible sur autres biens et services"),
    ("445710000", "TVA collectée"),
    ("511500000", "Stripe - paiements à encaisser"),
    ("511600000", "Shopify Payments - paiements à encaisser"),
    ("511700000", "PayPal - paiements à encaisser"),
    ("512000000", "Banque"),
    ("627000000", "Services bancaires et assimilés"),
    ("658000000", "Charges diverses de gestion courante"),
    ("706000000", "Prestations de services et ventes"),
    ("707000000", "Ventes de marchandises"),
    ("758000000", "Produits divers de gestion courante"),
)
PRODUCTS = (
    ("SHIPPING", "Frais de port", "20", "0"),
    ("ROUNDING", "Arrondi", "0", "0"),
    ("DUTIES", "Droits de douane (débours)", "0", "0"),
    ("FEES", "Frais additionnels (débours)", "0", "0"),
    ("TIP", "Pourboires", "0", "0"),
    ("GIFT-CARD", "Cartes cadeaux vendues", "0", "0"),
    *((f"GEN-{rate}", f"Article TVA {rate} %", rate, "0") for rate in VAT_RATES),
    ("MUG-001", "Mug Démo", "20", "12.50"),
    ("TSHIRT-001", "T-shirt Démo", "20", "25.00"),
    ("BOOK-001", "Livre Démo", "5.5", "18.90"),
    ("TEA-001", "Thé Démo", "5.5", "8.40"),
    ("WINE-001", "Vin Démo", "20", "14.00"),
)
SERVICES = frozenset({"SHIPPING", "ROUNDING", "DUTIES", "FEES", "TIP", "GIFT-CARD"})
BULK_STATUSES = ("Pending", "Closed", "Posted")


def seed_books(clock: Clock, name: str = ORGANIZATION_NAME, legislation: str = "FR") -> Books:
    """A fresh organisation (FR unless told): chart of accounts, journals, payment methods
    (each with its account), taxes, products, WALKIN. Its id is `seed_id("organization",
    name)`; the reference data's ids are the same in every organisation seeded."""
    now = clock.now()
    org = Organization(
        id=seed_id("organization", name),
        social_name=name,
        legislation_code=legislation,
        creation_date=now,
        modification_date=now,
        onboarding_date_completed=now,
    )
    books = Books(organization=org)
    if legislation == "FR":  # registered with the platform, as a French merchant since 2026-09
        org.document_id, org.vat_number = "552100554", "FR96552100554"
        books.einvoice_setup = registered_setup(now)
    for rate in VAT_RATES:
        group = TaxGroup(seed_id("taxGroup", rate), f"TVA {rate} %", f"T{rate}", now, now)
        books.tax_groups[group.id] = group
        tax = Tax(
            seed_id("tax", rate), f"TVA {rate} %", Decimal(rate), group.id, group.name, now, now
        )
        books.taxes[tax.id] = tax
    for code, name, kind in (("VT", "Ventes", "SALES_INVOICE"), ("BQ", "Banque", "FINANCIAL")):
        journal = JournalType(seed_id("journalType", code), code, name, kind, now, now)
        books.journal_types[journal.id] = journal
    ensure_chart(books, now)
    bank = seed_id("journalType", "BQ")
    for name, account_code in PAYMENT_METHODS.items():
        method = PaymentMethod(seed_id("paymentMethod", name), name, bank, now, now)
        method.sub_account_id = seed_id("accountingAccount", account_code)
        books.payment_methods[method.id] = method
    for code, name, rate, price in PRODUCTS:
        product = Product(seed_id("product", code), code, name, seed_id("taxGroup", rate), now, now)
        product.sales_unit_price = Decimal(price)
        product.category = "SERVICE" if code in SERVICES else "PRODUCT"
        books.products[product.id] = product
    walkin = Customer(seed_id("customer", "WALKIN"), "WALKIN", "Clients comptoir", now, now)
    books.customers[walkin.id] = walkin
    apply_legislation(books, now)  # ES / DE books; OSS taxes and products
    return books


def ensure_chart(books: Books, now: datetime) -> None:
    """Give books without a chart of accounts the seeded one, and the seeded payment methods
    their accounts (a state file saved before the sandbox had accounts); and the purchase
    side its journal, accounts and tax treatments."""
    if books.accounts:
        ensure_purchases(books, now, seed_id)
        return
    for code, name in CHART:
        account = AccountingAccount(seed_id("accountingAccount", code), code, name, now, now)
        books.accounts[account.id] = account
    for name, account_code in PAYMENT_METHODS.items():
        method = books.payment_methods.get(seed_id("paymentMethod", name))
        if method is not None and method.sub_account_id is None:
            method.sub_account_id = seed_id("accountingAccount", account_code)
    ensure_purchases(books, now, seed_id)


def bulk_invoices(books: Books, clock: Clock, count: int, status: str) -> list[UUID]:
    """`count` one-line invoices for WALKIN built straight into the books (benchmarks).

    Closed ones get a number; Posted ones also get their open item, but no ledger entry
    (to keep 100,000 of them cheap in memory).

    Raises:
        BusinessError: `invalidBulkSeed` for a status other than Pending, Closed, Posted.
    """
    if status not in BULK_STATUSES or count < 0:
        raise BusinessError("invalidBulkSeed", status=status, count=count)
    customer = books.customers[seed_id("customer", "WALKIN")]
    product = books.products[seed_id("product", "MUG-001")]
    tax = books.taxes[seed_id("tax", "20")]
    day = today()
    made: list[UUID] = []
    for _ in range(count):
        now = clock.now()
        invoice = SalesInvoice(uuid4(), customer.id, customer.social_name, day, now, now)
        line = SalesInvoiceLine(
            uuid4(), invoice.id, product.id, product.code, product.name, 1, Decimal(1),
            product.sales_unit_price, Decimal(0), tax.percentage, tax.id, now, now,
        )  # fmt: skip
        invoice.lines.append(line)
        recompute_totals(invoice)
        if status != "Pending":
            invoice.operational_number = books.next_invoice_number()
            invoice.status = status
        if status == "Posted":
            make_open_items(books, invoice, now)
        books.put_invoice(invoice)
        made.append(invoice.id)
    return made
