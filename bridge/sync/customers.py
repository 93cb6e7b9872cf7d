"""The Sage customer of an order: by stable code, then by e-mail, else created.

A new customer gets the code derived from the provider id (`bridge.models.customer_code`),
so a retry after an unknown outcome finds it by code instead of creating it twice. A
business (a company name, a VAT id, a SIRET or a Shopify B2B location) becomes a BUSINESS
customer with its checked VAT number (`bridge.vat_ids`), its country, and the document
type Sage expects (02-customers.md: `01` the domestic id, a French company's SIREN/SIRET;
`02` the intra-community VAT number of a customer in another EU country). A guest business
(a VAT id but no provider customer) gets a customer of its own, coded from its VAT number;
other guests go to a walk-in customer (`bridge.sync.walkins`).
"""

from __future__ import annotations

from bridge.models import Order, Party, customer_code
from bridge.sync.context import SyncContext
from bridge.sync.customer_codes import create_customer, find_customer
from bridge.sync.dispatch import PermanentError
from bridge.sync.einvoicing import with_routing
from bridge.sync.walkins import home_country, walkin_customer
from bridge.vat_ids import InvalidTaxId, is_eu, normalise_siret, normalise_vat_number
from connectors.sage_active.models import AddressInput, CustomerInput

SOCIAL_NAME_MAX = 70
DOMESTIC_ID = "01"
INTRA_COMMUNITY_VAT = "02"


def _address(party: Party) -> AddressInput | None:
    address = party.address
    if address is None:
        return None
    return AddressInput(
        first_line=address.line1[:35] if address.line1 else None,
        second_line=address.line2[:35] if address.line2 else None,
        city=address.city[:35] if address.city else None,
        zip_code=address.zip[:9] if address.zip else None,
        country_iso_code_alpha2=party.country,
    )


def checked_party(party: Party, what: str) -> Party:
    """`party` with its VAT id and SIRET in their normal form, or refused.

    A VAT id reaches Sage only for a customer in an EU country (Sage does not use it for
    others, 02-customers.md), and must have its country's format.

    Raises:
        PermanentError: a malformed VAT id or SIRET (the message says which and why).
    """
    vat, siret = party.vat_number, party.siret
    try:
        if vat and (is_eu(party.country) or party.country is None):
            vat = normalise_vat_number(vat, party.country)
        elif vat:
            vat = None
        if siret:
            siret = normalise_siret(siret)
    except InvalidTaxId as exc:
        raise PermanentError(f"{what}: customer {party.name!r}: {exc}") from exc
    return party.model_copy(update={"vat_number": vat, "siret": siret})


def document_type_code(party: Party, home: str) -> str | None:
    """The Sage document type of a business customer (None: Sage's default)."""
    if party.country == home and party.siret and home == "FR":
        return DOMESTIC_ID
    if party.vat_number and is_eu(party.country) and party.country != home:
        return INTRA_COMMUNITY_VAT
    return None


def customer_input(
    code: str, party: Party, *, home: str = "FR", document_type_id: str | None = None
) -> CustomerInput:
    """The Sage customer to create for `party` (FR needs `socialName`, max 70)."""
    social = (party.company or party.name).strip()[:SOCIAL_NAME_MAX] or code
    email = party.email.strip() if party.email and len(party.email.strip()) <= 70 else None
    french_company = home == "FR" and party.country in (None, "FR") and party.siret
    # Sage wants the VAT number of a business in another EU country (02-customers.md): one
    # without is booked as a person (its sale is not an intra-community supply either).
    unidentified = is_eu(party.country) and party.country != home and not party.vat_number
    return CustomerInput(
        code=code,
        social_name=social,
        customer_type="BUSINESS" if party.is_business and not unidentified else "INDIVIDUAL",
        vat_number=party.vat_number if party.vat_number and is_eu(party.country) else None,
        email=email,
        address=_address(party),
        document_type_id=document_type_id,
        document_id=party.siret if french_company else None,
    )


def _code(order: Order, party: Party) -> str | None:
    if party.provider_id is not None:
        return customer_code(order.provider, party.provider_id)
    if party.vat_number:
        return customer_code(order.provider, f"vat:{party.vat_number}")
    return None


def resolve_customer(ctx: SyncContext, order: Order) -> str:
    """The Sage id of the order's customer, creating the customer when missing.

    Raises:
        PermanentError: a malformed VAT id or SIRET; the domestic walk-in customer does
            not exist in Sage.
        SageError: a look-up or the creation failed (classified by the caller).
    """
    party = order.customer
    sage = ctx.sage
    if party is not None:
        party = checked_party(party, f"order {order.number}")
    code = _code(order, party) if party is not None else None
    if party is None or code is None:
        return walkin_customer(ctx, party.country if party else None)
    legislation = sage.legislation()
    found = find_customer(sage, code, legislation)
    if found is None and party.email and party.provider_id is not None:
        found = sage.customer_by_email(party.email)
    if found is not None:
        return found.id
    home = home_country(legislation)
    doc_code = document_type_code(party, home) if party.is_business else None
    doc_type = sage.document_type_by_code(doc_code) if doc_code else None
    values = customer_input(
        code, party, home=home, document_type_id=doc_type.id if doc_type else None
    )
    ctx.check()
    return create_customer(sage, with_routing(ctx, values, party), legislation)
