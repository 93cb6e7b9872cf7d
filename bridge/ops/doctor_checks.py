"""The built-in checks of `bridge doctor` (see `bridge.ops.doctor`), in the order they print.

Sage first (connection and token, organisation), then every code the mapping names
(sales journal, a payment method per mapped gateway, shipping / rounding / fallback
products, the walk-in customer: a missing one holds processing), then the bridge's own
configuration (webhook secrets, admin token) and Redis persistence.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from bridge.ops.doctor import DoctorContext, Finding, Level, check
from bridge.payouts.mapping import check_payout_mapping
from bridge.services import ConfigurationError
from bridge.sync.products import rate_key
from bridge.sync.taxes import fallback_products
from connectors.sage_active.errors import SageAuthError, SageError
from connectors.sage_active.organizations import OrganizationUnusable, choose

SAGE = "Sage connection"


def _ok(name: str, detail: str) -> Finding:
    return Finding(check=name, level=Level.OK, detail=detail)


def _mapping_error(name: str, detail: str, fix: str) -> Finding:
    return Finding(check=name, level=Level.ERROR, detail=detail, fix=fix, holds=True)


@check(SAGE, first=True)
def sage_connection(ctx: DoctorContext) -> Iterator[Finding]:
    """Sage answers, with our token (and, when `fresh`, the reference caches are dropped)."""
    ctx.sage_reachable = False
    try:
        organizations = ctx.sage.organizations()
        if ctx.fresh:
            ctx.sage.invalidate_cache()
    except ConfigurationError as exc:
        yield Finding(
            check=SAGE,
            level=Level.ERROR,
            holds=False,  # events wait at the Sage gates (`bridge.ops.gates`) instead
            detail=str(exc),
            fix="set SAGE_API_URL (README, Going to production)",
        )
        return
    except SageAuthError as exc:
        yield Finding(
            check=SAGE,
            level=Level.ERROR,
            holds=False,  # events wait at the Sage gates (`bridge.ops.gates`) instead
            detail=f"Sage refused our token: {exc}",
            fix="run `bridge sage-login` (or set a valid SAGE_REFRESH_TOKEN); check "
            "SAGE_CLIENT_ID, SAGE_CLIENT_SECRET and SAGE_API_KEY",
        )
        return
    except SageError as exc:
        url = ctx.settings.sage.api_url
        yield Finding(
            check=SAGE,
            level=Level.ERROR,
            holds=False,  # events wait at the Sage gates (`bridge.ops.gates`) instead
            detail=f"Sage did not answer at {url}: {exc}",
            fix="check SAGE_API_URL / SAGE_AUTH_URL and that Sage is up",
        )
        return
    ctx.sage_reachable = True
    ctx.notes["organizations"] = organizations
    yield _ok(
        SAGE,
        f"{ctx.settings.sage.api_url} accepted our token "
        f"({len(organizations)} organisation(s) visible)",
    )


@check("Organisation", needs_sage=True)
def organisation(ctx: DoctorContext) -> Iterator[Finding]:
    """The connection's organisation is listed, READY and onboarded (Sage 2026-07); with
    none configured, exactly one is visible. Otherwise processing is held (and the checks
    that read the organisation's data are skipped): Sage refuses requests for it."""
    seen = ctx.notes.get("organizations")
    organizations = seen if isinstance(seen, list) else ctx.sage.organizations()
    wanted = ctx.settings.sage.organization_id
    try:
        chosen = choose(organizations, wanted)
    except OrganizationUnusable as exc:
        ctx.sage_reachable = False  # the organisation's own data cannot be read
        yield _mapping_error(
            "Organisation",
            str(exc),
            "set SAGE_ORGANIZATION_ID to a READY, onboarded organisation, or finish its "
            "set-up in Sage Active (processing resumes at the next check once it is READY)",
        )
        return
    how = "SAGE_ORGANIZATION_ID" if wanted else "the only one visible"
    yield _ok(
        "Organisation",
        f"{chosen.social_name} ({chosen.legislation_code}), id {chosen.id}, "
        f"{chosen.status or 'READY'} and onboarded ({how})",
    )


@check("Sales journal", needs_sage=True)
def sales_journal(ctx: DoctorContext) -> Iterator[Finding]:
    code = ctx.settings.sales_journal_code
    journal = ctx.sage.journal_by_code(code)
    if journal is None:
        known = ", ".join(sorted(j.code for j in ctx.sage.journal_types() if not j.deactivated))
        yield _mapping_error(
            "Sales journal",
            f"BRIDGE_SALES_JOURNAL {code!r} is not an active journal in Sage",
            f"set one of: {known or 'none'}",
        )
    elif journal.type and "SALES" not in journal.type.upper():
        yield Finding(
            check="Sales journal",
            level=Level.WARNING,
            detail=f"{code!r} is a {journal.type} journal, not a sales journal",
            fix="point BRIDGE_SALES_JOURNAL at the sales journal",
        )
    else:
        yield _ok("Sales journal", f"{code} ({journal.name or journal.type})")


@check("Payment methods", needs_sage=True)
def payment_methods(ctx: DoctorContext) -> Iterator[Finding]:
    mapping = ctx.settings.payment_methods
    missing = {g: n for g, n in mapping.items() if ctx.sage.payment_method_by_name(n) is None}
    known = ", ".join(
        sorted(m.reference_name for m in ctx.sage.payment_methods() if not m.disabled)
    )
    for gateway, name in missing.items():
        yield _mapping_error(
            "Payment methods",
            f"gateway {gateway!r} is mapped to {name!r}, "
            "which Sage does not have (or has disabled)",
            f"create it in Sage, or map the gateway in BRIDGE_PAYMENT_METHODS "
            f"to one of: {known or 'none'}",
        )
    if not missing:
        yield _ok("Payment methods", f"{len(mapping)} gateway(s) mapped, all found in Sage")


def _fallbacks(ctx: DoctorContext) -> dict[str, str]:
    """The fallback products: BRIDGE_FALLBACK_PRODUCTS, else the legislation's default."""
    return fallback_products(ctx.settings, ctx.sage.legislation())


def _product_codes(ctx: DoctorContext) -> dict[str, str]:
    """Product code -> what it is for, in the mapping."""
    settings = ctx.settings
    wanted = {
        settings.shipping_product_code: "BRIDGE_SHIPPING_PRODUCT",
        settings.rounding_product_code: "BRIDGE_ROUNDING_PRODUCT",
    }
    for rate, code in sorted(_fallbacks(ctx).items()):
        wanted.setdefault(code, f"BRIDGE_FALLBACK_PRODUCTS[{rate}]")
    return wanted


@check("Products", needs_sage=True)
def products(ctx: DoctorContext) -> Iterator[Finding]:
    wanted = _product_codes(ctx)
    found = ctx.sage.products_by_codes(wanted)
    problems = 0
    for code, role in wanted.items():
        if code not in found:
            problems += 1
            yield _mapping_error(
                "Products",
                f"{role} names {code!r}, which Sage does not have",
                f"create product {code!r} in Sage, or change {role}",
            )
    for rate, code in sorted(_fallbacks(ctx).items()):
        product = found.get(code)
        vat = product.sales_vat_percentage if product else None
        if product is not None and vat is not None and rate_key(vat) != rate:
            problems += 1
            yield _mapping_error(
                "Products",
                f"fallback product {code!r} for {rate} % VAT has {rate_key(vat)} % VAT in Sage",
                "map that rate in BRIDGE_FALLBACK_PRODUCTS to a product sold at that rate",
            )
    if not problems:
        rates = ", ".join(f"{r} %" for r in sorted(_fallbacks(ctx)))
        yield _ok("Products", f"shipping, rounding and fallbacks for {rates or 'no rate'} found")


@check("Walk-in customer", needs_sage=True)
def walkin_customer(ctx: DoctorContext) -> Iterator[Finding]:
    code = ctx.settings.walkin_customer_code
    customer = ctx.sage.customer_by_code(code)
    if customer is None:
        yield _mapping_error(
            "Walk-in customer",
            f"BRIDGE_WALKIN_CUSTOMER {code!r} is not a customer in Sage",
            f"create customer {code!r} in Sage (guest "
            "checkouts are booked on it), or change BRIDGE_WALKIN_CUSTOMER",
        )
    else:
        yield _ok("Walk-in customer", f"{code} ({customer.social_name})")


@check("Payout accounts", needs_sage=True)
def payout_accounts(ctx: DoctorContext) -> Iterator[Finding]:
    """The accounts and bank journal payouts are booked on (`bridge.payouts.mapping`).

    An error here does not hold other events: payouts alone wait for it (parked)."""
    problems = check_payout_mapping(ctx.sage, ctx.settings)
    for problem in problems:
        yield Finding(
            check="Payout accounts",
            level=Level.ERROR,
            detail=f"{problem.name}: {problem.message}",
            fix=f"create {problem.code!r} in Sage, or change {problem.name}; payouts wait "
            "until then, invoices and payments go on",
            holds=False,  # payouts wait at their own gate (`MappingGate`)
        )
    if not problems:
        yield _ok(
            "Payout accounts",
            f"bank {ctx.settings.payout_bank_account}, fees {ctx.settings.fees_account}, "
            f"journal {ctx.settings.bank_journal_code}, clearing "
            + ", ".join(f"{k} {v}" for k, v in sorted(ctx.settings.clearing_accounts.items())),
        )


@check("Webhook secrets")
def webhook_secrets(ctx: DoctorContext) -> Iterator[Finding]:
    settings = ctx.settings
    present = {"Shopify": bool(settings.shopify_secrets), "Stripe": bool(settings.stripe_secrets)}
    if not any(present.values()):
        yield Finding(
            check="Webhook secrets",
            level=Level.ERROR,
            detail="neither SHOPIFY_WEBHOOK_SECRET nor STRIPE_WEBHOOK_SECRET is set: "
            "every webhook is answered 503",
            fix="set the signing secret(s) the providers show for the endpoints",
            holds=False,  # nothing arrives to hold; what the poller finds may still book
        )
        return
    for provider, configured in present.items():
        if configured:
            yield _ok("Webhook secrets", f"{provider} secret set")
        else:
            yield Finding(
                check="Webhook secrets",
                level=Level.WARNING,
                detail=f"no {provider} secret: its webhooks are answered 503",
                fix=f"set {provider.upper()}_WEBHOOK_SECRET if {provider} sends to this bridge",
            )


@check("Secrets at rest", level=Level.WARNING)
def secrets_at_rest(ctx: DoctorContext) -> Iterator[Finding]:
    if ctx.settings.secret_key:
        yield _ok("Secrets at rest", "Sage tokens and outbound signing secrets encrypted")
        return
    yield Finding(
        check="Secrets at rest",
        level=Level.WARNING,
        detail="BRIDGE_SECRET_KEY is not set: Sage tokens and outbound signing secrets are "
        "stored in clear in Redis (and in its append-only file)",
        fix="set BRIDGE_SECRET_KEY (`bridge connections keygen`); the worker encrypts what is "
        "in clear when it starts",
    )


MIN_TOKEN = 16


@check("Admin token")
def admin_token(ctx: DoctorContext) -> Iterator[Finding]:
    tokens = ctx.settings.admin_tokens
    if not tokens:
        yield Finding(
            check="Admin token",
            level=Level.WARNING,
            detail="BRIDGE_ADMIN_TOKEN is not set: the admin API and console are off",
            fix="set BRIDGE_ADMIN_TOKEN to a long random value",
        )
    elif any(len(t) < MIN_TOKEN for t in tokens):
        yield Finding(
            check="Admin token",
            level=Level.WARNING,
            detail=f"a BRIDGE_ADMIN_TOKEN value is shorter than {MIN_TOKEN} characters",
            fix="use a long random value (e.g. `openssl rand -base64 24`)",
        )
    else:
        yield _ok("Admin token", "set")


@check("Redis persistence", level=Level.WARNING)
def redis_persistence(ctx: DoctorContext) -> Iterator[Finding]:
    """A warning at most: many managed Redis services run without an append-only file
    (replication, RDB snapshots), and the books must not stop for that; the operator is told
    what is at risk and what to set."""
    name = "Redis persistence"
    try:
        config = {**ctx.redis.config_get("appendonly"), **ctx.redis.config_get("appendfsync")}
    except redis.exceptions.ResponseError as exc:
        yield Finding(
            check=name,
            level=Level.WARNING,
            detail=f"Redis refused CONFIG GET ({exc}): persistence not checked",
            fix="make sure your Redis keeps an append-only file (appendonly yes)",
        )
        return
    appendonly, fsync = str(config.get("appendonly")), str(config.get("appendfsync"))
    if appendonly != "yes":
        yield Finding(
            check=name,
            level=Level.WARNING,
            detail="appendonly is off: a Redis restart or crash loses the webhooks and events "
            "acknowledged since the last snapshot (they are never booked) and the record of "
            "what was booked (a redelivery could then book twice)",
            fix="run Redis with `appendonly yes` and `appendfsync everysec` (CONFIG SET "
            "appendonly yes, and in redis.conf; on a managed service, its AOF / durability "
            "option); see docs/operations.md, Production Redis",
        )
    elif fsync == "always":
        yield _ok(name, "appendonly yes, appendfsync always: nothing acknowledged is lost")
    elif fsync == "everysec":
        yield _ok(
            name,
            "appendonly yes, appendfsync everysec: a Redis crash loses nothing; "
            "a power cut or OS crash can lose about the last second",
        )
    else:
        yield Finding(
            check=name,
            level=Level.WARNING,
            detail=f"appendfsync {fsync}: a power cut can lose many seconds",
            fix="use appendfsync everysec (or always)",
        )
