"""Customers and products: creation, update, and the field limits Sage Active enforces."""

from __future__ import annotations

from uuid import UUID, uuid4

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.entities import Address, Contact, Customer, Email, Product
from connectors.sage_active.sandbox.errors import BusinessError, check_length, require
from connectors.sage_active.sandbox.inputs import (
    AddressInput,
    ContactInput,
    CustomerFields,
    CustomerUpdate,
    ProductCreate,
)
from connectors.sage_active.sandbox.legislation_reference import (
    check_customer_code,
    check_customer_identity,
    check_vies_vat_number,
    customer_number,
)

_CUSTOMER_LIMITS = {
    "code": 17,
    "social_name": 70,
    "trade_name": 70,
    "country_acronym": 2,
    "document_id": 25,
    "vat_number": 25,
    "comments": 2000,
}
_CATEGORIES = {"NOT_SPECIFIED", "CONCEPT", "FEE", "PRODUCT", "PRODUCT_AND_SERVICE", "SERVICE"}


def create_customer(books: Books, clock: Clock, data: CustomerFields) -> Customer:
    """A new customer; `code` is numbered when absent; `socialName` is mandatory (FR).

    Raises:
        BusinessError: socialName missing, a field too long, a code already used.
    """
    _check_customer(books, data, None)
    require("socialName", data.social_name)
    check_customer_code(books, data.code)
    country = data.country_acronym or next(
        (a.country_iso_code_alpha2 for a in data.addresses or [] if a.country_iso_code_alpha2),
        None,
    )
    check_vies_vat_number(books, data.customer_type, country, data.vat_number)
    code = data.code or customer_number(books) or _next_code(books)
    now = clock.now()
    customer = Customer(
        id=uuid4(),
        code=code,
        social_name=data.social_name or "",
        creation_date=now,
        modification_date=now,
    )
    _apply_customer(customer, data, replace_all=["ADDRESSES", "CONTACTS"])
    books.customers[customer.id] = customer
    return customer


def update_customer(books: Books, clock: Clock, data: CustomerUpdate) -> Customer:
    """Patch a customer; addresses and contacts are added unless listed in `replaceAll`.

    Raises:
        BusinessError: customer not found, blank socialName, a field too long, code taken.
    """
    customer = books.customers.get(data.id)
    if customer is None:
        raise BusinessError("customerNotFound", id=str(data.id))
    _check_customer(books, data, customer)
    if data.social_name is not None:
        require("socialName", data.social_name)
    _apply_customer(customer, data, replace_all=[name.upper() for name in data.replace_all])
    customer.modification_date = clock.now()
    return customer


def create_product(books: Books, clock: Clock, data: ProductCreate) -> Product:
    """Raises: BusinessError for a missing/too long code or name, a taken code, an unknown
    tax group or category."""
    require("code", data.code)
    require("name", data.name)
    check_length("code", data.code, 15)
    check_length("name", data.name, 50)
    check_length("lineDescription", data.line_description, 2500)
    check_length("comments", data.comments, 250)
    if any(product.code == data.code for product in books.products.values()):
        raise BusinessError("productCodeAlreadyExists", code=data.code)
    if data.category not in _CATEGORIES:
        raise BusinessError("invalidCategory", category=data.category)
    group_id = data.tax_group_id or _default_tax_group(books)
    if group_id not in books.tax_groups:
        raise BusinessError("taxGroupNotFound", id=str(group_id))
    now = clock.now()
    product = Product(
        id=uuid4(),
        code=data.code,
        name=data.name,
        tax_group_id=group_id,
        creation_date=now,
        modification_date=now,
        category=data.category,
        sales_unit_price=data.sales_unit_price,
        line_description=data.line_description,
        comments=data.comments,
        first_sales_discount=data.first_sales_discount,
    )
    books.products[product.id] = product
    return product


def _default_tax_group(books: Books) -> UUID | None:
    domestic = [tax for tax in books.taxes.values() if tax.tax_type != "FOREIGN"]
    standard = max(domestic, key=lambda tax: tax.percentage, default=None)
    return standard.group_id if standard else None


def _check_customer(books: Books, data: CustomerFields, current: Customer | None) -> None:
    kind = data.customer_type or (current.customer_type if current else "BUSINESS")
    check_customer_identity(books, data.document_type_id, data.non_identified_customer, kind)
    for name, limit in _CUSTOMER_LIMITS.items():
        check_length(_camel(name), getattr(data, name), limit)
    for address in data.addresses or []:
        check_length("firstLine", address.first_line, 35)
        check_length("secondLine", address.second_line, 35)
        check_length("city", address.city, 35)
        check_length("zipCode", address.zip_code, 9)
    for contact in data.contacts or []:
        check_length("name", contact.name, 35)
        check_length("surname", contact.surname, 35)
        for email in contact.emails:
            check_length("emailAddress", email.email_address, 70)
    if data.code is not None:
        taken = any(
            other.code == data.code and other is not current for other in books.customers.values()
        )
        if taken:
            raise BusinessError("customerCodeAlreadyExists", code=data.code)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _apply_customer(customer: Customer, data: CustomerFields, replace_all: list[str]) -> None:
    for name in _CUSTOMER_LIMITS:
        value = getattr(data, name)
        if value is not None:
            setattr(customer, name, value)
    if data.customer_type is not None:
        customer.customer_type = data.customer_type
    if data.document_type_id is not None:
        customer.document_type_id = data.document_type_id
    if data.non_identified_customer is not None:
        customer.non_identified_customer = data.non_identified_customer
    if data.addresses is not None:
        kept = [] if "ADDRESSES" in replace_all else customer.addresses
        customer.addresses = kept + [_address(item) for item in data.addresses]
        main = next((a for a in customer.addresses if a.country_iso_code_alpha2), None)
        if data.country_acronym is None and main is not None and main.country_iso_code_alpha2:
            customer.country_acronym = main.country_iso_code_alpha2
    if data.contacts is not None:
        kept_contacts = [] if "CONTACTS" in replace_all else customer.contacts
        customer.contacts = kept_contacts + [_contact(item) for item in data.contacts]


def _address(item: AddressInput) -> Address:
    return Address(id=uuid4(), **item.model_dump())


def _contact(item: ContactInput) -> Contact:
    emails = [Email(id=uuid4(), **email.model_dump()) for email in item.emails]
    return Contact(
        id=uuid4(),
        name=item.name,
        surname=item.surname,
        is_default_customer=item.is_default_customer,
        emails=emails,
    )


def _next_code(books: Books) -> str:
    numbers = [int(c.code) for c in books.customers.values() if c.code.isdigit()]
    return str(max(numbers, default=0) + 1)
