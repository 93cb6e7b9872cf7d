"""Which Sage product and tax each line of a cross-border or business sale goes to.

The sale kinds (docs/accounting.md, "Sales across borders and to businesses"), `home`
being the organisation's legislation country and `country` the buyer's:

- domestic (`country == home`, or unknown): the line's own product or the fallback
  product of its rate, as always;
- OSS, an EU distance sale to a consumer charged at the destination's rate (`country` in
  the EU, not `home`, a rate above 0): the product mapped to `"<country>:<rate>"` in
  `BRIDGE_OSS_PRODUCTS` (e.g. `OSS-DE-19`, on Sage's `FOREIGN` tax of that rate). A rate of
  the home country, for a destination with no OSS mapping at all, is a sale below the
  EU threshold charged at home: domestic. Anything else is refused (never booked on a
  domestic tax) and recorded, so that `bridge doctor` lists it;
- intra-EU B2B: a business with a VAT id in another EU country, at 0 %: the intra-EU
  product (`BRIDGE_INTRA_EU_PRODUCT`, Sage's intra-community tax treatment) and the
  reverse-charge mention on the invoice;
- export (outside the EU): lines at 0 % on their fallback product; the customer's country
  makes Sage choose the foreign sales account.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import redis

from bridge.models import Line, Order
from bridge.settings import Settings
from bridge.sync.dispatch import PermanentError
from bridge.sync.products import rate_key
from bridge.vat_ids import is_eu
from connectors.sage_active.tax_reference import TaxReference

# The legislations' defaults (BRIDGE_FALLBACK_PRODUCTS unset): fallback product per rate.
LEGISLATION_FALLBACKS: dict[str, dict[str, str]] = {
    "ES": {"21": "GEN-21", "10": "GEN-10", "4": "GEN-4", "0": "GEN-0"},
    "DE": {"19": "GEN-19", "7": "GEN-7", "0": "GEN-0"},
    "PT": {"23": "GEN-23", "13": "GEN-13", "6": "GEN-6", "0": "GEN-0"},  # (not in the sandbox)
}
# Printed on intra-EU reverse-charge invoices unless BRIDGE_REVERSE_CHARGE_MENTION says.
REVERSE_CHARGE_MENTIONS = {
    "FR": "Autoliquidation - Exonération de TVA, article 262 ter, I du CGI "
    "(livraison intracommunautaire) / Reverse charge, art. 138 Directive 2006/112/CE",
    "ES": "Inversión del sujeto pasivo - Entrega intracomunitaria exenta, art. 25 Ley "
    "37/1992 / Reverse charge, art. 138 Directive 2006/112/EC",
    "PT": "Autoliquidação - Isento nos termos do artigo 14.º do RITI / Reverse charge, "
    "art. 138 Directive 2006/112/EC",
    "DE": "Steuerschuldnerschaft des Leistungsempfängers - steuerfreie innergemeinschaftliche "
    "Lieferung (§ 4 Nr. 1b UStG) / Reverse charge, art. 138 Directive 2006/112/EC",
}


@dataclass(frozen=True)
class TaxPlan:
    """Per line, the product code the sale kind imposes (None: the usual choice)."""

    codes: list[str | None]
    mention: str | None = None


def fallback_products(settings: Settings, legislation: str) -> dict[str, str]:
    """`BRIDGE_FALLBACK_PRODUCTS` when set, else the organisation's legislation default."""
    if "fallback_products" in settings.model_fields_set:
        return settings.fallback_products
    return LEGISLATION_FALLBACKS.get(legislation, settings.fallback_products)


def oss_seen_key(settings: Settings) -> str:
    """The Redis set of `"<country>:<rate>"` OSS sales seen (read by `bridge doctor`)."""
    return settings.key("vat", "oss-seen")


def _intra_eu_business(order: Order, home: str) -> bool:
    party = order.customer
    return bool(
        party is not None and party.vat_number and is_eu(party.country) and party.country != home
    )


def plan_taxes(
    order: Order, settings: Settings, home: str, legislation: str, client: redis.Redis | None
) -> TaxPlan:
    """The products the sale kind of each line imposes (see the module docstring).

    Raises:
        PermanentError: an EU distance sale at a rate with no OSS product mapped.
    """
    country = order.destination
    intra = _intra_eu_business(order, home)
    home_rates = set(fallback_products(settings, legislation))
    mapped = settings.oss_products
    codes: list[str | None] = []
    for line in order.lines:
        codes.append(_line_code(line, country, home, intra, home_rates, mapped, settings, client))
    mention = None
    if intra and any(line.vat_rate == 0 for line in order.lines):
        mention = settings.reverse_charge_mention or REVERSE_CHARGE_MENTIONS.get(legislation)
    return TaxPlan(codes=codes, mention=mention)


def _line_code(
    line: Line,
    country: str | None,
    home: str,
    intra: bool,
    home_rates: set[str],
    mapped: dict[str, str],
    settings: Settings,
    client: redis.Redis | None,
) -> str | None:
    if intra and line.vat_rate == Decimal(0):
        return settings.intra_eu_product_code
    if country is None or country == home or not is_eu(country) or line.vat_rate == 0:
        return None
    key = f"{country}:{rate_key(line.vat_rate)}"
    if client is not None:
        client.sadd(oss_seen_key(settings), key)
    if key in mapped:
        return mapped[key]
    if rate_key(line.vat_rate) in home_rates and not any(
        k.startswith(f"{country}:") for k in mapped
    ):
        return None  # below the EU threshold: the shop charged its home VAT
    raise PermanentError(
        f"line {line.title!r}: a distance sale to {country} at {rate_key(line.vat_rate)} % VAT "
        f"(OSS) has no Sage product: map {key!r} in BRIDGE_OSS_PRODUCTS to a product whose "
        f"tax is {country}'s {rate_key(line.vat_rate)} % (e.g. OSS-{country}-"
        f"{rate_key(line.vat_rate)}); it is never booked on a domestic tax"
    )


def check_foreign_taxes(sage: TaxReference, plan: TaxPlan, settings: Settings) -> None:
    """Refuse an OSS product that Sage has on a domestic tax (one look-up, OSS orders only).

    Raises:
        PermanentError: a product mapped in BRIDGE_OSS_PRODUCTS carries a tax whose type
            is not `FOREIGN` (a foreign rate would be declared as a domestic one).
        SageError: the look-up failed (classified by the caller).
    """
    mapped = set(settings.oss_products.values())
    codes = {code for code in plan.codes if code is not None and code in mapped}
    if not codes:
        return
    found = sage.product_taxes(codes)
    for code in sorted(codes):
        product = found.get(code)
        tax = product.tax if product is not None else None
        if tax is not None and tax.tax_type not in (None, "FOREIGN"):
            raise PermanentError(
                f"product {code!r} (BRIDGE_OSS_PRODUCTS) is on the domestic tax {tax.name!r} "
                f"({tax.tax_type}): a destination's rate must be booked on a FOREIGN tax"
            )
