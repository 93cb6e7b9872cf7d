"""Provider-neutral models: what a shop or payment provider told us, in the bridge's terms.

Translation (`bridge.translate`) turns Shopify and Stripe payloads into these; the sync layer
plans Sage Active operations from them. They are frozen pydantic models with `Decimal`
money only (floats are rejected), amounts in the order's currency (the shop currency for
Shopify), and they round-trip through JSON (`model_dump_json` / `model_validate_json`).

Invariants checked on construction (a `pydantic.ValidationError` otherwise):
- every `Line`'s `net` and `vat` are exactly what Sage computes from its quantity, unit
  price, discount and rate (`bridge.money.sage_line_amounts`);
- an `Order`'s `sage_total` (sum of line net + VAT) equals its `total`, and its `rounding`
  equals the sum of its rounding lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from bridge.money import ZERO, Money, sage_line_amounts

Provider = Literal["shopify", "stripe"]

CUSTOMER_CODE_MAX = 17
EXTERNAL_REFERENCE_MAX = 20
_CODE_PREFIX: dict[str, str] = {"shopify": "SH", "stripe": "ST"}
_CODE_SAFE = re.compile(r"[^A-Za-z0-9]")


class TranslationError(ValueError):
    """A provider payload cannot become a correct neutral model.

    The message names the order or object, the field, the value and why, so that a person
    can fix the source (or the tolerance) and replay the event.
    """


class NotLinked(TranslationError):
    """A payment or refund names no order the bridge can find (yet)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _without_none(data: Any, key: str) -> Any:
    if isinstance(data, dict) and data.get(key) is None:
        data.pop(key, None)
    return data


class Address(_Frozen):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    country_code: str | None = None


class Party(_Frozen):
    """A customer. `provider_id is None` means a guest checkout (-> walk-in customer)."""

    provider_id: str | None = None
    email: str | None = None
    name: str = Field(min_length=1)
    company: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    address: Address | None = None
    vat_number: str | None = None
    # A French company's SIREN (9 digits) or SIRET (14): its Sage document type `01` and,
    # for e-invoicing, its routing address. Filled by the translators from B2B data.
    siret: str | None = None
    # The provider says the buyer pays no VAT on this sale (Shopify customer or company
    # location tax exemption, Stripe `customer_tax_exempt` "reverse"/"exempt").
    tax_exempt: bool = False
    # Shopify B2B: the order's company location (`gid://shopify/CompanyLocation/<id>`), whose
    # tax registration the sync reads through the GraphQL Admin API.
    company_location: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.provider_id is None

    @property
    def is_business(self) -> bool:
        """A company: named as one, or identified by a VAT id, a SIRET or a B2B location."""
        return bool(self.company or self.vat_number or self.siret or self.company_location)

    @property
    def country(self) -> str | None:
        """The buyer's country (ISO alpha-2, upper case) from its address, if known."""
        code = (self.address.country_code or "") if self.address else ""
        return code.upper() if len(code) == 2 else None

    @model_serializer(mode="wrap")
    def _omit_unset_business_data(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Dumps of consumers keep their shape: business fields appear only when set.
        data = handler(self)
        if isinstance(data, dict):
            _without_none(data, "company_location")
            if data.get("tax_exempt") is False:
                data.pop("tax_exempt")
        return data


def customer_code(provider: str, provider_id: str) -> str:
    """The stable Sage customer code for a provider customer (at most 17 characters).

    `SH` + the Shopify id (`SH7012345678901`), `ST` + the Stripe id without its `cus_`
    prefix; ids that do not fit (or carry other characters) become the prefix and a
    15-character hex digest of `provider:id`, which is deterministic and collision-safe
    in practice.

    Raises:
        ValueError: unknown provider or empty id.
    """
    prefix = _CODE_PREFIX.get(provider)
    if prefix is None:
        raise ValueError(f"customer_code: unknown provider {provider!r}")
    if not provider_id:
        raise ValueError("customer_code: empty provider id")
    short = provider_id.removeprefix("cus_") if provider == "stripe" else provider_id
    candidate = prefix + short
    if len(candidate) <= CUSTOMER_CODE_MAX and not _CODE_SAFE.search(short):
        return candidate
    digest = hashlib.sha256(f"{provider}:{provider_id}".encode()).hexdigest()
    return prefix + digest[: CUSTOMER_CODE_MAX - len(prefix)]


class LineKind(StrEnum):
    """What an invoice line is; the sync picks its Sage product by kind (`sync.products`).

    `product` lines use their SKU (else the fallback product of their VAT rate); every other
    kind uses its own configured product: shipping, rounding (the bridge's own cent line),
    duties (import duties collected for the customs of the destination), fees (additional
    fees an authority levies on the order), tip, gift_card (a gift card sold: money held
    for a later purchase, not revenue) and cash_rounding (a point-of-sale cash payment
    rounded to the nearest coin).
    """

    PRODUCT = "product"
    SHIPPING = "shipping"
    ROUNDING = "rounding"
    DUTIES = "duties"
    FEES = "fees"
    TIP = "tip"
    GIFT_CARD = "gift_card"
    CASH_ROUNDING = "cash_rounding"


class Line(_Frozen):
    """One Sage invoice line; `net`/`vat` are what Sage will compute for it.

    Build lines with `Line.build(...)`, which computes `net` and `vat`; direct construction
    validates that given `net`/`vat` match Sage's arithmetic.
    """

    kind: LineKind
    sku: str | None = None
    title: str
    quantity: Money
    unit_price: Money  # excl. VAT, shop currency, before the line discount
    discount_percent: Money = Field(default=ZERO, ge=0, le=100)
    vat_rate: Money = Field(ge=0, le=100)  # percent: Decimal("20") for 20 %
    net: Money
    vat: Money
    provider_line_id: str | None = None

    @classmethod
    def build(
        cls,
        *,
        kind: LineKind,
        title: str,
        quantity: Decimal,
        unit_price: Decimal,
        vat_rate: Decimal,
        discount_percent: Decimal = ZERO,
        sku: str | None = None,
        provider_line_id: str | None = None,
    ) -> Line:
        """A line whose `net`/`vat` come from `sage_line_amounts`."""
        net, vat = sage_line_amounts(quantity, unit_price, discount_percent, vat_rate)
        return cls(
            kind=kind,
            sku=sku,
            title=title,
            quantity=quantity,
            unit_price=unit_price,
            discount_percent=discount_percent,
            vat_rate=vat_rate,
            net=net,
            vat=vat,
            provider_line_id=provider_line_id,
        )

    @model_validator(mode="after")
    def _matches_sage(self) -> Line:
        net, vat = sage_line_amounts(
            self.quantity, self.unit_price, self.discount_percent, self.vat_rate
        )
        if (net, vat) != (self.net, self.vat):
            raise ValueError(
                f"line {self.title!r}: net/vat {self.net}/{self.vat} differ from Sage's "
                f"{net}/{vat} for {self.quantity} x {self.unit_price} "
                f"-{self.discount_percent}% at {self.vat_rate}%"
            )
        return self

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


class ShownMoney(_Frozen):
    """An amount in the currency the customer saw (a Markets order's presentment currency)."""

    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Presentment(_Frozen):
    """What the customer was charged, in the currency they saw (Shopify Markets).

    `total` is the order's total in `currency`, the counterpart of the order's shop-money
    `total`: their ratio converts the order's payments and refunds reported in this currency.
    """

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: Money = Field(gt=0)


class Order(_Frozen):
    """An order or a Stripe Billing invoice, ready to become one Sage sales invoice.

    `presentment` is set only when the customer paid in another currency than the shop's;
    it is left out of dumps when None, so single-currency snapshots keep their shape.
    """

    provider: Provider
    account: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    number: str
    reference: str = Field(min_length=1, max_length=250)  # Sage salesOrderNumber
    external_reference: str = Field(max_length=EXTERNAL_REFERENCE_MAX)
    source_number: str | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    date: dt.date
    customer: Party | None = None
    lines: list[Line]
    total: Money
    rounding: Money = ZERO
    taxes_included: bool = False
    gateways: list[str] = Field(default_factory=list)
    cancelled: bool = False
    fulfilled: bool = False
    paid: bool = False
    presentment: Presentment | None = None
    # Where the goods go (ISO alpha-2): the place of supply of an EU distance sale (OSS).
    # The customer's country unless the provider says otherwise; left out of dumps when it
    # is the customer's (so it is filled in again on load).
    ship_to_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    @model_validator(mode="before")
    @classmethod
    def _ship_to_customer(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("ship_to_country"):
            return data
        customer = data.get("customer")
        if isinstance(customer, dict):
            customer = Party.model_validate(customer)
        country = customer.country if isinstance(customer, Party) else None
        return {**data, "ship_to_country": country} if country else data

    @model_serializer(mode="wrap")
    def _omit_single_currency(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = _without_none(handler(self), "presentment")
        customer_country = self.customer.country if self.customer else None
        if isinstance(data, dict) and self.ship_to_country in (None, customer_country):
            # (filled in again from the customer on load: `_ship_to_customer`)
            data.pop("ship_to_country", None)
        return data

    @property
    def destination(self) -> str | None:
        """The country of the sale's place of supply: where it ships, else the customer's."""
        return self.ship_to_country

    @property
    def net_total(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat_total(self) -> Decimal:
        return sum((line.vat for line in self.lines), ZERO)

    @property
    def sage_total(self) -> Decimal:
        """Sage's `totalLiquid` for this order's lines."""
        return self.net_total + self.vat_total

    @model_validator(mode="after")
    def _totals_agree(self) -> Order:
        if self.sage_total != self.total:
            raise ValueError(
                f"order {self.reference}: lines sum to {self.sage_total}, total is {self.total}"
            )
        rounding = sum((ln.gross for ln in self.lines if ln.kind is LineKind.ROUNDING), ZERO)
        if rounding != self.rounding:
            raise ValueError(
                f"order {self.reference}: rounding {self.rounding} but rounding lines "
                f"sum to {rounding}"
            )
        return self


class Payment(_Frozen):
    """Money received for an order: becomes one Sage open-item settlement."""

    provider: Provider
    account: str = Field(min_length=1)
    provider_id: str = Field(min_length=1, max_length=50)  # settlement documentNumber
    order_reference: str = Field(min_length=1)
    amount: Money = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    gateway: str = Field(min_length=1)
    date: dt.date
    # True for a payment inferred from an order's paid status (Shopify `orders/paid`, which
    # carries no transaction): settle it only when the invoice has no settlement yet.
    fallback: bool = False
    # Markets: what the customer paid in their own currency when `amount` is the shop money
    # Shopify gave beside it (left out of dumps when None, like `Order.presentment`).
    shown: ShownMoney | None = None

    @model_serializer(mode="wrap")
    def _omit_single_currency(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_none(handler(self), "shown")


class RefundLine(_Frozen):
    """What a refund gives back for one order line (`amount` includes VAT).

    A line of a kind other than `product` with quantity 0 gives back an amount of the
    order's line of that kind (duties or fees refunded), credited as shipping is.
    """

    kind: LineKind
    sku: str | None = None
    provider_line_id: str | None = None
    quantity: Money = Field(ge=0)
    amount: Money


class Refund(_Frozen):
    """A refund or cancellation: becomes a Sage credit note (and money going back).

    `lines` and `shipping` say what is credited; `adjustments` is money given back that is
    tied to no line (positive = back to the customer); `amount` is the money actually
    returned by the refund's transactions (0 when none moved, e.g. a cancelled unpaid
    order); `full` asks to credit everything on the invoice that is not credited yet
    (a cancellation), so it stays right when line refunds were already credited.
    """

    provider: Provider
    account: str = Field(min_length=1)
    provider_id: str = Field(min_length=1)
    order_reference: str = Field(min_length=1)
    lines: list[RefundLine] = Field(default_factory=list)
    shipping: Money = ZERO
    adjustments: Money = ZERO
    amount: Money = ZERO
    full: bool = False
    date: dt.date
    gateways: list[str] = Field(default_factory=list)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    @property
    def credit_total(self) -> Decimal:
        """What its credit note comes to: the lines, shipping and adjustments (VAT incl.)."""
        return sum((line.amount for line in self.lines), ZERO) + self.shipping + self.adjustments


class EditedLine(_Frozen):
    """One line an order edit added or removed (`delta` of its quantity)."""

    provider_line_id: str = Field(min_length=1)
    quantity: Money = Field(gt=0)


class OrderEdit(_Frozen):
    """An edit of an order (Shopify `orders/edited`): the lines it added and removed.

    The amounts are not in the edit: the added lines are priced from the order as it is
    after the edit (its `orders/updated`), the removed ones at the invoiced prices.
    """

    provider: Provider
    provider_id: str = Field(min_length=1)  # the edit's id
    order_reference: str = Field(min_length=1)
    date: dt.date
    added: list[EditedLine] = Field(default_factory=list)
    removed: list[EditedLine] = Field(default_factory=list)
    shipping_added: list[str] = Field(default_factory=list)
    shipping_removed: list[str] = Field(default_factory=list)
