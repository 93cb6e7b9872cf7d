"""Stripe API objects carried by the webhook events the bridge handles, as pydantic models.

`invoice.paid` / `invoice.finalized` carry an Invoice (with its first page of lines),
`payment_intent.succeeded` a PaymentIntent, `charge.succeeded` / `charge.refunded` a Charge,
`refund.created` a Refund. Only the fields the bridge reads are declared; unknown fields are
ignored. Amounts are integers in the currency's minor unit (cents, but whole yen for JPY
and thousandths for KWD): converting them is the translator's job (`bridge.money`).
Fields that Stripe may send either as an id or as an expanded object accept both.

`pydantic.ValidationError` is what a malformed object raises.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Object(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


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
    amount: int
    inclusive: bool = False
    tax_rate: str | TaxRate
    taxable_amount: int | None = None


class DiscountAmount(_Object):
    amount: int
    discount: str | None = None


class Price(_Object):
    id: str
    product: str | None = None
    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    tax_behavior: str | None = None
    lookup_key: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class InvoiceLine(_Object):
    id: str
    amount: int
    amount_excluding_tax: int | None = None
    currency: str
    description: str | None = None
    quantity: int | None = None
    price: Price | None = None
    discount_amounts: list[DiscountAmount] = Field(default_factory=list)
    tax_amounts: list[TaxAmount] = Field(default_factory=list)
    tax_rates: list[TaxRate] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    proration: bool = False
    type: str | None = None


class InvoiceLines(_Object):
    data: list[InvoiceLine]
    has_more: bool = False
    total_count: int | None = None


class StatusTransitions(_Object):
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None


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
    customer_tax_ids: list[TaxId] = Field(default_factory=list)
    total: int
    subtotal: int | None = None
    tax: int | None = None
    amount_paid: int = 0
    amount_due: int = 0
    lines: InvoiceLines
    default_tax_rates: list[TaxRate] = Field(default_factory=list)
    status_transitions: StatusTransitions | None = None
    payment_intent: str | None = None
    charge: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


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
    metadata: dict[str, str] = Field(default_factory=dict)


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
    invoice: str | None = None
    payment_intent: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: RefundList | None = None


class StripePaymentIntent(_Object):
    id: str
    object: Literal["payment_intent"] = "payment_intent"
    amount: int
    amount_received: int = 0
    currency: str
    created: int
    status: str
    invoice: str | None = None
    latest_charge: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
