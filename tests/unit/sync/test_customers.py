"""Which Sage customer an order gets: guests, guests with a VAT id, German numbering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bridge.models import Address, Line, LineKind, Order, Party, customer_code
from bridge.settings import Settings
from bridge.sync.customers import resolve_customer
from connectors.sage_active.models import Customer, CustomerInput
from connectors.sage_active.tax_reference import DocumentType


class FakeSage:
    """The customer look-ups and creation `resolve_customer` makes, in memory."""

    def __init__(self, legislation: str = "FR") -> None:
        self.law = legislation
        self.customers: dict[str, Customer] = {"WALKIN": Customer(id="walkin", code="WALKIN")}
        self.created: list[CustomerInput] = []

    def legislation(self) -> str:
        return self.law

    def customer_by_code(self, code: str) -> Customer | None:
        return self.customers.get(code)

    def customer_by_comments(self, text: str) -> Customer | None:
        return next((c for c in self.customers.values() if c.social_name == text), None)

    def customer_by_email(self, email: str) -> Customer | None:
        return None

    def document_type_by_code(self, code: str) -> DocumentType:
        return DocumentType(id=f"doc-{code}", code=code)

    def create_customer(self, values: CustomerInput) -> Customer:
        self.created.append(values)
        ident = f"c{len(self.created)}"
        # the fake keeps the comments where `customer_by_comments` looks (German numbering)
        made = Customer(id=ident, code=values.code or "10000", social_name=values.comments)
        self.customers[values.code or ident] = made
        return made


def _ctx(sage: FakeSage) -> Any:
    return SimpleNamespace(sage=sage, settings=Settings(), check=lambda: None)


def _order(party: Party | None, provider: str = "stripe") -> Order:
    line = Line.build(kind=LineKind.PRODUCT, title="x", quantity=Decimal(1),
                      unit_price=Decimal(10), vat_rate=Decimal(0))  # fmt: skip
    return Order(
        provider=provider, account="default", provider_id="cs_1", number="1", reference="r",
        external_reference="1", currency="EUR", date=dt.date(2026, 12, 1), customer=party,
        lines=[line], total=line.gross,
    )  # fmt: skip


def test_a_checkout_guest_with_a_vat_id_gets_a_business_customer_of_its_own() -> None:
    sage = FakeSage()
    guest = Party(name="Brugse Koffie BV", vat_number="BE0123456749",
                  address=Address(country_code="BE"))  # fmt: skip
    resolve_customer(_ctx(sage), _order(guest))
    (made,) = sage.created
    assert made.code == customer_code("stripe", "vat:BE0123456749")
    assert (made.customer_type, made.vat_number, made.document_type_id) == (
        "BUSINESS", "BE0123456749", "doc-02",
    )  # fmt: skip
    # and the same guest's next order finds it
    resolve_customer(_ctx(sage), _order(guest))
    assert len(sage.created) == 1


def test_guests_go_to_the_walkin_of_their_country() -> None:
    sage = FakeSage()
    assert (
        resolve_customer(_ctx(sage), _order(Party(name="A", address=Address(country_code="FR"))))
        == "walkin"
    )
    resolve_customer(_ctx(sage), _order(Party(name="B", address=Address(country_code="US"))))
    (made,) = sage.created
    assert made.code == "WALKIN-US"
    assert made.address is not None
    assert made.address.country_iso_code_alpha2 == "US"


def test_german_customers_are_created_without_a_code_and_found_by_the_bridges() -> None:
    sage = FakeSage("DE")
    person = Party(provider_id="42", name="Jonas", address=Address(country_code="DE"))
    first = resolve_customer(_ctx(sage), _order(person, "shopify"))
    (made,) = sage.created
    assert (made.code, made.comments) == (None, "bridge:SH42")
    assert resolve_customer(_ctx(sage), _order(person, "shopify")) == first
    assert len(sage.created) == 1
