"""A Shopify B2B order's buyer as its company location registered it.

The order webhook names only the company location (`Party.company_location`); its tax
registration (the VAT id), tax exemption, company name and billing country are read
through the GraphQL Admin API (`SHOPIFY_ACCESS_TOKEN`, scope `read_companies`) and
complete the customer before it is resolved in Sage. What the order itself says (a VAT id
in a note attribute, a billing company) is kept when the location says nothing.

| cause                                    | becomes                                        |
| ---------------------------------------- | ---------------------------------------------- |
| no B2B location on the order             | the order as it is                             |
| `SHOPIFY_ACCESS_TOKEN` not set           | the order as it is (logged: note attributes only) |
| token refused (401 / 403)                | `PermanentError` naming it (replay once fixed) |
| Shopify unavailable (429 / 5xx / network) | `TransientError` (the event retries)          |
"""

from __future__ import annotations

import logging

from bridge.models import Address, Order
from bridge.settings import Settings
from bridge.sync.dispatch import PermanentError, TransientError
from connectors.rest import ProviderApiError, ProviderAuthError, ProviderUnavailable
from connectors.shopify.companies import CompanyLocation, company_location
from connectors.shopify.graphql import ShopifyGraphQL

log = logging.getLogger(__name__)
UNAVAILABLE_RETRY = 30.0


def read_location(settings: Settings, shop: str, gid: str) -> CompanyLocation | None:
    """The location, or None without an access token.

    Raises:
        PermanentError: the token was refused, or Shopify refused the query.
        TransientError: Shopify is unavailable.
    """
    token = settings.shopify_access_token
    if token is None or not token.get_secret_value():
        log.warning("B2B order of %s: SHOPIFY_ACCESS_TOKEN unset, %s not read", shop, gid)
        return None
    what = f"Shopify company location {gid}"
    api = ShopifyGraphQL(
        shop,
        token.get_secret_value(),
        api_version=settings.shopify_api_version,
        base_url=settings.shopify_api_url,
        max_attempts=3,
    )
    try:
        return company_location(api, gid)
    except ProviderAuthError as exc:
        raise PermanentError(
            f"{what}: {exc}; SHOPIFY_ACCESS_TOKEN needs the read_companies scope, then replay"
        ) from exc
    except ProviderUnavailable as exc:
        raise TransientError(f"{what}: {exc}", retry_in=UNAVAILABLE_RETRY) from exc
    except ProviderApiError as exc:
        raise PermanentError(f"{what}: {exc}") from exc
    finally:
        api.close()


def with_company_location(order: Order, location: CompanyLocation | None) -> Order:
    """`order` with its buyer completed from its company location (pure)."""
    party = order.customer
    if party is None or location is None:
        return order
    address = party.address
    if location.country and (address is None or not address.country_code):
        address = (address or Address()).model_copy(update={"country_code": location.country})
    updated = party.model_copy(
        update={
            "vat_number": location.vat_number or party.vat_number,
            "company": party.company or location.company_name,
            "tax_exempt": party.tax_exempt or location.tax_exempt,
            "address": address,
        }
    )
    return order.model_copy(update={"customer": updated})


def complete_b2b_order(settings: Settings, order: Order) -> Order:
    """The order with its B2B buyer's registration read from Shopify (see the module table).

    Raises:
        PermanentError, TransientError: as `read_location`.
    """
    party = order.customer
    if order.provider != "shopify" or party is None or party.company_location is None:
        return order
    return with_company_location(
        order, read_location(settings, order.account, party.company_location)
    )
