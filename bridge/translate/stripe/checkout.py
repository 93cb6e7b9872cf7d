"""Stripe Checkout Sessions (Checkout and Payment Links) -> neutral Order and Payment (pure).

A session in `mode=payment` that is paid is one sale: its line items (read from Stripe's
API by the caller, as events never carry them), each with its VAT, its share of the
session's discounts (`amount_discount`, Stripe's own allocation), and its shipping
(`shipping_cost`) become one Order, referenced `stripe:<account>:<session id>`, whose total
must be the session's `amount_total` to the cent (`settle_total`: the usual rounding line
within the tolerance, refused above it). Its settlement is a Payment keyed by the session's
PaymentIntent (`pi_...`), the key `payment_intent.succeeded` / `charge.succeeded` use too,
so the same money is never settled twice.

Not booked here (`skip_reason`): sessions in `subscription` / `setup` mode, sessions not
paid yet (an asynchronous method: `checkout.session.async_payment_succeeded` follows), and
sessions that made a Stripe invoice (`invoice_creation`): that invoice is the document the
customer received, and it is booked through its own `invoice.*` events.

Taxes: a line's rate is the sum of its `taxes[].rate` percentages (`effective_percentage`
for Stripe Tax rates); without a rate object it is derived from the tax and taxable
amounts (the simplest rate, at most two decimals, that gives the tax to the cent), never
assumed 0 % when tax was charged. Whether prices include VAT is read from the amounts
themselves (`amount_total` = subtotal - discount [+ tax]), which both API versions give.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from bridge.models import Address, LineKind, Order, Party, Payment, TranslationError
from bridge.money import HUNDRED, ZERO, from_minor_units
from bridge.translate.common import LineSet, plain, settle_total
from bridge.translate.stripe.objects import TAX_EXEMPT, VAT_ID_TYPES, stripe_reference
from connectors.stripe import checkout as co

SHIPPING_TITLE = "Livraison"


def _date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, tz=UTC).date()


def skip_reason(session: co.CheckoutSession) -> str | None:
    """Why this session is not booked as a sale of its own, or None when it is."""
    what = f"Checkout Session {session.id}"
    if session.mode != "payment":
        return f"{what} is in {session.mode!r} mode: only one-off payments are sales to book"
    invoice = co.object_id(session.invoice)
    if invoice is not None or (session.invoice_creation and session.invoice_creation.enabled):
        return (
            f"{what} created Stripe invoice {invoice or '(pending)'}: the sale is booked "
            "once, through that invoice's events"
        )
    if session.payment_status != "paid":
        return (
            f"{what} is {session.payment_status!r}: the sale is booked when it is paid "
            "(checkout.session.async_payment_succeeded)"
        )
    return None


def derived_rate(tax: int, taxable: int, what: str) -> Decimal:
    """The simplest percentage (0, 1 or 2 decimals, at most 100) whose tax on `taxable` is
    `tax` (both in minor units), as Stripe rounds it.

    Raises:
        TranslationError: no such rate (the amounts are not one tax on one base).
    """
    if tax == 0:
        return ZERO
    if taxable <= 0:
        raise TranslationError(f"{what}: tax {tax} charged on a taxable amount of {taxable}")
    raw = Decimal(tax) * HUNDRED / Decimal(taxable)
    for places in (Decimal(1), Decimal("0.1"), Decimal("0.01")):
        rate = raw.quantize(places, rounding=ROUND_HALF_UP)
        if (
            rate <= HUNDRED
            and (Decimal(taxable) * rate / HUNDRED).quantize(Decimal(1), ROUND_HALF_UP) == tax
        ):
            return plain(rate)
    raise TranslationError(
        f"{what}: no VAT rate of at most two decimals gives tax {tax} on {taxable} (minor units)"
    )


def _rate(taxes: list[co.CheckoutTax] | None, tax: int, taxable: int, what: str) -> Decimal:
    """The line's percent VAT rate (module docstring); 0 % when no tax was charged, whatever
    rate is listed (an exempt customer, a reverse charge)."""
    if tax == 0:
        return ZERO
    rates = [t.rate.percentage or t.rate.effective_percentage for t in taxes or [] if t.rate]
    if taxes and len(rates) == len(taxes) and all(r is not None for r in rates):
        return plain(sum((r for r in rates if r is not None), ZERO))
    return derived_rate(tax, taxable, what)


def _inclusive(subtotal: int, discount: int, tax: int, total: int, what: str) -> bool:
    """Whether the amounts include the tax, read from how they add up.

    Raises:
        TranslationError: they add up neither way.
    """
    if tax == 0 or total == subtotal - discount + tax:
        return False
    if total == subtotal - discount:
        return True
    raise TranslationError(
        f"{what}: amount_total {total} is neither subtotal {subtotal} - discount {discount} "
        f"+ tax {tax} nor subtotal - discount (minor units)"
    )


def _sku(item: co.CheckoutLineItem) -> str | None:
    return (item.metadata or {}).get("sku") or (
        item.price.metadata.get("sku") if item.price else None
    )


def _add_item(lines: LineSet, item: co.CheckoutLineItem, currency: str, session: str) -> bool:
    """Add the item's line; True when its amounts include the tax."""
    what = f"Checkout Session {session} line item {item.id}"
    inclusive = _inclusive(
        item.amount_subtotal, item.amount_discount, item.amount_tax, item.amount_total, what
    )
    taxable = item.amount_total - item.amount_tax
    lines.add(
        kind=LineKind.PRODUCT,
        title=item.description or (item.price.id if item.price else item.id),
        sku=_sku(item),
        provider_line_id=item.id,
        quantity=Decimal(item.quantity or 1),
        amount=from_minor_units(item.amount_subtotal, currency),
        discount=from_minor_units(item.amount_discount, currency),
        vat_rate=_rate(item.taxes, item.amount_tax, taxable, what),
        taxes_included=inclusive,
    )
    return inclusive


def _add_shipping(lines: LineSet, shipping: co.ShippingCost, currency: str, session: str) -> bool:
    """Add the shipping line (Checkout discounts never apply to it); True when its amounts
    include the tax."""
    what = f"Checkout Session {session} shipping"
    inclusive = _inclusive(
        shipping.amount_subtotal, 0, shipping.amount_tax, shipping.amount_total, what
    )
    rate = shipping.shipping_rate
    lines.add(
        kind=LineKind.SHIPPING,
        title=(rate.display_name if isinstance(rate, co.ShippingRate) else None) or SHIPPING_TITLE,
        quantity=Decimal(1),
        amount=from_minor_units(shipping.amount_subtotal, currency),
        discount=ZERO,
        vat_rate=_rate(
            shipping.taxes, shipping.amount_tax, shipping.amount_total - shipping.amount_tax, what
        ),
        taxes_included=inclusive,
    )
    return inclusive


def _party(session: co.CheckoutSession) -> Party | None:
    customer = co.object_id(session.customer)
    details = session.customer_details
    email = (details.email if details else None) or session.customer_email
    name = (details.business_name or details.name) if details else None
    name = name or email or customer
    if name is None:
        return None
    address = details.address if details else None
    tax_ids = (details.tax_ids if details else None) or []
    vat = next((t.value for t in tax_ids if t.type in VAT_ID_TYPES), None)
    company = details.business_name if details else None
    return Party(
        provider_id=customer,
        email=email,
        name=name[:70],
        company=company or (name[:70] if vat else None),
        phone=details.phone if details else None,
        address=Address(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            zip=address.postal_code,
            province=address.state,
            country_code=address.country,
        )
        if address and any(address.model_dump().values())
        else None,
        vat_number=vat,
        tax_exempt=details is not None and details.tax_exempt in TAX_EXEMPT,
    )


def order_from_checkout_session(
    session: co.CheckoutSession,
    items: Sequence[co.CheckoutLineItem],
    *,
    account: str,
    tolerance: Decimal,
) -> Order:
    """The neutral Order of a paid Checkout Session and its line items.

    Raises:
        TranslationError: the session is not a sale to book (`skip_reason`), lacks its
            currency or total, a line's amounts or tax do not add up, or the lines miss
            `amount_total` by more than `tolerance`.
    """
    what = f"Stripe Checkout Session {session.id}"
    reason = skip_reason(session)
    if reason is not None:
        raise TranslationError(reason)
    if session.currency is None or session.amount_total is None:
        raise TranslationError(f"{what}: no currency or amount_total")
    currency = session.currency.upper()
    built = LineSet()
    inclusive = []
    for item in items:
        if item.currency.upper() != currency:
            raise TranslationError(f"{what}: line item {item.id} is in {item.currency}")
        inclusive.append(_add_item(built, item, currency, session.id))
    if session.shipping_cost is not None and session.shipping_cost.amount_total > 0:
        inclusive.append(_add_shipping(built, session.shipping_cost, currency, session.id))
    total = from_minor_units(session.amount_total, currency)
    lines, rounding = settle_total(
        built.lines, total, currency=currency, tolerance=tolerance, what=what
    )
    return Order(
        provider="stripe",
        account=account,
        provider_id=session.id,
        number=session.id,
        reference=stripe_reference(account, session.id),
        external_reference=(session.client_reference_id or session.id)[:20],
        currency=currency,
        date=_date(session.created),
        customer=_party(session),
        lines=lines,
        total=total,
        rounding=rounding,
        taxes_included=any(inclusive),
        gateways=["stripe"],
        fulfilled=True,
        paid=True,
    )


def payment_from_checkout_session(session: co.CheckoutSession, *, account: str) -> Payment | None:
    """The settlement of a paid session, keyed by its PaymentIntent; None when no money
    moved (a total of 0, fully discounted).

    Raises:
        TranslationError: the session is not a sale to book, or is paid without a
            PaymentIntent.
    """
    reason = skip_reason(session)
    if reason is not None:
        raise TranslationError(reason)
    if not session.amount_total or session.currency is None:
        return None
    payment_id = co.object_id(session.payment_intent)
    if payment_id is None:
        raise TranslationError(
            f"Stripe Checkout Session {session.id}: paid without a payment_intent"
        )
    return Payment(
        provider="stripe",
        account=account,
        provider_id=payment_id,
        order_reference=stripe_reference(account, session.id),
        amount=from_minor_units(session.amount_total, session.currency),
        currency=session.currency.upper(),
        gateway="stripe",
        date=_date(session.created),
    )
