"""The e-invoicing step of an order's invoice: whether and how it is sent electronically.

Only while the organisation's registration with Sage's platform is `Accepted`
(`organizationEInvoiceSetupByOrgId`, cached a minute) and `BRIDGE_EINVOICE` is on: a French
BUSINESS customer gets its routing address (SIREN, `bridge.einvoice.routing`) when it is
created, and its invoice is created with `shouldSendViaElectronicInvoicing`, the routing
fields and the `regulatoryBillingFramework` of its lines, which `postSalesInvoice` submits.
Consumers stay INDIVIDUAL and are not sent (Sage's e-reporting counts them); customers
outside France, or an organisation not registered: nothing changes. A French business
customer without a valid SIREN is booked without e-invoicing, and the link says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bridge.einvoice.routing import (
    EInvoiceFields,
    UnmappedProductType,
    framework,
    is_french,
    line_natures,
    routing,
)
from bridge.models import Order, Party
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import PermanentError
from connectors.sage_active.models import CustomerInput

log = logging.getLogger(__name__)
ACCEPTED = "Accepted"
NO_SIREN = (
    "French business customer without a valid SIREN/SIRET (or French VAT number): "
    "the invoice is not sent electronically"
)


def registered(ctx: SyncContext) -> bool:
    """Whether invoices may be sent electronically now (setting on, registration Accepted).

    Raises:
        SageError: the registration could not be read.
    """
    if not ctx.settings.einvoice:
        return False
    setup = ctx.sage.einvoice_setup()
    return setup is not None and setup.status == ACCEPTED


def with_routing(ctx: SyncContext, values: CustomerInput, party: Party) -> CustomerInput:
    """`values` with the routing address when the new customer is a French business and
    the organisation is registered.

    Raises:
        SageError: the registration could not be read.
    """
    if values.customer_type != "BUSINESS" or not is_french(party) or not registered(ctx):
        return values
    found = routing(
        party, ctx.settings.einvoice_address_type, ctx.settings.einvoice_address_sources
    )
    if found is None:
        return values
    return values.model_copy(
        update={
            "e_invoicing_address_type": found.address_type,
            "e_invoicing_address": found.address,
        }
    )


def plan_einvoice(
    ctx: SyncContext, order: Order, business: bool, categories: Sequence[str | None]
) -> tuple[EInvoiceFields | None, str | None]:
    """(what the invoice is sent with, or None; why a B2B invoice is not sent, or None).

    `business`: the order's customer is a BUSINESS customer in Sage; `categories`: the Sage
    category of each line's product.

    Raises:
        PermanentError: a product line's category is not mapped (BRIDGE_EINVOICE_PRODUCT_TYPES).
        SageError: the registration could not be read.
    """
    party = order.customer
    if party is None or not business or not is_french(party):
        return None, None
    if not registered(ctx):
        return None, None
    settings = ctx.settings
    found = routing(party, settings.einvoice_address_type, settings.einvoice_address_sources)
    if found is None:
        log.warning("%s: %s", order.reference, NO_SIREN)
        return None, NO_SIREN
    try:
        natures = line_natures(order.lines, categories, settings.einvoice_product_types)
    except UnmappedProductType as exc:
        raise PermanentError(f"e-invoicing: {exc}") from exc
    fields = EInvoiceFields(
        address_type=found.address_type, address=found.address, framework=framework(natures)
    )
    return fields, None
