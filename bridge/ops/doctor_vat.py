"""`bridge doctor` checks of sales across borders: OSS products, intra-EU, walk-ins.

- "OSS destinations": every destination and rate of an EU distance sale the bridge has
  seen (`bridge.sync.taxes.oss_seen_key`) or that `BRIDGE_OSS_PRODUCTS` maps must have a
  Sage product at that rate, on a `FOREIGN` tax; one seen with no mapping is an error
  (those sales fail until it is mapped), named with the line to add.
- "Intra-EU sales": the intra-EU product exists at 0 %, with an intra-community tax
  treatment when Sage reports one (a warning otherwise: B2B sales to the EU would fail).
- "Walk-in customers": how guests are booked (`BRIDGE_WALKIN_BY`), the walk-in customers
  already created and their countries (a `WALKIN-<CC>` elsewhere than CC books its sales
  on the wrong account), and, under Spanish legislation, a non-identified domestic one.
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.ops.doctor import DoctorContext, Finding, Level, check
from bridge.settings import WalkinBy
from bridge.sync.customer_codes import REFERENCE_PREFIX, numbered_by_sage
from bridge.sync.products import rate_key
from bridge.sync.taxes import fallback_products, oss_seen_key
from bridge.sync.walkins import home_country
from connectors.sage_active.tax_reference import ProductTax

OSS = "OSS destinations"
WALKINS = "Walk-in customers"
INTRA = "Intra-EU sales"


def _seen(ctx: DoctorContext) -> set[str]:
    raw = ctx.redis.smembers(oss_seen_key(ctx.settings))
    return {item.decode() if isinstance(item, bytes) else str(item) for item in raw}


def _product_problem(key: str, code: str, product: ProductTax | None) -> str | None:
    rate = key.split(":", 1)[1]
    if product is None:
        return f"BRIDGE_OSS_PRODUCTS[{key}] names {code!r}, which Sage does not have"
    vat = product.sales_vat_percentage
    if vat is not None and rate_key(vat) != rate:
        return f"OSS product {code!r} for {key} has {rate_key(vat)} % VAT in Sage, not {rate} %"
    if product.tax is not None and product.tax.tax_type not in (None, "FOREIGN"):
        return (
            f"OSS product {code!r} for {key} is on the domestic tax {product.tax.name!r}; "
            "a foreign rate must be booked on a FOREIGN tax"
        )
    return None


@check(OSS, needs_sage=True)
def oss_destinations(ctx: DoctorContext) -> Iterator[Finding]:
    settings = ctx.settings
    mapped = settings.oss_products
    legislation = ctx.sage.legislation()
    home_rates = set(fallback_products(settings, legislation))
    seen = _seen(ctx)
    problems = 0
    for key in sorted(seen - set(mapped)):
        country, rate = key.split(":", 1)
        if rate in home_rates and not any(k.startswith(f"{country}:") for k in mapped):
            continue  # booked at home: a sale below the EU threshold
        problems += 1
        yield Finding(
            check=OSS,
            level=Level.ERROR,
            detail=f"EU distance sales to {country} at {rate} % seen, no Sage product mapped",
            fix=f'add "{key}": "<product on {country}\'s {rate} % tax>" to BRIDGE_OSS_PRODUCTS '
            f"(the sandbox has OSS-{country}-{rate})",
        )
    found = ctx.sage.product_taxes(mapped.values())
    for key, code in sorted(mapped.items()):
        problem = _product_problem(key, code, found.get(code))
        if problem:
            problems += 1
            yield Finding(
                check=OSS,
                level=Level.ERROR,
                detail=problem,
                fix=f"create {code!r} on {key.split(':')[0]}'s tax, or fix BRIDGE_OSS_PRODUCTS",
            )
    if not problems:
        listed = ", ".join(sorted(set(mapped) | seen)) or "none seen or mapped"
        yield Finding(check=OSS, level=Level.OK, detail=f"destinations and rates: {listed}")


@check(INTRA, needs_sage=True)
def intra_eu(ctx: DoctorContext) -> Iterator[Finding]:
    code = ctx.settings.intra_eu_product_code
    product = ctx.sage.product_taxes([code]).get(code)
    treatments = {t.id: t for t in ctx.sage.tax_treatments()}
    treatment = treatments.get(product.tax_treatment_id or "") if product else None
    if product is None or (product.sales_vat_percentage or 0) != 0:
        detail = f"BRIDGE_INTRA_EU_PRODUCT {code!r} is not a product at 0 % in Sage"
    elif treatments and (treatment is None or not treatment.is_intracomunity):
        detail = f"product {code!r} has no intra-community tax treatment in Sage"
    else:
        yield Finding(check=INTRA, level=Level.OK, detail=f"{code}: intra-community, 0 %")
        return
    yield Finding(
        check=INTRA,
        level=Level.WARNING,
        detail=detail + ": sales to EU businesses (reverse charge) will fail",
        fix=f"create {code!r} at 0 % with the intra-community treatment, or set "
        "BRIDGE_INTRA_EU_PRODUCT",
    )


@check(WALKINS, needs_sage=True)
def walkins(ctx: DoctorContext) -> Iterator[Finding]:
    settings = ctx.settings
    mode, domestic = settings.walkin_by, settings.walkin_customer_code
    legislation = ctx.sage.legislation()
    home = home_country(legislation)
    found = {c.code: c for c in ctx.sage.customers_by_code_prefix(domestic)}
    if numbered_by_sage(legislation):  # Sage numbered them: the bridge's code is in comments
        marked = ctx.sage.customers_by_code_prefix(REFERENCE_PREFIX + domestic, in_comments=True)
        found.update({(c.comments or "").removeprefix(REFERENCE_PREFIX): c for c in marked})
    problems = 0
    for code, customer in sorted(found.items()):
        expected = home if code == domestic else code.rsplit("-", 1)[-1]
        wrong_country = mode is WalkinBy.COUNTRY and len(expected) == 2
        if wrong_country and (customer.country_acronym or home) != expected:
            problems += 1
            yield Finding(
                check=WALKINS,
                level=Level.WARNING,
                detail=f"walk-in customer {code} is in {customer.country_acronym}, not "
                f"{expected}: Sage books its sales on that country's account",
                fix=f"set the country of {code} to {expected} in Sage",
            )
    home_walkin = found.get(domestic)
    if legislation == "ES" and home_walkin is not None and not home_walkin.non_identified_customer:
        problems += 1
        yield Finding(
            check=WALKINS,
            level=Level.WARNING,
            detail=f"{domestic} is not a non-identified customer: Spanish consumers get "
            "full invoices instead of simplified ones (facturas simplificadas)",
            fix=f"tick nonIdentifiedCustomer on {domestic} (INDIVIDUAL) in Sage",
        )
    if not problems:
        abroad = sorted(code for code in found if code != domestic)
        yield Finding(
            check=WALKINS,
            level=Level.OK,
            detail=f"guests by {mode.value}: {domestic} at home"
            + (f", abroad {', '.join(abroad)}" if abroad else "")
            + (" (others created on first use)" if mode is not WalkinBy.SINGLE else ""),
        )
