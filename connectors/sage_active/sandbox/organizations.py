"""Organisations since the 2026-07 split: `organizations` lists, `organizationDetail` details.

`organizations` answers only the selection fields (`id`, dates, `status`,
`onboardingCompleted`, `onboardingDateCompleted`, `legislationCode`, `socialName`); the
configuration fields still exist in the schema but answer null there, and are read with
`organizationDetail` for the organisation named by `X-OrganizationId`. An organisation is
usable only when `status = READY` and `onboardingCompleted = true`: otherwise its id is
listed as the empty GUID, and a request naming it is refused (`organizationNotReady`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from graphql import GraphQLResolveInfo

from connectors.sage_active.sandbox.entities import EInvoiceSetup, Organization
from connectors.sage_active.sandbox.filters import Connection
from connectors.sage_active.sandbox.organization_status import EMPTY_GUID, usable
from connectors.sage_active.sandbox.resolvers import Context, select


@dataclass(slots=True)
class Selection:
    """One row of `organizations`: the selection fields; every other field reads null."""

    id: UUID
    creation_date: datetime
    modification_date: datetime
    status: str
    onboarding_completed: bool
    onboarding_date_completed: datetime | None
    legislation_code: str
    social_name: str


@dataclass(slots=True)
class OrganizationAddress:
    id: UUID
    name: str | None = None
    first_line: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country_iso_code_alpha2: str | None = None
    is_main_address: bool = True


@dataclass(slots=True)
class Detail:
    """`organizationDetail`: the whole configuration of the organisation."""

    id: UUID
    creation_date: datetime
    modification_date: datetime
    status: str
    onboarding_completed: bool
    onboarding_date_completed: datetime | None
    legislation_code: str
    social_name: str
    document_id: str | None
    vat_number: str | None
    vat_criterion: bool
    naf_ape_code: str | None
    addresses: list[OrganizationAddress]
    use_withholding_for_sales: bool = False


def selection(org: Organization) -> Selection:
    return Selection(
        id=org.id if usable(org) else EMPTY_GUID,
        creation_date=org.creation_date,
        modification_date=org.modification_date,
        status=org.status,
        onboarding_completed=org.onboarding_completed,
        onboarding_date_completed=org.onboarding_date_completed,
        legislation_code=org.legislation_code,
        social_name=org.social_name,
    )


def organizations(_root: Any, info: GraphQLResolveInfo[Context], **args: Any) -> Connection:
    """The `organizations` query (no X-OrganizationId needed)."""
    ctx: Context = info.context
    rows = [selection(books.organization) for books in ctx.state.books.values()]
    return select(ctx, "Organization", rows, args)


def organization_detail(_root: Any, info: GraphQLResolveInfo[Context]) -> Detail:
    """The `organizationDetail` query, for the organisation of `X-OrganizationId`.

    Raises:
        BusinessError: header missing, unknown organisation, or not usable.
    """
    org = info.context.require_books().organization
    country = {"FR": ("10 rue de la Paix", "Paris", "75002")}.get(org.legislation_code)
    address = OrganizationAddress(
        id=org.id,
        name="Siège",
        first_line=country[0] if country else None,
        city=country[1] if country else None,
        zip_code=country[2] if country else None,
        country_iso_code_alpha2=org.legislation_code,
    )
    return Detail(
        id=org.id,
        creation_date=org.creation_date,
        modification_date=org.modification_date,
        status=org.status,
        onboarding_completed=org.onboarding_completed,
        onboarding_date_completed=org.onboarding_date_completed,
        legislation_code=org.legislation_code,
        social_name=org.social_name,
        document_id=org.document_id,
        vat_number=org.vat_number,
        vat_criterion=org.vat_criterion,
        naf_ape_code=org.naf_ape_code,
        addresses=[address],
    )


def setup_query(_root: Any, info: GraphQLResolveInfo[Context]) -> EInvoiceSetup | None:
    """`organizationEInvoiceSetupByOrgId` (French e-invoicing): null for an organisation
    never registered with the platform."""
    return info.context.require_books().einvoice_setup
