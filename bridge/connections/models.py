"""What a connection is, what a client may send to make or change one, and what is shown.

`ConnectionCreate` / `ConnectionUpdate` are the admin API's and the CLI's input (unknown
fields refused, every value checked); `StoredConnection` is the Redis record (secrets as
Fernet tokens); `ConnectionView` is what the API and the console show: secrets only as
"set" and a fingerprint, never their value.

A connection's `mapping` holds the per-connection subset of the settings (journals, payment
methods, products, numbering, invoice moment, currency, payout accounts), named as the
`Settings` fields they replace; what it leaves out comes from the environment.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)

from bridge.settings import InvoiceMoment, NumberingMode

DEFAULT = "default"  # the environment-only connection; not in the registry
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
SHOP_PATTERN = r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$"
ACCOUNT_PATTERN = r"^acct_[A-Za-z0-9]{1,64}$"
ORGANIZATION_PATTERN = r"^[A-Za-z0-9-]{1,64}$"  # a UUID; sent as the X-OrganizationId header


def _not_the_empty_guid(value: str) -> str:
    if value.strip("0-") == "":
        raise ValueError(
            "the empty GUID is what Sage lists for an organisation that is not READY and "
            "onboarded (2026-07): finish its set-up in Sage Active and use the id it then shows"
        )
    return value


OrganizationId = Annotated[
    str, StringConstraints(pattern=ORGANIZATION_PATTERN), AfterValidator(_not_the_empty_guid)
]

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Secret = Annotated[SecretStr, Field(min_length=8, max_length=512)]


class Source(StrEnum):
    SHOPIFY = "shopify"
    STRIPE = "stripe"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class ConnectionMapping(_Strict):
    """Per-connection settings; each field replaces the `Settings` field of the same name."""

    numbering: NumberingMode | None = None
    invoice_on: InvoiceMoment | None = None
    start_date: dt.date | None = None  # the go-live date (BRIDGE_START_DATE)
    payment_methods: dict[Code, Code] | None = None
    sales_journal_code: Code | None = None
    shipping_product_code: Code | None = None
    rounding_product_code: Code | None = None
    duties_product_code: Code | None = None
    fees_product_code: Code | None = None
    tip_product_code: Code | None = None
    gift_card_product_code: Code | None = None
    cash_rounding_product_code: Code | None = None
    fallback_products: dict[Code, Code] | None = None
    walkin_customer_code: Code | None = None
    rounding_tolerance: Decimal | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    shop_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    stripe_unlinked_parks: int | None = Field(default=None, ge=0, le=10)
    payout_bank_account: Code | None = None
    clearing_accounts: dict[Code, Code] | None = None
    fees_account: Code | None = None
    customers_account: Code | None = None
    bank_journal_code: Code | None = None

    def overrides(self) -> dict[str, Any]:
        """The fields that are set, as `Settings` field values."""
        return self.model_dump(exclude_none=True)


class ConnectionSecrets(_Strict):
    """Secrets given when a connection is made or changed (all write-only)."""

    webhook_secrets: list[Secret] | None = Field(
        default=None, min_length=1, max_length=5, description="Several during a rotation."
    )
    sage_refresh_token: Secret | None = None
    shopify_access_token: Secret | None = None
    stripe_api_key: Secret | None = None


class ConnectionCreate(_Strict):
    name: Name
    source: Source
    shop_domain: Annotated[str, StringConstraints(pattern=SHOP_PATTERN, max_length=255)] | None = (
        None
    )
    stripe_account: Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN)] | None = None
    sage_organization_id: OrganizationId
    mapping: ConnectionMapping = Field(default_factory=ConnectionMapping)
    secrets: ConnectionSecrets
    enabled: bool = True

    @model_validator(mode="after")
    def _coherent(self) -> ConnectionCreate:
        if self.name == DEFAULT:
            raise ValueError("'default' is the environment's connection; choose another name")
        if self.source is Source.SHOPIFY and not self.shop_domain:
            raise ValueError("a Shopify connection needs shop_domain (e.g. shop.myshopify.com)")
        if self.source is Source.SHOPIFY and self.stripe_account:
            raise ValueError("stripe_account is for Stripe connections")
        if self.source is Source.STRIPE and self.shop_domain:
            raise ValueError("shop_domain is for Shopify connections")
        if not self.secrets.webhook_secrets:
            raise ValueError("secrets.webhook_secrets: at least one webhook signing secret")
        return self


class ConnectionUpdate(_Strict):
    """A change: fields given replace the stored ones; `mapping` is merged key by key."""

    shop_domain: Annotated[str, StringConstraints(pattern=SHOP_PATTERN, max_length=255)] | None = (
        None
    )
    stripe_account: Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN)] | None = None
    sage_organization_id: OrganizationId | None = None
    mapping: ConnectionMapping | None = None
    secrets: ConnectionSecrets | None = None
    enabled: bool | None = None


class StoredConnection(BaseModel):
    """The Redis record of a connection (secrets as Fernet tokens)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    source: Source
    shop_domain: str | None = None
    stripe_account: str | None = None
    sage_organization_id: str
    mapping: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, list[str]] = Field(default_factory=dict)  # name -> tokens
    fingerprints: dict[str, list[str]] = Field(default_factory=dict)
    enabled: bool = True
    created_at: str
    updated_at: str


class SecretView(BaseModel):
    set: bool
    fingerprints: list[str] = Field(default_factory=list)


class ConnectionView(BaseModel):
    """What is shown of a connection: never a secret's value."""

    name: str
    source: Source
    shop_domain: str | None
    stripe_account: str | None
    webhook_path: str
    sage_organization_id: str
    mapping: dict[str, Any]
    secrets: dict[str, SecretView]
    enabled: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, stored: StoredConnection) -> ConnectionView:
        names = ConnectionSecrets.model_fields
        secrets = {
            name: SecretView(
                set=bool(stored.secrets.get(name)), fingerprints=stored.fingerprints.get(name, [])
            )
            for name in names
        }
        path = f"/webhooks/{stored.source.value}"
        if stored.source is Source.STRIPE:
            path += f"/{stored.name}"
        return cls(
            webhook_path=path,
            secrets=secrets,
            **stored.model_dump(exclude={"secrets", "fingerprints"}),
        )


def valid_name(name: str) -> bool:
    return bool(re.fullmatch(NAME_PATTERN, name))
