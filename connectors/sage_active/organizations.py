"""Which Sage Active organisation to work for, as the 2026-07 release defines "usable".

`organizations` lists the organisations the user can access with their `status` and
`onboardingCompleted`. Only one that is READY and onboarded can be used: for any other the
API lists the empty GUID as its id (and refuses requests for it). `choose` picks the
organisation of a connection: the configured one when it is listed and usable; with none
configured, the only one visible. It never picks one of several silently, and every
refusal names the organisations it saw, so a person can set `SAGE_ORGANIZATION_ID`.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.sage_active.errors import SageInvalidRequest
from connectors.sage_active.models import Organization

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
READY = "READY"


class OrganizationUnusable(SageInvalidRequest):
    """The organisation cannot be used (not READY, not onboarded, empty GUID, not listed,
    or several visible and none chosen); the message names what was seen."""


def usable(org: Organization) -> bool:
    """READY and onboarded, with a real id (Sage's rule since 2026-07)."""
    return (
        org.id.strip() not in ("", EMPTY_GUID)
        and (org.status or READY) == READY
        and org.onboarding_completed is not False
    )


def describe(org: Organization) -> str:
    """`Boutique SAS (FR, id ..., status PENDING, onboarding not completed)`."""
    onboarding = (
        "onboarded" if org.onboarding_completed is not False else "onboarding not completed"
    )
    shown = "the empty GUID" if org.id.strip() in ("", EMPTY_GUID) else org.id
    status = org.status or "status unknown"
    return (
        f"{org.social_name or 'unnamed'} ({org.legislation_code or '?'}, id {shown}, "
        f"status {status}, {onboarding})"
    )


def _listing(orgs: Sequence[Organization]) -> str:
    return "; ".join(describe(org) for org in orgs) or "none"


def _why(org: Organization) -> str:
    reasons = []
    if (org.status or READY) != READY:
        reasons.append(f"its status is {org.status}, not READY")
    if org.onboarding_completed is False:
        reasons.append("its onboarding is not completed in Sage Active")
    if not reasons:
        reasons.append("Sage lists it with the empty GUID")
    return " and ".join(reasons)


def choose(orgs: Sequence[Organization], wanted: str | None) -> Organization:
    """The organisation to use among `orgs` (as `organizations` lists them).

    Raises:
        OrganizationUnusable: `wanted` is the empty GUID, not listed or not usable; none is
            wanted and none, or several, are visible; the only one is not usable.
    """
    wanted = (wanted or "").strip() or None
    if wanted == EMPTY_GUID:
        raise OrganizationUnusable(
            "SAGE_ORGANIZATION_ID is the empty GUID: Sage gives that id to an organisation "
            f"that is not READY and onboarded. Visible: {_listing(orgs)}"
        )
    if wanted is not None:
        found = next((org for org in orgs if org.id == wanted), None)
        if found is None:
            hidden = [org for org in orgs if not usable(org)]
            note = (
                f"; not usable now (listed with the empty GUID): {_listing(hidden)}"
                if hidden
                else ""
            )
            raise OrganizationUnusable(
                f"SAGE_ORGANIZATION_ID {wanted} is not visible to this Sage account as a usable "
                f"organisation (usable: {_listing([o for o in orgs if usable(o)])}){note}"
            )
        if not usable(found):
            raise OrganizationUnusable(
                f"organisation {describe(found)} cannot be used: {_why(found)}"
            )
        return found
    if not orgs:
        raise OrganizationUnusable("this Sage account sees no organisation")
    if len(orgs) > 1:
        raise OrganizationUnusable(
            f"this Sage account sees {len(orgs)} organisations: set SAGE_ORGANIZATION_ID "
            f"(or the connection's --sage-organization) to one of: {_listing(orgs)}"
        )
    only = orgs[0]
    if not usable(only):
        raise OrganizationUnusable(f"organisation {describe(only)} cannot be used: {_why(only)}")
    return only
