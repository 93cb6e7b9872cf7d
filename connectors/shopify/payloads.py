"""Shopify webhook payloads (REST Admin API shapes), as pydantic models.

Faithful to what Shopify sends for `orders/create`, `orders/updated`, `orders/edited`,
`orders/paid`, `orders/cancelled` (an Order), `order_transactions/create` (a Transaction)
and `refunds/create` (a Refund). Only the fields the bridge reads are declared; unknown
fields are ignored, so new API versions do not break parsing.

Amounts are Shopify's decimal strings parsed into `Decimal`. Every amount also comes as a
`*_set` money bag with `shop_money` (the shop's currency) and `presentment_money` (the
customer's); `amount_in_shop` picks the shop money when the bag is there. Tax line `rate`
is a JSON number (`0.2`): it is parsed from its decimal text, never through float
arithmetic (pydantic converts the JSON number via its shortest repr).

`pydantic.ValidationError` is what a malformed payload raises.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class Money(_Payload):
    amount: Decimal
    currency_code: str


class MoneySet(_Payload):
    shop_money: Money
    presentment_money: Money | None = None


def amount_in_shop(amount: Decimal | None, money_set: MoneySet | None) -> Decimal:
    """The shop-currency amount: the `*_set.shop_money` when given, else the plain field.

    Raises:
        ValueError: neither is present.
    """
    if money_set is not None:
        return money_set.shop_money.amount
    if amount is None:
        raise ValueError("amount missing (neither the amount nor its *_set is present)")
    return amount


class Address(_Payload):
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    province_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None


class Customer(_Payload):
    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    tax_exempt: bool = False
    # e.g. "EU_REVERSE_CHARGE_EXEMPTION_RULE", "CA_STATUS_CARD_EXEMPTION"
    tax_exemptions: list[str] = Field(default_factory=list)
    default_address: Address | None = None


class TaxLine(_Payload):
    title: str | None = None
    price: Decimal | None = None
    price_set: MoneySet | None = None
    rate: Decimal = Decimal(0)
    channel_liable: bool | None = None


class DiscountAllocation(_Payload):
    amount: Decimal | None = None
    amount_set: MoneySet | None = None
    discount_application_index: int | None = None


class DiscountApplication(_Payload):
    type: str
    value: Decimal | None = None
    value_type: str | None = None
    allocation_method: str | None = None
    target_selection: str | None = None
    target_type: str | None = None
    code: str | None = None
    title: str | None = None


class DiscountCode(_Payload):
    code: str
    amount: Decimal | None = None
    type: str | None = None


class Duty(_Payload):
    """An import duty on a line item (Markets duties collected at checkout).

    Shopify sends its money as top-level `shop_money` / `presentment_money` (no `*_set`);
    `price_set` is accepted too.
    """

    id: str | int | None = None
    harmonized_system_code: str | None = None
    country_code_of_origin: str | None = None
    shop_money: Money | None = None
    presentment_money: Money | None = None
    price_set: MoneySet | None = None
    tax_lines: list[TaxLine] = Field(default_factory=list)


class LineItem(_Payload):
    id: int
    title: str
    name: str | None = None
    variant_title: str | None = None
    sku: str | None = None
    quantity: int = Field(ge=0)
    current_quantity: int | None = None
    price: Decimal | None = None
    price_set: MoneySet | None = None
    total_discount: Decimal | None = None
    total_discount_set: MoneySet | None = None
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    taxable: bool = True
    gift_card: bool = False
    requires_shipping: bool | None = None
    product_id: int | None = None
    variant_id: int | None = None
    duties: list[Duty] = Field(default_factory=list)
    # Present only on a tip line (point of sale, checkout tips): its presence marks the tip.
    tip_payment_gateway: str | None = None
    tip_payment_method: str | None = None

    @property
    def is_tip(self) -> bool:
        return "tip_payment_gateway" in self.model_fields_set


class ShippingLine(_Payload):
    id: int
    title: str
    code: str | None = None
    price: Decimal | None = None
    price_set: MoneySet | None = None
    discounted_price_set: MoneySet | None = None
    discount_allocations: list[DiscountAllocation] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)


class NoteAttribute(_Payload):
    name: str
    value: str | None = None


class OrderCompany(_Payload):
    """A B2B order's purchasing company and its location (ids only, as webhooks send them)."""

    id: int
    location_id: int | None = None


class OrderRefundLine(_Payload):
    """`refunds[].refund_line_items[]` of an order body: the units of a line refunded."""

    line_item_id: int
    quantity: int = Field(ge=0)


class OrderRefund(_Payload):
    """`refunds[]` of an order body (only what says which units went back)."""

    refund_line_items: list[OrderRefundLine] = Field(default_factory=list)


class ShopifyOrder(_Payload):
    """An Order webhook body (`orders/*` topics)."""

    id: int
    name: str
    order_number: int | None = None
    email: str | None = None
    created_at: datetime
    processed_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    currency: str
    presentment_currency: str | None = None
    taxes_included: bool = False
    total_price: Decimal | None = None
    total_price_set: MoneySet | None = None
    subtotal_price_set: MoneySet | None = None
    total_tax_set: MoneySet | None = None
    total_discounts_set: MoneySet | None = None
    total_outstanding: Decimal | None = None
    # Markets and retail: duties, additional fees, tips and cash rounding. `original_*` is
    # what the order was placed with (what `total_price` includes); `current_*` after edits.
    original_total_duties_set: MoneySet | None = None
    current_total_duties_set: MoneySet | None = None
    original_total_additional_fees_set: MoneySet | None = None
    current_total_additional_fees_set: MoneySet | None = None
    total_tip_received: Decimal | None = None
    total_cash_rounding_payment_adjustment_set: MoneySet | None = None
    total_cash_rounding_refund_adjustment_set: MoneySet | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    payment_gateway_names: list[str] = Field(default_factory=list)
    customer: Customer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    discount_applications: list[DiscountApplication] = Field(default_factory=list)
    discount_codes: list[DiscountCode] = Field(default_factory=list)
    note_attributes: list[NoteAttribute] = Field(default_factory=list)
    company: OrderCompany | None = None
    tax_lines: list[TaxLine] = Field(default_factory=list)
    test: bool = False
    # None when the body does not list them (an order rebuilt from GraphQL by the backfill)
    refunds: list[OrderRefund] | None = None

    def refunded_quantity(self, line_item_id: int) -> int | None:
        """Units of a line the order's refunds gave back (its `refunds[]`), or None when
        the body does not list its refunds."""
        if self.refunds is None:
            return None
        return sum(
            r.quantity
            for refund in self.refunds
            for r in refund.refund_line_items
            if r.line_item_id == line_item_id
        )


class CurrencyExchangeAdjustment(_Payload):
    """Shopify Payments' conversion of a transaction into the shop currency.

    `final_amount` is the transaction's amount in the shop currency (`currency`),
    `original_amount` its parent's, `adjustment` the exchange gain or loss between them.
    """

    id: int | None = None
    adjustment: Decimal | None = None
    original_amount: Decimal | None = None
    final_amount: Decimal | None = None
    currency: str | None = None


class ShopifyTransaction(_Payload):
    """An `order_transactions/create` body (also found in a refund's `transactions`).

    `amount` / `currency` are in the order's presentment currency; `amount_set` (when sent)
    carries both monies. `total_unsettled_set` (what is left to capture, its money written
    with `currency`, not `currency_code`) is not read: it is not what the transaction moved.
    """

    id: int
    order_id: int
    kind: str  # authorization, capture, sale, void, refund, change, emv_authorization
    status: str  # pending, failure, success, error
    gateway: str | None = None
    amount: Decimal
    currency: str
    amount_set: MoneySet | None = None
    currency_exchange_adjustment: CurrencyExchangeAdjustment | None = None
    parent_id: int | None = None
    created_at: datetime
    processed_at: datetime | None = None
    test: bool = False


class RefundLineItem(_Payload):
    id: int
    line_item_id: int
    quantity: int = Field(ge=0)
    restock_type: str | None = None
    subtotal_set: MoneySet | None = None
    total_tax_set: MoneySet | None = None
    line_item: LineItem | None = None


class RefundShippingLine(_Payload):
    id: int | None = None
    shipping_line_id: int | None = None
    subtotal_amount_set: MoneySet
    tax_amount_set: MoneySet | None = None


class OrderAdjustment(_Payload):
    id: int
    order_id: int | None = None
    refund_id: int | None = None
    kind: str | None = None  # shipping_refund, refund_discrepancy (deprecated in GraphQL)
    reason: str | None = None
    amount: Decimal | None = None
    amount_set: MoneySet | None = None
    tax_amount: Decimal | None = None
    tax_amount_set: MoneySet | None = None


class ShopifyRefund(_Payload):
    """A `refunds/create` body."""

    id: int
    order_id: int
    created_at: datetime
    processed_at: datetime | None = None
    note: str | None = None
    refund_line_items: list[RefundLineItem] = Field(default_factory=list)
    refund_shipping_lines: list[RefundShippingLine] = Field(default_factory=list)
    order_adjustments: list[OrderAdjustment] = Field(default_factory=list)
    transactions: list[ShopifyTransaction] = Field(default_factory=list)
    # Duties and additional fees given back with this refund (both monies).
    total_duties_set: MoneySet | None = None
    total_additional_fees_set: MoneySet | None = None


class EditDelta(_Payload):
    """`order_edit.line_items.additions[]` / `.removals[]`: a line and its quantity change."""

    id: int
    delta: int = Field(gt=0)


class EditChanges(_Payload):
    additions: list[EditDelta] = Field(default_factory=list)
    removals: list[EditDelta] = Field(default_factory=list)


class EditRefs(_Payload):
    """`order_edit.shipping_lines` (and `discounts.line_item`): added and removed ids."""

    additions: list[dict[str, Any]] = Field(default_factory=list)
    removals: list[dict[str, Any]] = Field(default_factory=list)


class OrderEditBody(_Payload):
    """The `order_edit` of an `orders/edited` webhook (the order itself is not in it)."""

    id: int
    order_id: int
    created_at: datetime | None = None
    committed_at: datetime | None = None
    line_items: EditChanges = Field(default_factory=EditChanges)
    shipping_lines: EditRefs = Field(default_factory=EditRefs)


class OrderEdited(_Payload):
    order_edit: OrderEditBody
