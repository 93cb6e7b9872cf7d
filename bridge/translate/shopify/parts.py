"""Pieces of Shopify translation: amounts in shop money, rates, the customer, the money a
transaction or refund moved.

Pure helpers for `bridge.translate.shopify.orders` (see its docstring for the rules).
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Address, LineKind, Party, RefundLine, ShownMoney, TranslationError
from bridge.money import ZERO
from bridge.translate.common import percent_from_fraction
from bridge.translate.markets import OrderMoney
from connectors.shopify import payloads as sp

# note_attributes that checkout apps commonly use to carry a buyer's VAT number
VAT_ATTRIBUTES = frozenset({"vat_number", "vat number", "vat_id", "vat id", "tva", "tax_id"})
SIRET_ATTRIBUTES = frozenset({"siret"})


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


def _attribute(payload: sp.ShopifyOrder, names: frozenset[str]) -> str | None:
    for attribute in payload.note_attributes:
        value = (attribute.value or "").strip()
        if value and attribute.name.strip().lower() in names:
            return value
    return None


def party(
    payload: sp.ShopifyOrder,
    vat_attributes: frozenset[str] = VAT_ATTRIBUTES,
    siret_attributes: frozenset[str] = SIRET_ATTRIBUTES,
) -> Party | None:
    """The order's customer; a guest (`provider_id=None`) when there is no customer record.

    Business data: the VAT id and SIRET from the note attributes named in
    `vat_attributes` / `siret_attributes` (shops without B2B), the customer's tax
    exemption, and a B2B order's company location (read by the sync).
    """
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
    location = payload.company.location_id if payload.company else None
    exempt = customer is not None and (customer.tax_exempt or bool(customer.tax_exemptions))
    return Party(
        provider_id=str(customer.id) if customer else None,
        email=email,
        name=name[:70],
        company=company,
        first_name=first,
        last_name=last,
        phone=(customer.phone if customer else None) or (source.phone if source else None),
        address=_address(source or payload.shipping_address),
        vat_number=_attribute(payload, vat_attributes),
        siret=_attribute(payload, siret_attributes),
        tax_exempt=exempt,
        company_location=f"gid://shopify/CompanyLocation/{location}" if location else None,
    )


def transaction_money(tx: sp.ShopifyTransaction) -> tuple[Decimal, str, ShownMoney | None]:
    """A transaction's amount and currency, and what it was in the presentment currency.

    The shop money when Shopify gives it (`amount_set`, else
    `currency_exchange_adjustment.final_amount`), with the presentment amount beside it
    when that is another currency; else the transaction's own (presentment) amount and
    currency. `total_unsettled_set` is what remains to capture, not what this transaction
    moved, so it is not used.
    """
    own = ShownMoney(amount=tx.amount, currency=tx.currency.upper())
    if tx.amount_set is not None:
        money, shown = tx.amount_set.shop_money, tx.amount_set.presentment_money
        code = money.currency_code.upper()
        if shown is not None and shown.currency_code.upper() != code:
            return (
                money.amount,
                code,
                ShownMoney(amount=shown.amount, currency=shown.currency_code.upper()),
            )
        return money.amount, code, None
    adjustment = tx.currency_exchange_adjustment
    if adjustment is not None and adjustment.final_amount is not None and adjustment.currency:
        code = adjustment.currency.upper()
        return adjustment.final_amount, code, own if own.currency != code else None
    return tx.amount, own.currency, None


def refund_money(
    refund: sp.ShopifyRefund, money: OrderMoney | None
) -> tuple[list[sp.ShopifyTransaction], Decimal, str | None]:
    """The successful refund transactions, the money they returned and its currency: in
    shop money when the order is known (`money`), else as the transactions report it.

    Raises:
        TranslationError: a transaction in a currency the order has no rate for.
    """
    moved = [t for t in refund.transactions if t.kind == "refund" and t.status == "success"]
    amount, currency = ZERO, None
    for tx in moved:
        value, code, _ = transaction_money(tx)
        if money is not None:
            value, code = money.in_shop(value, code, f"refund transaction {tx.id}"), money.currency
        amount += value
        currency = currency or code
    return moved, amount, currency


def refunded_charges(refund: sp.ShopifyRefund) -> list[RefundLine]:
    """Duties and additional fees given back: amount-only lines of those kinds (credited on
    the order's duties / fees line, as shipping is)."""
    found = []
    for kind, money in (
        (LineKind.DUTIES, refund.total_duties_set),
        (LineKind.FEES, refund.total_additional_fees_set),
    ):
        if money is not None and money.shop_money.amount != 0:
            found.append(RefundLine(kind=kind, quantity=ZERO, amount=money.shop_money.amount))
    return found


def sold_quantity(item: sp.LineItem, payload: sp.ShopifyOrder) -> int:
    """The units of a line the order still sells: its `quantity` less the units an order
    edit removed. `current_quantity` is the quantity less what was removed, by an edit or
    by a refund; the units the order's refunds list went back by refund (and are credited
    as such), so only the rest was removed by an edit and leaves what the order sells.
    A body that does not list its refunds cannot tell the two apart: its `quantity` is
    kept."""
    refunded = payload.refunded_quantity(item.id)
    if item.current_quantity is None or refunded is None:
        return item.quantity
    return min(item.quantity, item.current_quantity + refunded)
