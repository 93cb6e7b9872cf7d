"""The Sage customer of an order: by stable code, then by e-mail, else created.

Guests (no provider customer id) go to the walk-in customer `BRIDGE_WALKIN_CUSTOMER`. A new
customer gets the code derived from the provider id (`bridge.models.customer_code`), so a
retry after an unknown outcome finds it by code instead of creating it twice.
"""

from __future__ import annotations

from bridge.models import Order, Party, customer_code
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import PermanentError
from bridge.sync.einvoicing import with_routing
from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.models import AddressInput, CustomerInput

SOCIAL_NAME_MAX = 70


def _address(party: Party) -> AddressInput | None:
    address = party.address
    if address is None:
        return None
    country = address.country_code if len(address.country_code or "") == 2 else None
    return AddressInput(
        first_line=address.line1[:35] if address.line1 else None,
        second_line=address.line2[:35] if address.line2 else None,
        city=address.city[:35] if address.city else None,
        zip_code=address.zip[:9] if address.zip else None,
        country_iso_code_alpha2=country.upper() if country else None,
    )


def customer_input(code: str, party: Party) -> CustomerInput:
    """The Sage customer to create for `party` (FR needs `socialName`, max 70)."""
    social = (party.company or party.name).strip()[:SOCIAL_NAME_MAX] or code
    email = party.email.strip() if party.email and len(party.email.strip()) <= 70 else None
    vat = party.vat_number if party.vat_number and len(party.vat_number) <= 25 else None
    return CustomerInput(
        code=code,
        social_name=social,
        customer_type="BUSINESS" if party.company else "INDIVIDUAL",
        vat_number=vat,
        email=email,
        address=_address(party),
    )


def is_business(party: Party) -> bool:
    """Whether `party` is (or would be created as) a BUSINESS customer in Sage."""
    return not party.is_guest and customer_input("BUSINESS", party).customer_type == "BUSINESS"


def resolve_customer(ctx: SyncContext, order: Order) -> str:
    """The Sage id of the order's customer, creating the customer when missing.

    Raises:
        PermanentError: the walk-in customer does not exist in Sage.
        SageError: a look-up or the creation failed (classified by the caller).
    """
    party = order.customer
    sage = ctx.sage
    if party is None or party.is_guest or party.provider_id is None:
        walkin = sage.customer_by_code(ctx.settings.walkin_customer_code)
        if walkin is None:
            raise PermanentError(
                f"walk-in customer {ctx.settings.walkin_customer_code!r} is not in Sage "
                "(create it or set BRIDGE_WALKIN_CUSTOMER)"
            )
        return walkin.id
    code = customer_code(order.provider, party.provider_id)
    found = sage.customer_by_code(code)
    if found is None and party.email:
        found = sage.customer_by_email(party.email)
    if found is not None:
        return found.id
    ctx.check()
    try:
        return sage.create_customer(with_routing(ctx, customer_input(code, party), party)).id
    except SageBusinessError:
        # Another order of the same new customer created it a moment ago.
        again = sage.customer_by_code(code)
        if again is None:
            raise
        return again.id
