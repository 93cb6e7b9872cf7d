"""Walk-in customers for guest checkouts, one per country or zone (`BRIDGE_WALKIN_BY`).

Sage Active picks an invoice's sales account by its customer's country (national, VIES,
other: 09-sales-invoices.md), so a guest abroad must not be booked on the domestic
walk-in customer. Codes:

- `country` (default): `BRIDGE_WALKIN_CUSTOMER` (`WALKIN`) for guests at home or of unknown
  country, `WALKIN-<CC>` for guests in country CC;
- `zone`: `WALKIN`, `WALKIN-EU` (other EU countries), `WALKIN-WORLD` (the rest), each
  created with the country of its first guest (only the zone matters to Sage's account);
- `single`: `WALKIN` for every guest (one-country shops).

The domestic walk-in customer must exist (it is seeded, and `bridge doctor` checks it);
the others are created on first use, as INDIVIDUAL customers of their country. Under
Spanish legislation the domestic one is a non-identified customer (`nonIdentifiedCustomer`,
seeded so in the sandbox): Sage issues simplified invoices (*facturas simplificadas*) to
domestic consumers (18-legislation-rules.md); guests abroad get ordinary invoices, their
country deciding the sales account.
"""

from __future__ import annotations

from bridge.settings import WalkinBy
from bridge.sync.context import SyncContext
from bridge.sync.customer_codes import create_customer, find_customer
from bridge.sync.dispatch import PermanentError
from bridge.vat_ids import is_eu
from connectors.sage_active.models import AddressInput, CustomerInput

LEGISLATION_COUNTRY = {"FR": "FR", "ES": "ES", "DE": "DE", "PT": "PT"}
WALKIN_NAMES = {
    "FR": "Clients comptoir",
    "ES": "Clientes varios",
    "DE": "Laufkundschaft",
    "PT": "Consumidor final",
}


def home_country(legislation: str) -> str:
    """The country of an organisation's legislation (`FR` for an unknown one)."""
    return LEGISLATION_COUNTRY.get(legislation.upper(), "FR")


def walkin_code(domestic: str, mode: WalkinBy, home: str, country: str | None) -> str:
    """The walk-in customer code of a guest in `country` (see the module docstring)."""
    if mode is WalkinBy.SINGLE or country is None or country == home:
        return domestic
    if mode is WalkinBy.ZONE:
        return f"{domestic}-EU" if is_eu(country) else f"{domestic}-WORLD"
    return f"{domestic}-{country}"[:17]


def walkin_input(code: str, legislation: str, country: str) -> CustomerInput:
    """The walk-in customer of `country` to create."""
    name = WALKIN_NAMES.get(legislation, WALKIN_NAMES["FR"])
    return CustomerInput(
        code=code,
        social_name=f"{name} {code.rsplit('-', 1)[-1]}"[:70],
        customer_type="INDIVIDUAL",
        address=AddressInput(country_iso_code_alpha2=country),
    )


def walkin_customer(ctx: SyncContext, country: str | None) -> str:
    """The Sage id of the walk-in customer for a guest in `country`, created on first use.

    Raises:
        PermanentError: the domestic walk-in customer does not exist in Sage.
        SageError: a look-up or the creation failed (classified by the caller).
    """
    sage, settings = ctx.sage, ctx.settings
    domestic = settings.walkin_customer_code
    legislation = sage.legislation() if settings.walkin_by is not WalkinBy.SINGLE else "FR"
    home = home_country(legislation)
    code = walkin_code(domestic, settings.walkin_by, home, country)
    if code == domestic or country is None:
        found = sage.customer_by_code(code)
        if found is not None:
            return found.id
        raise PermanentError(
            f"walk-in customer {domestic!r} is not in Sage "
            "(create it or set BRIDGE_WALKIN_CUSTOMER)"
        )
    found = find_customer(sage, code, legislation)
    if found is not None:
        return found.id
    ctx.check()
    return create_customer(sage, walkin_input(code, legislation, country), legislation)
