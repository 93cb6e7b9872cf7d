"""Shopify B2B: a company location's tax registration, read through the GraphQL Admin API.

A B2B order's webhook names only its company and location (`company.id`,
`company.location_id`); the VAT id the buyer registered lives on the location
(`CompanyLocation.taxSettings.taxRegistrationId`, with `taxExempt` and `taxExemptions`;
scope `read_companies`). `company_location(api, gid)` reads it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.rest import ProviderApiError
from connectors.shopify.graphql import ShopifyGraphQL

COMPANY_LOCATION = """
query CompanyLocationTax($id: ID!) {
  companyLocation(id: $id) {
    id
    name
    company { name }
    billingAddress { countryCode }
    taxSettings { taxRegistrationId taxExempt taxExemptions }
  }
}
"""


class _Shape(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class _Named(_Shape):
    name: str | None = None


class _Address(_Shape):
    country_code: str | None = Field(default=None, alias="countryCode")


class _TaxSettings(_Shape):
    tax_registration_id: str | None = Field(default=None, alias="taxRegistrationId")
    tax_exempt: bool = Field(default=False, alias="taxExempt")
    tax_exemptions: list[str] = Field(default_factory=list, alias="taxExemptions")


class CompanyLocation(_Shape):
    """What the bridge needs of a company location."""

    id: str
    name: str | None = None
    company: _Named | None = None
    billing_address: _Address | None = Field(default=None, alias="billingAddress")
    tax_settings: _TaxSettings | None = Field(default=None, alias="taxSettings")

    @property
    def company_name(self) -> str | None:
        return self.company.name if self.company and self.company.name else self.name

    @property
    def vat_number(self) -> str | None:
        value = self.tax_settings.tax_registration_id if self.tax_settings else None
        return value.strip() if value and value.strip() else None

    @property
    def tax_exempt(self) -> bool:
        settings = self.tax_settings
        return bool(settings and (settings.tax_exempt or settings.tax_exemptions))

    @property
    def country(self) -> str | None:
        code = self.billing_address.country_code if self.billing_address else None
        return code.upper() if code else None


def company_location(api: ShopifyGraphQL, gid: str) -> CompanyLocation | None:
    """The company location `gid` (None when Shopify has no such location).

    Raises:
        ProviderApiError: Shopify refused, stayed unavailable, or answered another shape.
    """
    data = api.execute(COMPANY_LOCATION, {"id": gid})
    node = data.get("companyLocation") if isinstance(data, dict) else None
    if node is None:
        return None
    try:
        return CompanyLocation.model_validate(node)
    except ValidationError as exc:
        raise ProviderApiError(f"Shopify company location {gid}: unexpected answer: {exc}") from exc
