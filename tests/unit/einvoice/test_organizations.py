"""Which organisation the bridge works for (Sage 2026-07: status and onboarding)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.connections.models import ConnectionUpdate
from connectors.sage_active.models import Organization
from connectors.sage_active.organizations import EMPTY_GUID, OrganizationUnusable, choose

READY = Organization(id="a1", social_name="Boutique SAS", legislation_code="FR", status="READY",
                     onboarding_completed=True)  # fmt: skip
OTHER = Organization(id="b2", social_name="Atelier SARL", legislation_code="FR", status="READY",
                     onboarding_completed=True)  # fmt: skip
PENDING = Organization(id=EMPTY_GUID, social_name="Nouvelle SAS", legislation_code="FR",
                       status="PENDING", onboarding_completed=False)  # fmt: skip


def test_the_configured_or_only_usable_organisation_is_chosen() -> None:
    assert choose([READY, OTHER], "b2") is OTHER
    assert choose([READY], None) is READY


def test_several_visible_and_none_configured_names_them_all() -> None:
    with pytest.raises(OrganizationUnusable, match="SAGE_ORGANIZATION_ID") as caught:
        choose([READY, OTHER], None)
    assert "Boutique SAS" in str(caught.value)
    assert "Atelier SARL" in str(caught.value)


def test_a_pending_organisation_is_refused_by_name() -> None:
    with pytest.raises(OrganizationUnusable, match=r"Nouvelle SAS.*PENDING") as caught:
        choose([PENDING], None)
    assert "onboarding is not completed" in str(caught.value)
    with pytest.raises(OrganizationUnusable, match=r"not usable now.*Nouvelle SAS"):
        choose([READY, PENDING], "c3")


def test_the_empty_guid_is_refused() -> None:
    with pytest.raises(OrganizationUnusable, match="empty GUID"):
        choose([READY], EMPTY_GUID)
    with pytest.raises(ValidationError, match="empty GUID"):
        ConnectionUpdate.model_validate({"sage_organization_id": EMPTY_GUID})


def test_no_organisation_at_all() -> None:
    with pytest.raises(OrganizationUnusable, match="sees no organisation"):
        choose([], None)
