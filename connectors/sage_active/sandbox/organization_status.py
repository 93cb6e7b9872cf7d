"""An organisation's lifecycle since Sage 2026-07: usable only when READY and onboarded."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.entities import Organization
from connectors.sage_active.sandbox.errors import BusinessError

EMPTY_GUID = UUID(int=0)
STATUSES = (
    "UNDEFINED",
    "BLOCKED",
    "CANCELLED",
    "EXPIRED",
    "NO_LICENSE",
    "PENDING",
    "READY",
    "RESET",
    "TRANSFERRING",
)


def usable(org: Organization) -> bool:
    """Whether the public API hands out this organisation's id (READY and onboarded)."""
    return org.status == "READY" and org.onboarding_completed


def require_usable(books: Books) -> Books:
    """Raises: BusinessError `organizationNotReady` naming the status and onboarding."""
    org = books.organization
    if not usable(org):
        raise BusinessError(
            "organizationNotReady",
            id=str(org.id),
            status=org.status,
            onboardingCompleted=org.onboarding_completed,
        )
    return books


def set_status(
    org: Organization, now: datetime, status: str | None, onboarding_completed: bool | None
) -> None:
    """Change an organisation's lifecycle as Sage would (the control surface).

    Raises:
        BusinessError: `invalidOrganizationStatus` for a status not in the enum.
    """
    if status is not None:
        if status not in STATUSES:
            raise BusinessError("invalidOrganizationStatus", status=status)
        org.status = status
    if onboarding_completed is not None:
        org.onboarding_completed = onboarding_completed
        org.onboarding_date_completed = now if onboarding_completed else None
    org.modification_date = now
