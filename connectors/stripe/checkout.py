"""Stripe Checkout Sessions, their line items, and Billing credit notes, as pydantic models.

`checkout.session.completed` / `checkout.session.async_payment_succeeded` carry a Checkout
Session without its line items (Stripe never puts them in the event): those are read from
`GET /v1/checkout/sessions/{id}/line_items` (`connectors.stripe.checkout_api`), whose
`data[]` are `CheckoutLineItem`s. `credit_note.created` / `credit_note.voided` carry a
CreditNote with its first page of lines.

Both shapes the bridge supports are accepted, as in `connectors.stripe.payloads`: API
version `2024-06-20` (credit notes with `tax_amounts` and a single `refund`) and the
versions since `2025-03-31.basil` (`taxes[]` / `total_taxes` and `refunds[]`). Only the
fields the bridge reads are declared; unknown fields are ignored. Amounts are integers in
the currency's minor unit. `pydantic.ValidationError` is what a malformed object raises.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.stripe.payloads import StripeAddress, TaxId


class _Object(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class _Id(_Object):
    """An expanded object of which only the id is read."""

    id: str


class CheckoutTaxRate(_Object):
    """A Tax Rate as Checkout expands it; Stripe Tax rates may only give `effective_percentage`."""

    id: str | None = None
    percentage: Decimal | None = None
    effective_percentage: Decimal | None = None
    inclusive: bool = False
    country: str | None = None


class CheckoutTax(_Object):
    """One tax of a line item or of the shipping (`taxes[]`, same shape in both versions)."""

    amount: int
    rate: CheckoutTaxRate | None = None
    taxable_amount: int | None = None


class CheckoutPrice(_Object):
    id: str
    product: str | _Id | None = None
    unit_amount: int | None = None
    tax_behavior: str | None = None
    lookup_key: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class CheckoutLineItem(_Object):
    """`item`: `amount_subtotal` is before discounts and (exclusive) taxes."""

    id: str
    object: Literal["item"] = "item"
    amount_subtotal: int
    amount_discount: int = 0
    amount_tax: int = 0
    amount_total: int
    currency: str
    description: str | None = None
    quantity: int | None = None
    price: CheckoutPrice | None = None
    taxes: list[CheckoutTax] | None = None
    metadata: dict[str, str] | None = None


class LineItemPage(_Object):
    """One page of `GET /v1/checkout/sessions/{id}/line_items`."""

    data: list[CheckoutLineItem]
    has_more: bool = False


class ShippingRate(_Object):
    id: str
    display_name: str | None = None
    tax_behavior: str | None = None


class ShippingCost(_Object):
    amount_subtotal: int
    amount_tax: int = 0
    amount_total: int
    shipping_rate: str | ShippingRate | None = None
    taxes: list[CheckoutTax] | None = None


class CustomerDetails(_Object):
    address: StripeAddress | None = None
    email: str | None = None
    name: str | None = None
    business_name: str | None = None
    phone: str | None = None
    tax_exempt: str | None = None  # "none" | "exempt" | "reverse"
    tax_ids: list[TaxId] | None = None


class InvoiceCreation(_Object):
    enabled: bool = False


class CheckoutSession(_Object):
    id: str
    object: Literal["checkout.session"] = "checkout.session"
    mode: str
    status: str | None = None
    payment_status: str
    currency: str | None = None
    amount_subtotal: int | None = None
    amount_total: int | None = None
    created: int
    client_reference_id: str | None = None
    customer: str | _Id | None = None
    customer_details: CustomerDetails | None = None
    customer_email: str | None = None
    payment_intent: str | _Id | None = None
    payment_link: str | _Id | None = None
    invoice: str | _Id | None = None
    invoice_creation: InvoiceCreation | None = None
    shipping_cost: ShippingCost | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


# --- Credit notes -------------------------------------------------------------------


class CreditNoteTaxAmount(_Object):
    """`tax_amounts[]` (2024-06-20): `inclusive` says whether `amount` is inside the line's."""

    amount: int
    inclusive: bool = False
    taxable_amount: int | None = None


class CreditNoteTax(_Object):
    """`taxes[]` / `total_taxes[]` (since 2025-03-31.basil)."""

    amount: int
    tax_behavior: str | None = None
    taxable_amount: int | None = None


class CreditNoteLine(_Object):
    """A credit note line: `amount` is `quantity` x the unit amount, before discounts and
    exclusive taxes; `type` is `invoice_line_item` (credits a line of the invoice, named by
    `invoice_line_item`) or `custom_line_item` (an amount of its own)."""

    id: str
    type: str
    amount: int
    discount_amount: int = 0
    description: str | None = None
    invoice_line_item: str | None = None
    quantity: int | None = None
    tax_amounts: list[CreditNoteTaxAmount] | None = None
    taxes: list[CreditNoteTax] | None = None


class CreditNoteLines(_Object):
    data: list[CreditNoteLine]
    has_more: bool = False


class CreditNoteRefund(_Object):
    """`refunds[]` (since 2025-03-31.basil): a refund made with the credit note."""

    refund: str | _Id | None = None
    amount_refunded: int = 0


class CreditNoteShipping(_Object):
    amount_subtotal: int = 0
    amount_tax: int = 0
    amount_total: int = 0


class CreditNote(_Object):
    id: str
    object: Literal["credit_note"] = "credit_note"
    number: str | None = None
    status: str
    currency: str
    created: int
    effective_at: int | None = None
    invoice: str | _Id
    customer: str | _Id | None = None
    amount: int
    total: int
    subtotal: int | None = None
    discount_amount: int = 0
    lines: CreditNoteLines
    shipping_cost: CreditNoteShipping | None = None
    out_of_band_amount: int | None = None
    refund: str | _Id | None = None  # 2024-06-20
    refunds: list[CreditNoteRefund] | None = None  # since 2025-03-31.basil
    reason: str | None = None
    memo: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    voided_at: int | None = None

    @property
    def invoice_id(self) -> str:
        return self.invoice if isinstance(self.invoice, str) else self.invoice.id

    @property
    def refund_ids(self) -> list[str]:
        """The refunds this credit note made, in either API version's shape."""
        found = [self.refund] if self.refund is not None else []
        found += [r.refund for r in self.refunds or [] if r.refund is not None]
        return [r if isinstance(r, str) else r.id for r in found]


def object_id(value: str | _Id | None) -> str | None:
    """The id of a field Stripe sends as an id or as an expanded object."""
    if value is None or isinstance(value, str):
        return value
    return value.id
