"""Pieces of Shopify translation: amounts in shop money, rates, the customer.

Pure helpers for `bridge.translate.shopify` (see its docstring for the rules).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Address, Party, TranslationError
from bridge.money import ZERO
from bridge.translate.common import percent_from_fraction
from connectors.shopify import payloads as sp

# note_attributes that checkout apps commonly use to carry a buyer's VAT number
VAT_ATTRIBUTES = frozenset({"vat_number", "vat number", "vat_id", "vat id", "tva", "tax_id"})


def order_reference(shop_domain: str, order_id: int | str) -> str:
    """The Sage `salesOrderNumber` of a Shopify order: `shopify:<shop>:<order id>`."""
    return f"shopify:{shop_domain}:{order_id}"


def shop_amount(amount: Decimal | None, money_set: sp.MoneySet | None, what: str) -> Decimal:
    """The shop-money amount (see `amount_in_shop`).

    Raises:
        TranslationError: neither the amount nor its money bag is present (names `what`).
    """
    try:
        return sp.amount_in_shop(amount, money_set)
    except ValueError as exc:
        raise TranslationError(f"{what}: {exc}") from exc


def allocated(allocations: list[sp.DiscountAllocation], what: str) -> Decimal:
    """Total of a line's discount allocations, in shop money."""
    return sum((shop_amount(a.amount, a.amount_set, what) for a in allocations), ZERO)


def vat_rate(tax_lines: list[sp.TaxLine], taxed: bool, what: str) -> Decimal:
    """Percent rate of a line: sum of its tax lines, 0 when nothing is charged."""
    if not taxed or not tax_lines:
        return ZERO
    charged = sum((shop_amount(t.price, t.price_set, what) for t in tax_lines), ZERO)
    if charged == 0:
        return ZERO
    return percent_from_fraction(sum((t.rate for t in tax_lines), ZERO))


def shop_currency(payload: sp.ShopifyOrder) -> str:
    """The shop's currency code (upper case) of an order."""
    money = payload.total_price_set
    return (money.shop_money.currency_code if money else payload.currency).upper()


def _address(address: sp.Address | None) -> Address | None:
    if address is None:
        return None
    return Address(
        line1=address.address1,
        line2=address.address2,
        city=address.city,
        zip=address.zip,
        province=address.province,
        country_code=address.country_code,
    )


def party(payload: sp.ShopifyOrder) -> Party | None:
    """The order's customer; a guest (`provider_id=None`) when there is no customer record."""
    customer, billing = payload.customer, payload.billing_address
    if customer is None and billing is None:
        return None
    source = billing or (customer.default_address if customer else None)
    first = (customer.first_name if customer else None) or (source.first_name if source else None)
    last = (customer.last_name if customer else None) or (source.last_name if source else None)
    company = source.company if source else None
    email = (customer.email if customer else None) or payload.email
    person = " ".join(part for part in (first, last) if part)
    name = company or person or email or f"Client {payload.name}"
    vat = next(
        (a.value for a in payload.note_attributes if a.name.strip().lower() in VAT_ATTRIBUTES),
        None,
    )
    return Party(
        provider_id=str(customer.id) if customer else None,
        email=email,
        name=name[:70],
        company=company,
        first_name=first,
        last_name=last,
        phone=(customer.phone if customer else None) or (source.phone if source else None),
        address=_address(source),
        vat_number=vat,
    )
