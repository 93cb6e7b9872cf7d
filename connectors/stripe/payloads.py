"""Stripe API objects carried by the webhook events the bridge handles, as pydantic models.

`invoice.paid` / `invoice.finalized` carry an Invoice (with its first page of lines),
`invoice_payment.paid` an InvoicePayment, `payment_intent.succeeded` a PaymentIntent,
`charge.succeeded` / `charge.refunded` a Charge, `refund.created` a Refund. Only the fields
the bridge reads are declared; unknown fields are ignored.

One model per object serves every API version from `2024-06-20` on: the fields Stripe
removed in `2025-03-31.basil` (Invoice `payment_intent` / `charge` / `paid` / `tax`, line
`tax_amounts` / `tax_rates` / `price` / `amount_excluding_tax` / `proration` / `type`,
Charge and PaymentIntent `invoice`) and the ones it added (line `taxes` / `pricing` /
`parent`, Invoice `total_taxes` / `parent`) are all optional; which set an event carries is
decided once, from its `api_version`, by the translator (`bridge.translate.stripe.objects`). Lists
that Stripe sends as `null` read as empty.

Amounts are integers in the currency's minor unit (cents, but whole yen for JPY and
thousandths for KWD): converting them is the translator's job (`bridge.money`).
Fields that Stripe may send either as an id or as an expanded object accept both.

`pydantic.ValidationError` is what a malformed object raises.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class _Object(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


def _none_is_empty(value: object) -> object:
    return [] if value is None else value


def _none_is_empty_map(value: object) -> object:
    return {} if value is None else value


Metadata = Annotated[dict[str, str], BeforeValidator(_none_is_empty_map)]


class _Ref(_Object):
    """An expanded object of which only the id is read."""

    id: str


def object_id(value: str | _Ref | None) -> str | None:
    """The id of a field Stripe sends as an id or as an expanded object."""
    return value.id if isinstance(value, _Ref) else value


class StripeAddress(_Object):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = None


class TaxId(_Object):
    type: str
    value: str


class TaxRate(_Object):
    id: str
    percentage: Decimal
    inclusive: bool = False
    country: str | None = None
    display_name: str | None = None
    jurisdiction: str | None = None


class TaxAmount(_Object):
    """Up to `2025-02-24.acacia`: a line's (or invoice's) tax for one rate."""

    amount: int
    inclusive: bool = False
    tax_rate: str | TaxRate
    taxable_amount: int | None = None


class TaxRateDetails(_Object):
    tax_rate: str | TaxRate


class Tax(_Object):
    """From `2025-03-31.basil`: a line's (`taxes[]`) or invoice's (`total_taxes[]`) tax.

    `tax_rate_details.tax_rate` is usually only the rate's id: the rate itself is then
    known from `amount` / `taxable_amount` (see the translator).
    """

    amount: int
    taxable_amount: int | None = None
    tax_behavior: str | None = None  # "exclusive" | "inclusive"
    taxability_reason: str | None = None
    type: str | None = None
    tax_rate_details: TaxRateDetails | None = None

    @property
    def inclusive(self) -> bool:
        return self.tax_behavior == "inclusive"

    @property
    def rate(self) -> str | TaxRate | None:
        return self.tax_rate_details.tax_rate if self.tax_rate_details else None


class DiscountAmount(_Object):
    amount: int
    discount: str | _Ref | None = None


class PretaxCreditAmount(_Object):
    """From `2025-03-31.basil`: a reduction of a line before tax: a discount (also listed in
    `discount_amounts`) or a credit grant spent on it (`credit_balance_transaction`)."""

    amount: int
    type: str | None = None  # "discount" | "credit_balance_transaction"
    discount: str | _Ref | None = None
    credit_balance_transaction: str | _Ref | None = None


class Price(_Object):
    id: str
    product: str | _Ref | None = None
    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    tax_behavior: str | None = None
    lookup_key: str | None = None
    metadata: Metadata = Field(default_factory=dict)


class PriceDetails(_Object):
    price: str | Price | None = None
    product: str | _Ref | None = None


class Pricing(_Object):
    """From `2025-03-31.basil`: what a line was priced by (replaces `price`)."""

    type: str | None = None
    price_details: PriceDetails | None = None
    unit_amount_decimal: Decimal | None = None


class ItemDetails(_Object):
    """`parent.subscription_item_details` / `parent.invoice_item_details` of a line."""

    proration: bool = False
    subscription: str | None = None
    subscription_item: str | None = None
    invoice_item: str | None = None


class LineParent(_Object):
    """From `2025-03-31.basil`: where a line comes from (replaces `type` and `proration`)."""

    type: str | None = None
    subscription_item_details: ItemDetails | None = None
    invoice_item_details: ItemDetails | None = None


_List = BeforeValidator(_none_is_empty)


class InvoiceLine(_Object):
    id: str
    amount: int
    currency: str
    description: str | None = None
    quantity: int | None = None
    discount_amounts: Annotated[list[DiscountAmount], _List] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)
    # up to 2025-02-24.acacia
    amount_excluding_tax: int | None = None
    price: Price | None = None
    tax_amounts: Annotated[list[TaxAmount], _List] = Field(default_factory=list)
    tax_rates: Annotated[list[TaxRate], _List] = Field(default_factory=list)
    proration: bool = False
    type: str | None = None
    # from 2025-03-31.basil (`taxes` is null on a line no tax applies to)
    taxes: list[Tax] | None = None
    pricing: Pricing | None = None
    parent: LineParent | None = None
    subtotal: int | None = None
    pretax_credit_amounts: Annotated[list[PretaxCreditAmount], _List] = Field(default_factory=list)

    @property
    def is_proration(self) -> bool:
        """A proration (unused or remaining time of a subscription change), any version."""
        if self.proration:
            return True
        parent = self.parent
        details = parent and (parent.subscription_item_details or parent.invoice_item_details)
        return bool(details and details.proration)

    @property
    def price_object(self) -> Price | None:
        """The line's Price when the payload has it (old `price`, or an expanded
        `pricing.price_details.price`)."""
        if self.price is not None:
            return self.price
        details = self.pricing.price_details if self.pricing else None
        return details.price if details and isinstance(details.price, Price) else None

    @property
    def price_id(self) -> str | None:
        if self.price is not None:
            return self.price.id
        details = self.pricing.price_details if self.pricing else None
        price = details.price if details else None
        return price.id if isinstance(price, Price) else price


class InvoiceLines(_Object):
    data: list[InvoiceLine]
    has_more: bool = False
    total_count: int | None = None


class StatusTransitions(_Object):
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None


class SubscriptionDetails(_Object):
    subscription: str | _Ref | None = None
    metadata: Metadata = Field(default_factory=dict)


class InvoiceParent(_Object):
    """From `2025-03-31.basil`: what the invoice was made for (a subscription, a quote)."""

    type: str | None = None
    subscription_details: SubscriptionDetails | None = None


class StripeInvoice(_Object):
    id: str
    object: Literal["invoice"] = "invoice"
    number: str | None = None
    status: str | None = None
    currency: str
    created: int
    customer: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_address: StripeAddress | None = None
    customer_tax_ids: Annotated[list[TaxId], _List] = Field(default_factory=list)
    customer_tax_exempt: str | None = None  # "none" | "exempt" | "reverse"
    total: int
    subtotal: int | None = None
    amount_paid: int = 0
    amount_due: int = 0
    # the customer's credit balance before and after this invoice (negative = credit);
    # `ending_balance` is null until the invoice is finalized
    starting_balance: int = 0
    ending_balance: int | None = None
    billing_reason: str | None = None
    lines: InvoiceLines
    default_tax_rates: Annotated[list[TaxRate], _List] = Field(default_factory=list)
    status_transitions: StatusTransitions | None = None
    metadata: Metadata = Field(default_factory=dict)
    livemode: bool = False
    # up to 2025-02-24.acacia
    tax: int | None = None
    payment_intent: str | None = None
    charge: str | None = None
    paid: bool | None = None
    # from 2025-03-31.basil
    total_taxes: list[Tax] | None = None
    parent: InvoiceParent | None = None
    total_pretax_credit_amounts: Annotated[list[PretaxCreditAmount], _List] = Field(
        default_factory=list
    )


class StripeRefund(_Object):
    id: str
    object: Literal["refund"] = "refund"
    amount: int
    currency: str
    created: int
    charge: str | None = None
    payment_intent: str | None = None
    status: str | None = None
    reason: str | None = None
    metadata: Metadata = Field(default_factory=dict)


class RefundList(_Object):
    data: list[StripeRefund] = Field(default_factory=list)
    has_more: bool = False


class StripeCharge(_Object):
    id: str
    object: Literal["charge"] = "charge"
    amount: int
    amount_captured: int = 0
    amount_refunded: int = 0
    currency: str
    created: int
    captured: bool = False
    paid: bool = False
    refunded: bool = False
    status: str
    invoice: str | None = None  # up to 2025-02-24.acacia
    payment_intent: str | None = None
    metadata: Metadata = Field(default_factory=dict)
    refunds: RefundList | None = None


class StripePaymentIntent(_Object):
    id: str
    object: Literal["payment_intent"] = "payment_intent"
    amount: int
    amount_received: int = 0
    currency: str
    created: int
    status: str
    invoice: str | None = None  # up to 2025-02-24.acacia
    latest_charge: str | None = None
    metadata: Metadata = Field(default_factory=dict)


class InvoicePaymentMoney(_Object):
    """`payment` of an InvoicePayment: the PaymentIntent or Charge that paid (or, for
    payments recorded out of band, neither)."""

    type: str
    payment_intent: str | _Ref | None = None
    charge: str | _Ref | None = None
    payment_record: str | _Ref | None = None


class InvoicePaymentTransitions(_Object):
    paid_at: int | None = None
    canceled_at: int | None = None


class StripeInvoicePayment(_Object):
    """From `2025-03-31.basil`: one payment of an invoice (`invoice_payment.paid`); an
    invoice paid in parts has several."""

    id: str
    object: Literal["invoice_payment"] = "invoice_payment"
    invoice: str | _Ref
    amount_paid: int | None = None
    amount_requested: int | None = None
    currency: str
    created: int
    status: str
    is_default: bool = False
    livemode: bool = False
    payment: InvoicePaymentMoney
    status_transitions: InvoicePaymentTransitions | None = None
