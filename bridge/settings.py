"""The bridge's configuration: one `Settings` object, built once at start and passed in.

This is the only module that reads the environment (and `.env`); the `SAGE_*` variables
are its nested `sage` model (`bridge.sage_settings`), read flat by the same sources. Every
other module takes the values it needs as arguments. Secrets are `SecretStr` so they never
end up in a log line or a repr; secrets that may be rotated hold several values, given
comma-separated.

Names follow DESIGN.md section 3: the `SAGE_*`, `SHOPIFY_*`, `STRIPE_*`, `REDIS_URL`,
`SENTRY_DSN` variables keep their names; bridge-specific knobs are prefixed `BRIDGE_`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bridge.outbound.subscription_spec import subscription_problem
from bridge.sage_settings import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    FlatSageSource,
    SageSettings,
    nest_flat,
    split_flat,
)

__all__ = [  # the sandbox's credentials and the Sage settings are also read from here
    "SANDBOX_API_KEY",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "SageSettings",
    "Settings",
    "load_settings",
]

# The seeded sandbox organisation uses these names; a real organisation will usually need
# its own (see README, "Going to production").
DEFAULT_PAYMENT_METHODS: dict[str, str] = {
    "stripe": "Stripe",
    "shopify_payments": "Shopify Payments",
    "paypal": "PayPal",
    "gift_card": "Gift cards",
    "manual": "Bank transfer",
    "bank_transfer": "Bank transfer",
    # the part of a Stripe invoice paid from the customer's credit balance
    "stripe_customer_balance": "Stripe customer balance",
}
DEFAULT_FALLBACK_PRODUCTS: dict[str, str] = {
    "20": "GEN-20",
    "10": "GEN-10",
    "5.5": "GEN-5.5",
    "2.1": "GEN-2.1",
    "0": "GEN-0",
}

DEFAULT_CLEARING_ACCOUNTS: dict[str, str] = {
    "stripe": "511500000",
    "shopify_payments": "511600000",
}


class FeeSupplier(BaseModel):
    """A payment processor as the supplier of its monthly fee invoice (`bridge close-month`)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=17, description="Sage supplier code.")
    name: str = Field(min_length=1, max_length=70, description="Sage `socialName`.")
    country: str = Field(default="IE", pattern="^[A-Z]{2}$", description="ISO 3166 alpha-2.")
    vat_number: str | None = Field(default=None, max_length=25, description="EU VAT number.")
    address: str | None = Field(default=None, max_length=35)
    city: str | None = Field(default=None, max_length=35)
    zip_code: str | None = Field(default=None, max_length=9)


# Both processors invoice EU merchants from Ireland (a reverse-charge service). Their VAT
# numbers are on their invoices: set them in BRIDGE_FEE_SUPPLIERS.
DEFAULT_FEE_SUPPLIERS: dict[str, dict[str, str]] = {
    "stripe": {
        "code": "STRIPE",
        "name": "Stripe Payments Europe, Ltd.",
        "address": "1 Grand Canal Street Lower",
        "city": "Dublin 2",
        "zip_code": "D02 H210",
    },
    "shopify_payments": {
        "code": "SHOPIFY",
        "name": "Shopify International Limited",
        "address": "Victoria Buildings, Haddington Rd",
        "city": "Dublin 4",
        "zip_code": "D04 XN32",
    },
}


class NumberingMode(StrEnum):
    """Who numbers the invoice of a Shopify order (a Stripe invoice keeps Stripe's, always)."""

    SAGE = "sage"  # Sage assigns the invoice number on close
    SOURCE = "source"  # the order's number is kept (invoice created Closed)


class EInvoiceAddressType(StrEnum):
    """The routing address type given to French business customers (Sage's values)."""

    SIREN = "fr.siren"
    SIRENSIRET = "fr.sirensiret"


class EInvoiceSource(StrEnum):
    """Where a customer's SIREN is found (see `bridge.einvoice.routing`)."""

    SIRET = "siret"
    VAT_NUMBER = "vat_number"


class EInvoiceNature(StrEnum):
    GOODS = "goods"
    SERVICES = "services"


# Sage product categories (`products.category`) and what they sell, for the framework.
DEFAULT_EINVOICE_PRODUCT_TYPES: dict[str, EInvoiceNature] = {
    "PRODUCT": EInvoiceNature.GOODS,
    "SERVICE": EInvoiceNature.SERVICES,
    "FEE": EInvoiceNature.SERVICES,
    "CONCEPT": EInvoiceNature.SERVICES,
}


class WalkinBy(StrEnum):
    """Which walk-in customer a guest checkout goes to (see `bridge.sync.customers`)."""

    COUNTRY = "country"
    ZONE = "zone"
    SINGLE = "single"


class Environment(StrEnum):
    """What the deployment is: production refuses the sandbox (`production_problems`)."""

    DEVELOPMENT = "development"
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class InvoiceMoment(StrEnum):
    ORDER = "order"
    PAYMENT = "payment"
    FULFILMENT = "fulfilment"


ENV_FILE_VARIABLE = "BRIDGE_ENV_FILE"


def env_file() -> str | None:
    """The dotenv file the settings read: `.env` (in the working directory) unless
    `BRIDGE_ENV_FILE` names another one; set it empty to read none (the test suite does,
    so that a developer's `.env` cannot change what the tests see)."""
    return os.environ.get(ENV_FILE_VARIABLE, ".env") or None


def _split_secrets(value: Any) -> Any:
    """`"a,b"` -> `["a", "b"]`; lists pass through; empty -> `[]`."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of the bridge. See the README's configuration table."""

    model_config = SettingsConfigDict(
        env_file=env_file(),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # an error message must not print a secret
        # `.env`'s other lines are not passed on (`sage_timeout` there is `sage.timeout`'s).
        dotenv_filtering="only_existing",
    )

    # --- infrastructure -------------------------------------------------------------
    redis_url: str | None = Field(
        default=None,
        validation_alias="REDIS_URL",
        description=(
            "Redis for state, broker and metrics: `redis://`, `rediss://` (TLS) or "
            "`redis+sentinel://host:port[,host:port]/<master>/<db>` (docs/operations.md, "
            "Production Redis)."
        ),
    )
    sentry_dsn: SecretStr | None = Field(
        default=None,
        validation_alias="SENTRY_DSN",
        description=(
            "Sentry DSN: errors of the web app and the workers are reported there (secrets "
            "scrubbed); unset: off."
        ),
    )
    sentry_environment: str = Field(
        default="development",
        validation_alias="SENTRY_ENVIRONMENT",
        description="The environment name Sentry files the reports under.",
    )
    connection: str = Field(
        default="default",
        validation_alias="BRIDGE_CONNECTION",
        description="Namespace of this shop/organisation pair in Redis keys.",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
    )
    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        validation_alias="BRIDGE_ENV",
        description="development, sandbox or production: production refuses to start "
        "without a real Sage Active (SAGE_API_URL over https, not the sandbox).",
    )
    web_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=256,
        validation_alias="WEB_CONCURRENCY",
        description="gunicorn processes of `bridge web` (default: 2 per CPU it may use).",
    )
    dev_state_dir: str = Field(
        default=".bridge",
        validation_alias="BRIDGE_DEV_STATE_DIR",
        description="Where `bridge dev` keeps its state, and where the operator commands "
        "look for a running one when REDIS_URL is not set.",
    )
    log_json: bool = Field(
        default=True,
        validation_alias="BRIDGE_LOG_JSON",
        description="Log lines as JSON objects (`true`) or as plain text.",
    )
    log_level: str = Field(
        default="INFO",
        validation_alias="BRIDGE_LOG_LEVEL",
        description="Lowest level logged (DEBUG, INFO, WARNING, ERROR).",
    )

    # --- Sage Active ----------------------------------------------------------------
    sage: SageSettings = Field(
        default_factory=lambda: SageSettings(),
        description="The `SAGE_*` variables (see `SageSettings`), read flat from the "
        "environment: `SAGE_TIMEOUT` is `sage.timeout`.",
    )
    # Circuit breaker and "needs login" gate (bridge/ops/gates.py).
    sage_probe_interval: float = Field(
        default=5.0,
        gt=0,
        validation_alias="BRIDGE_SAGE_PROBE_INTERVAL",
        description=(
            "Seconds between a worker's gate probes (token retried while Sage needs a login; "
            "held events released)."
        ),
    )

    # --- providers ------------------------------------------------------------------
    shopify_webhook_secret: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias="SHOPIFY_WEBHOOK_SECRET",
        description="Shopify HMAC key.",
    )
    stripe_webhook_secret: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias="STRIPE_WEBHOOK_SECRET",
        description="Stripe `whsec_` key.",
    )
    stripe_tolerance: int = Field(
        default=300,
        gt=0,
        validation_alias="STRIPE_TOLERANCE",
        description="Seconds a Stripe signature may be off, both ways.",
    )
    stripe_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="STRIPE_API_KEY",
        description=(
            "`bridge backfill` reads Stripe's event log; the worker reads the line items of "
            "Checkout Sessions (needed to book Checkout sales), the session of a payment that "
            "names no order, the credit notes of an invoice (to recognise a refund a credit "
            "note made), and payouts with their balance transactions. A restricted key with "
            "read access to Checkout Sessions, Invoices, Credit Notes, Events, Payouts and "
            "Balance transactions is enough."
        ),
    )
    shopify_shop_domain: str | None = Field(
        default=None,
        validation_alias="SHOPIFY_SHOP_DOMAIN",
        description=(
            "The environment connection's shop (`<shop>.myshopify.com`): only its webhooks are "
            "accepted once set; the backfill, write-back and Shopify Payments payouts read it."
        ),
    )
    shopify_access_token: SecretStr | None = Field(
        default=None,
        validation_alias="SHOPIFY_ACCESS_TOKEN",
        description=(
            "An Admin API access token of that shop for the GraphQL Admin API (scopes "
            "`read_orders`, `read_all_orders` for windows older than 60 days, `write_orders` "
            "for write-back, `read_shopify_payments_payouts` for payouts)."
        ),
    )
    # Where the backfill reads the providers' APIs (overridable for a proxy or a test double).
    stripe_api_url: str = Field(
        default="https://api.stripe.com",
        validation_alias="STRIPE_API_URL",
        description="Where Stripe's REST API is read (a proxy or a test double).",
    )
    shopify_api_url: str | None = Field(
        default=None,
        validation_alias="SHOPIFY_API_URL",
        description=(
            "Where Shopify's Admin API is reached instead of `https://<shop>` (a proxy or a "
            "test double)."
        ),
    )
    shopify_api_version: str = Field(
        default="2026-10",
        pattern=r"^\d{4}-\d{2}$",
        validation_alias="SHOPIFY_API_VERSION",
        description=(
            "Admin API version of the bridge's calls (and the one to subscribe webhooks in)."
        ),
    )
    # Above this many orders in its window, the backfill reads Shopify with a bulk operation.
    shopify_bulk_threshold: int = Field(
        default=2000,
        ge=0,
        validation_alias="SHOPIFY_BULK_THRESHOLD",
        description=(
            "A backfill window with more orders than this is read with one bulk operation "
            "instead of pages."
        ),
    )
    # Mark a Shopify order paid when someone else collected its invoice (`bridge.poller.writeback`).
    shopify_write_back: bool = Field(
        default=False,
        validation_alias="BRIDGE_SHOPIFY_WRITE_BACK",
        description=(
            "Mark a Shopify order paid (`orderMarkAsPaid`) when its invoice is collected in "
            "Sage outside the bridge (needs `write_orders`)."
        ),
    )
    # 8 MiB: a 500-line B2B order with every `*_set` field is 1.2 MiB, 2.3 MiB once fulfilled
    # (the fulfillment repeats the lines); `bench/webhook_size.py` measures it.
    webhook_max_body: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        validation_alias="BRIDGE_MAX_BODY",
        description=(
            "Largest webhook body (bytes; 8 MiB: a 500-line B2B order is 1.2 MiB, 2.3 MiB "
            "fulfilled)."
        ),
    )
    redis_min_replicas: int = Field(
        default=0,
        ge=0,
        validation_alias="BRIDGE_REDIS_MIN_REPLICAS",
        description="Replicas that must hold a webhook (Redis WAIT) before the ingress "
        "acknowledges it: 1 with a Sentinel set, so a failover loses no acknowledged webhook.",
    )
    redis_replica_timeout: float = Field(
        default=1.0,
        gt=0,
        validation_alias="BRIDGE_REDIS_REPLICA_TIMEOUT",
        description="Seconds the ingress waits for those replicas before answering 503.",
    )
    read_header_timeout: float = Field(
        default=10.0,
        gt=0,
        validation_alias="BRIDGE_READ_HEADER_TIMEOUT",
        description="Seconds a client of `bridge web` has to send a request's line and headers "
        "(408 and close after that); slow clients never hold a gunicorn thread.",
    )
    read_body_timeout: float = Field(
        default=30.0,
        gt=0,
        validation_alias="BRIDGE_READ_BODY_TIMEOUT",
        description="Seconds a client of `bridge web` has to send a request's whole body "
        "(408 and close after that).",
    )

    # --- bridge behaviour ------------------------------------------------------------
    admin_token: SecretStr | None = Field(
        default=None,
        validation_alias="BRIDGE_ADMIN_TOKEN",
        description="Admin API and console; both off without it.",
    )
    secure_cookies: bool | None = Field(
        default=None,
        validation_alias="BRIDGE_SECURE_COOKIES",
        description="The console's session cookie is `Secure` (sent over HTTPS only): true, "
        "false, or unset: always outside BRIDGE_ENV=development, and there for every host "
        "but a loopback one.",
    )
    poll_interval: float = Field(
        default=30.0,
        gt=0,
        validation_alias="BRIDGE_POLL_INTERVAL",
        description="Seconds between two polls of Sage for invoice status changes.",
    )
    poll_overlap: float = Field(
        default=120.0,
        ge=0,
        validation_alias="BRIDGE_POLL_OVERLAP",
        description=(
            "Seconds each poll looks back before the last one, so changes Sage dates late are "
            "not missed."
        ),
    )
    poll_all_invoices: bool = Field(
        default=False,
        validation_alias="BRIDGE_POLL_ALL",
        description="Watch every Sage invoice, not only the bridge's.",
    )
    # The reconciliation job: a backfill of the last `reconcile_window` s, every interval.
    reconcile_interval: float = Field(
        default=3600.0,
        ge=0,
        validation_alias="BRIDGE_RECONCILE_INTERVAL",
        description=(
            "Seconds between two runs of the reconciliation job, a backfill of the last window "
            "(`0`: off); scheduled only when a provider API is configured."
        ),
    )  # 0 = off
    reconcile_window: float = Field(
        default=172_800.0,
        gt=0,
        validation_alias="BRIDGE_RECONCILE_WINDOW",
        description="Seconds of provider history each reconciliation run reads again.",
    )
    outbound_allow_private: bool = Field(
        default=False,
        validation_alias="BRIDGE_OUTBOUND_ALLOW_PRIVATE",
        description="Allow subscriber URLs on private/loopback addresses and plain http.",
    )
    outbound_timeout: float = Field(
        default=15.0,
        gt=0,
        validation_alias="BRIDGE_OUTBOUND_TIMEOUT",
        description="Seconds per delivery attempt phase.",
    )
    outbound_subscriptions: list[dict[str, Any]] = Field(
        default_factory=list,
        validation_alias="BRIDGE_SUBSCRIPTIONS",
        description='JSON list of {"url", "event_types", "secret"} created at start.',
    )
    event_retention_days: float = Field(
        default=35.0,
        gt=0,
        validation_alias="BRIDGE_EVENT_RETENTION_DAYS",
        description="Processed/ignored events are kept this long (> Stripe's 30-day redelivery).",
    )
    outbound_retention_days: float = Field(
        default=30.0,
        gt=0,
        validation_alias="BRIDGE_OUTBOUND_RETENTION_DAYS",
        description="Outbound events, deliveries and attempts are kept this long after their "
        "last change (keep it above the ~28 h retry schedule).",
    )
    link_retention_days: float = Field(
        default=400.0,
        gt=0,
        validation_alias="BRIDGE_LINK_RETENTION_DAYS",
        description="Order/payment/refund links and settled invoice statuses are kept this "
        "long after their last change (longer than any refund window).",
    )
    worker_heartbeat_ttl: float = Field(
        default=30.0,
        ge=3,
        le=600,
        validation_alias="BRIDGE_WORKER_HEARTBEAT_TTL",
        description="A worker silent this long (s) is dead: its events are re-sent at once.",
    )

    # --- mapping ----------------------------------------------------------------------
    numbering: NumberingMode = Field(
        default=NumberingMode.SAGE,
        validation_alias="BRIDGE_NUMBERING",
        description=(
            "`sage`: Sage numbers the invoices of Shopify orders; `source`: they keep the "
            "order's number. A Stripe Billing invoice always keeps Stripe's number (it was "
            "already issued under it)."
        ),
    )
    invoice_on: InvoiceMoment = Field(
        default=InvoiceMoment.ORDER,
        validation_alias="BRIDGE_INVOICE_ON",
        description="Invoice on `order`, `payment` or `fulfilment`.",
    )
    start_date: dt.date | None = Field(
        default=None,
        validation_alias="BRIDGE_START_DATE",
        description="Go-live date (YYYY-MM-DD): orders dated before it are never invoiced; "
        "their payments and refunds are ignored and listed to book by hand.",
    )
    payment_methods: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PAYMENT_METHODS),
        validation_alias="BRIDGE_PAYMENT_METHODS",
        description="JSON: provider gateway -> Sage paymentMethod referenceName.",
    )
    sales_journal_code: str = Field(
        default="VT", validation_alias="BRIDGE_SALES_JOURNAL", description="Sales journal code."
    )
    shipping_product_code: str = Field(
        default="SHIPPING",
        validation_alias="BRIDGE_SHIPPING_PRODUCT",
        description="Product code of shipping lines.",
    )
    rounding_product_code: str = Field(
        default="ROUNDING",
        validation_alias="BRIDGE_ROUNDING_PRODUCT",
        description=(
            "Product code of the rounding line (the cents between the order and what Sage "
            "computes)."
        ),
    )
    # Lines that are not product sales (Shopify Markets and retail), each on its own product.
    duties_product_code: str = Field(
        default="DUTIES",
        validation_alias="BRIDGE_DUTIES_PRODUCT",
        description="Product code of Shopify duties (0 % VAT: what the customer paid for them).",
    )
    fees_product_code: str = Field(
        default="FEES",
        validation_alias="BRIDGE_FEES_PRODUCT",
        description="Product code of Shopify additional fees (0 % VAT).",
    )
    tip_product_code: str = Field(
        default="TIP",
        validation_alias="BRIDGE_TIP_PRODUCT",
        description="Product code of tips (0 % VAT: not a sale).",
    )
    gift_card_product_code: str = Field(
        default="GIFT-CARD",
        validation_alias="BRIDGE_GIFT_CARD_PRODUCT",
        description=(
            "Product code of gift cards sold (0 %: a liability until redeemed, so map it to a "
            "4xx account)."
        ),
    )
    cash_rounding_product_code: str = Field(
        default="ROUNDING",
        validation_alias="BRIDGE_CASH_ROUNDING_PRODUCT",
        description="Product code of cash rounding (0 %).",
    )
    fallback_products: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_FALLBACK_PRODUCTS),
        validation_alias="BRIDGE_FALLBACK_PRODUCTS",
        description="JSON: VAT rate (percent) -> Sage product code used when a SKU has no match.",
    )
    walkin_customer_code: str = Field(
        default="WALKIN",
        validation_alias="BRIDGE_WALKIN_CUSTOMER",
        description="Customer of guest checkouts at home.",
    )
    # French e-invoicing (docs/einvoicing.md): used only while the organisation's
    # registration with Sage's platform (`organizationEInvoiceSetupByOrgId`) is Accepted.
    einvoice: bool = Field(
        default=True,
        validation_alias="BRIDGE_EINVOICE",
        description="Send French B2B invoices electronically when the organisation is "
        "registered (false: never mark an invoice for e-invoicing).",
    )
    einvoice_address_type: EInvoiceAddressType = Field(
        default=EInvoiceAddressType.SIREN,
        validation_alias="BRIDGE_EINVOICE_ADDRESS_TYPE",
        description="Routing address written on French business customers: fr.siren (the "
        "company) or fr.sirensiret (the establishment, when a SIRET is known).",
    )
    einvoice_address_sources: Annotated[list[EInvoiceSource], NoDecode] = Field(
        default_factory=lambda: [EInvoiceSource.SIRET, EInvoiceSource.VAT_NUMBER],
        validation_alias="BRIDGE_EINVOICE_ADDRESS_SOURCES",
        description="Where the customer's SIREN is read, in order (comma-separated): siret "
        "(the SIREN/SIRET the order carries), vat_number (a French VAT number FRkk+SIREN).",
    )
    einvoice_product_types: dict[str, EInvoiceNature] = Field(
        default_factory=lambda: dict(DEFAULT_EINVOICE_PRODUCT_TYPES),
        validation_alias="BRIDGE_EINVOICE_PRODUCT_TYPES",
        description="JSON: Sage product category -> goods | services; gives the invoice's "
        "regulatoryBillingFramework (goods B1, services S1, both M1).",
    )
    # --- sales across borders and to businesses (bridge/sync/taxes.py, docs/accounting.md)
    walkin_by: WalkinBy = Field(
        default=WalkinBy.COUNTRY,
        validation_alias="BRIDGE_WALKIN_BY",
        description="Guests' walk-in customers: `country` (WALKIN at home, WALKIN-<CC> "
        "abroad), `zone` (WALKIN, WALKIN-EU, WALKIN-WORLD) or `single` (WALKIN for all).",
    )
    oss_products: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="BRIDGE_OSS_PRODUCTS",
        description='JSON: "<destination>:<rate>" (e.g. "DE:19") -> the Sage product of EU '
        "distance sales charged at that destination's rate (OSS).",
    )
    intra_eu_product_code: str = Field(
        default="INTRA-EU",
        validation_alias="BRIDGE_INTRA_EU_PRODUCT",
        description="Sage product of intra-EU business sales at 0 % (intra-community tax "
        "treatment, reverse charge).",
    )
    reverse_charge_mention: str | None = Field(
        default=None,
        max_length=1000,
        validation_alias="BRIDGE_REVERSE_CHARGE_MENTION",
        description="Mention printed on intra-EU reverse-charge invoices (default: the "
        "legal wording of the organisation's legislation).",
    )
    shopify_vat_attributes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["vat_number", "vat number", "vat_id", "vat id", "tva", "tax_id"],
        validation_alias="BRIDGE_SHOPIFY_VAT_ATTRIBUTES",
        description="Comma-separated names of Shopify note attributes holding a buyer's VAT id.",
    )
    shopify_siret_attributes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["siret"],
        validation_alias="BRIDGE_SHOPIFY_SIRET_ATTRIBUTES",
        description="Comma-separated names of Shopify note attributes holding a SIREN/SIRET.",
    )
    rounding_tolerance: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        validation_alias="BRIDGE_ROUNDING_TOLERANCE",
        description="Largest rounding line before an order is stopped.",
    )
    shop_currency: str = Field(
        default="EUR",
        validation_alias="BRIDGE_SHOP_CURRENCY",
        description="The shop's (and Sage's) currency.",
    )
    stripe_unlinked_parks: int = Field(
        default=3,
        ge=0,
        le=10,
        validation_alias="BRIDGE_STRIPE_UNLINKED_PARKS",
        description="Times a Stripe payment linked to nothing is parked (5 s, 15 s, 1 min...) "
        "waiting for its invoice payment before it is ignored as unlinked.",
    )
    # --- payouts (bridge/payouts): a French chart of accounts by default -------------
    payout_bank_account: str = Field(
        default="512000000",
        validation_alias="BRIDGE_BANK_ACCOUNT",
        description="Payouts: the bank account debited.",
    )
    clearing_accounts: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CLEARING_ACCOUNTS),
        validation_alias="BRIDGE_CLEARING_ACCOUNTS",
        description="JSON: processor (stripe, shopify_payments) -> its clearing account.",
    )
    fees_account: str = Field(
        default="627000000",
        validation_alias="BRIDGE_FEES_ACCOUNT",
        description="Payouts: processor fees.",
    )
    customers_account: str = Field(
        default="411000000",
        validation_alias="BRIDGE_CUSTOMERS_ACCOUNT",
        description="Payouts: refunds and disputes, with the customer's code.",
    )
    bank_journal_code: str = Field(
        default="BQ",
        validation_alias="BRIDGE_BANK_JOURNAL",
        description="Payouts: the FINANCIAL journal of the entry.",
    )
    # --- operator alerts by e-mail and chat (bridge/ops/notify.py) ----------------------
    alert_smtp_host: str | None = Field(
        default=None,
        validation_alias="BRIDGE_ALERT_SMTP_HOST",
        description="SMTP server of the alert e-mails (unset: no e-mail).",
    )
    alert_smtp_port: int = Field(
        default=587,
        ge=1,
        le=65535,
        validation_alias="BRIDGE_ALERT_SMTP_PORT",
        description="SMTP port (587 STARTTLS, 465 TLS, 25 plain).",
    )
    alert_smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        validation_alias="BRIDGE_ALERT_SMTP_TLS",
        description="starttls (upgrade after connecting), ssl (TLS from the start) or none.",
    )
    alert_smtp_user: str | None = Field(
        default=None, validation_alias="BRIDGE_ALERT_SMTP_USER", description="SMTP login."
    )
    alert_smtp_password: SecretStr | None = Field(
        default=None, validation_alias="BRIDGE_ALERT_SMTP_PASSWORD", description="SMTP password."
    )
    alert_email_from: str | None = Field(
        default=None, validation_alias="BRIDGE_ALERT_EMAIL_FROM", description="Sender address."
    )
    alert_email_to: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="BRIDGE_ALERT_EMAIL_TO",
        description="Recipients, comma-separated.",
    )
    alert_chat_webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias="BRIDGE_ALERT_CHAT_WEBHOOK_URL",
        description='Slack-compatible incoming webhook: alerts POSTed as {"text": ...}.',
    )
    alert_digest: Literal["off", "daily"] = Field(
        default="off",
        validation_alias="BRIDGE_ALERT_DIGEST",
        description="daily: dead letters and attention items in one message a day "
        "(needs-login and circuit alerts still go at once).",
    )
    alert_digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        validation_alias="BRIDGE_ALERT_DIGEST_HOUR",
        description="Hour (UTC) the daily digest is sent.",
    )
    alert_console_url: str | None = Field(
        default=None,
        validation_alias="BRIDGE_ALERT_CONSOLE_URL",
        description="The console's public base URL, for links in alerts "
        "(e.g. https://bridge.example.com).",
    )

    # --- month end (bridge/month): fee invoices and bank reconciliation ---------------
    fee_invoices: bool = Field(
        default=False,
        validation_alias="BRIDGE_FEE_INVOICES",
        description="Processors' fees as monthly supplier invoices: payout entries leave the "
        "fees on the clearing account, `bridge close-month` invoices and settles them. Off: "
        "fees go to BRIDGE_FEES_ACCOUNT.",
    )
    fee_suppliers: dict[str, FeeSupplier] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_FEE_SUPPLIERS.items()},
        validate_default=True,
        validation_alias="BRIDGE_FEE_SUPPLIERS",
        description="JSON: processor -> its supplier (code, name, country, vat_number, "
        "address, city, zip_code); created in Sage when missing.",
    )
    suppliers_account: str = Field(
        default="401000000",
        validation_alias="BRIDGE_SUPPLIERS_ACCOUNT",
        description="The suppliers' collective account (a supplier's balance is read there).",
    )
    purchase_journal_code: str = Field(
        default="HA",
        validation_alias="BRIDGE_PURCHASE_JOURNAL",
        description="PURCHASE_INVOICE journal the fee invoices are posted in.",
    )
    fee_tax_treatment: str = Field(
        default="C0037",
        validation_alias="BRIDGE_FEE_TAX_TREATMENT",
        description="taxCode of the reverse-charge treatment for services bought in the EU.",
    )
    fee_vat_rate: Decimal | None = Field(
        default=None,
        ge=0,
        le=100,
        validation_alias="BRIDGE_FEE_VAT_RATE",
        description="VAT rate (percent) self-assessed on the fees; default: the organisation's "
        "legislation's standard rate (FR 20, ES 21, DE 19).",
    )
    close_month_day: int = Field(
        default=3,
        ge=0,
        le=28,
        validation_alias="BRIDGE_CLOSE_MONTH_DAY",
        description="Beat closes the previous month from this day of the month on (0: never).",
    )
    payout_bank_accounts: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="BRIDGE_PAYOUT_BANK_ACCOUNTS",
        description="JSON: processor -> the bank account its payouts reach (default "
        "BRIDGE_BANK_ACCOUNT).",
    )
    bank_reconcile: bool = Field(
        default=True,
        validation_alias="BRIDGE_BANK_RECONCILE",
        description="Reconcile each booked payout with its bank movement (Sage bank feed).",
    )
    bank_match_days: int = Field(
        default=5,
        ge=0,
        le=60,
        validation_alias="BRIDGE_BANK_MATCH_DAYS",
        description="A movement matches a payout when posted up to this many days after "
        "its arrival date.",
    )
    bank_wait_days: int = Field(
        default=10,
        ge=0,
        le=120,
        validation_alias="BRIDGE_BANK_WAIT_DAYS",
        description="Days after the arrival date the bridge keeps looking for the movement, "
        "then reports 'payout not seen in the bank'.",
    )
    month_end_interval: float = Field(
        default=3600.0,
        ge=0,
        validation_alias="BRIDGE_MONTH_END_INTERVAL",
        description="Seconds between beat runs of the month-end job (bank, close); 0: off.",
    )
    # --- many connections (bridge/connections) ------------------------------------------
    secret_key: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias="BRIDGE_SECRET_KEY",
        description="Fernet keys of connection secrets: encrypt with the first, decrypt with any.",
    )
    connection_max_in_flight: int = Field(
        default=24,
        ge=1,
        le=1000,
        validation_alias="BRIDGE_CONNECTION_MAX_IN_FLIGHT",
        description="Events of one connection handed to Celery and not finished, at most.",
    )
    connection_rate_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        validation_alias="BRIDGE_CONNECTION_RATE_SHARE",
        description="Share of the app's Sage rate limit one registered connection may use.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `sage`'s fields are read flat (SAGE_TIMEOUT), each with its own source's priority.
        flat = [
            FlatSageSource(settings_cls, source)
            for source in (env_settings, dotenv_settings)
            if isinstance(source, EnvSettingsSource)
        ]
        return init_settings, *flat, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="before")
    @classmethod
    def _nest_sage(cls, data: Any) -> Any:
        # `Settings(SAGE_TIMEOUT=5)` and `Settings(sage_timeout=5)` set `sage.timeout`.
        return nest_flat(data) if isinstance(data, dict) else data

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """`BaseModel.model_copy`; a flat Sage key of `update` (`sage_organization_id`)
        updates `sage` (not validated either)."""
        if update:
            rest, flat = split_flat(update)
            if flat:
                rest["sage"] = rest.get("sage", self.sage).model_copy(update=flat)
            update = rest
        return super().model_copy(update=update, deep=deep)

    @field_validator("alert_email_to", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("shopify_vat_attributes", "shopify_siret_attributes", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        names = _split_secrets(value)
        return [str(name).strip().lower() for name in names] if isinstance(names, list) else names

    @field_validator("shopify_webhook_secret", "stripe_webhook_secret", "secret_key", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_secrets(value)

    @field_validator("einvoice_address_sources", mode="before")
    @classmethod
    def _sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("outbound_subscriptions")
    @classmethod
    def _check_subscriptions(
        cls, value: list[dict[str, Any]], info: ValidationInfo
    ) -> list[dict[str, Any]]:
        # Checked here, at start: a bad entry must stop the process, not fail a request.
        # (`outbound_allow_private` is declared before, so it is in `info.data` when valid.)
        allow_private = bool(info.data.get("outbound_allow_private", False))
        for index, entry in enumerate(value):
            problem = subscription_problem(entry, allow_private=allow_private)
            if problem:
                raise ValueError(f"BRIDGE_SUBSCRIPTIONS[{index}]: {problem}")
        return value

    @model_validator(mode="after")
    def _production_uses_real_sage(self) -> Settings:
        # Checked at start: one forgotten variable must not book production into a sandbox.
        if self.environment is Environment.PRODUCTION:
            problems = production_problems(self)
            if problems:
                raise ValueError(
                    "BRIDGE_ENV=production needs a real Sage Active: "
                    + "; ".join(problems)
                    + " (set BRIDGE_ENV=sandbox to run against the sandbox on purpose)"
                )
        return self

    @cached_property
    def shopify_secrets(self) -> list[bytes]:
        return [s.get_secret_value().encode() for s in self.shopify_webhook_secret]

    @cached_property
    def stripe_secrets(self) -> list[str]:
        return [s.get_secret_value() for s in self.stripe_webhook_secret]

    @cached_property
    def admin_tokens(self) -> list[str]:
        """`BRIDGE_ADMIN_TOKEN`'s values (comma-separated: rotation); empty = admin off."""
        raw = self.admin_token.get_secret_value() if self.admin_token else ""
        return [token.strip() for token in raw.split(",") if token.strip()]

    @property
    def outbound_retention(self) -> int:
        """`outbound_retention_days` in whole seconds (at least 1)."""
        return max(1, int(self.outbound_retention_days * 86_400))

    @property
    def link_retention(self) -> int:
        """`link_retention_days` in whole seconds (at least 1)."""
        return max(1, int(self.link_retention_days * 86_400))

    def key(self, *parts: str) -> str:
        """A Redis key in this connection's namespace: `bridge:<connection>:<parts...>`."""
        return ":".join(("bridge", self.connection, *parts))

    @property
    def celery_queue(self) -> str:
        """This connection's Celery queue (a Redis list in the broker's database).

        `celery` (Celery's default) for the default connection; `celery.<connection>` for
        any other, so that connections sharing one Redis never take each other's tasks.
        """
        return "celery" if self.connection == "default" else f"celery.{self.connection}"


SANDBOX_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "sandbox")  # noqa: S104 - names


def production_problems(settings: Settings) -> list[str]:
    """Why `settings` would not reach a real Sage Active ([] when they would)."""
    url = settings.sage.api_url
    if not url:
        return ["SAGE_API_URL is not set (the sandbox would be used)"]
    problems = []
    parts = urlsplit(url)
    if parts.scheme != "https":
        problems.append(f"SAGE_API_URL {url} is not https")
    if (parts.hostname or "") in SANDBOX_HOSTS:
        problems.append(f"SAGE_API_URL {url} is the sandbox or this machine")
    sandbox_values = {
        "SAGE_CLIENT_ID": settings.sage.client_id == SANDBOX_CLIENT_ID,
        "SAGE_CLIENT_SECRET": settings.sage.client_secret.get_secret_value()
        == SANDBOX_CLIENT_SECRET,
        "SAGE_API_KEY": settings.sage.api_key.get_secret_value() == SANDBOX_API_KEY,
    }
    named = [name for name, is_sandbox in sandbox_values.items() if is_sandbox]
    if named:
        problems.append(", ".join(named) + " still hold the sandbox's development credentials")
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, `.env` and explicit overrides."""
    return Settings(**overrides)
