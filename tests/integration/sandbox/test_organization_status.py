"""The organisations split of Sage 2026-07 in the sandbox: `organizations` lists selection
fields with `status`, moved fields answer null there and are read with `organizationDetail`;
an organisation that is not READY and onboarded is listed with the empty GUID and refused."""

from __future__ import annotations

import httpx

from tests.integration.sandbox.helpers import Sage
from tests.support.sandbox import ORGANIZATION_ID

EMPTY = "00000000-0000-0000-0000-000000000000"
LIST = """{ organizations { nodes { id socialName legislationCode status onboardingCompleted
  onboardingDateCompleted vatNumber documentId currencyId useCustomerCodes } } }"""
DETAIL = "{ organizationDetail { id socialName vatNumber documentId addresses { city } } }"


def test_organizations_answer_selection_fields_and_the_detail_the_rest(sage: Sage) -> None:
    [org] = sage.data(LIST)["organizations"]["nodes"]
    assert org["id"] == ORGANIZATION_ID
    assert (org["status"], org["onboardingCompleted"], org["legislationCode"]) == (
        "READY",
        True,
        "FR",
    )
    assert org["onboardingDateCompleted"] is not None
    assert (org["vatNumber"], org["documentId"], org["currencyId"], org["useCustomerCodes"]) == (
        None,
        None,
        None,
        None,
    )
    detail = sage.data(DETAIL)["organizationDetail"]
    assert detail["id"] == ORGANIZATION_ID
    assert detail["vatNumber"] == "FR96552100554"
    assert detail["documentId"] == "552100554"
    assert detail["addresses"] == [{"city": "Paris"}]


def test_a_pending_organisation_is_listed_with_the_empty_guid_and_refused(
    sage: Sage, http: httpx.Client
) -> None:
    answer = http.post(
        f"/_sandbox/organizations/{ORGANIZATION_ID}",
        json={"status": "PENDING", "onboardingCompleted": False},
    )
    assert answer.status_code == 200
    assert answer.json()["usable"] is False
    [org] = sage.data(LIST)["organizations"]["nodes"]
    assert (org["id"], org["status"], org["onboardingCompleted"]) == (EMPTY, "PENDING", False)
    error = sage.error("{ customers { nodes { id } } }")
    assert error["extensions"]["code"] == "organizationNotReady"
    assert error["extensions"]["status"] == "PENDING"
    # READY but onboarding not completed is still refused
    http.post(f"/_sandbox/organizations/{ORGANIZATION_ID}", json={"status": "READY"})
    assert sage.data(LIST)["organizations"]["nodes"][0]["id"] == EMPTY
    http.post(f"/_sandbox/organizations/{ORGANIZATION_ID}", json={"onboardingCompleted": True})
    assert sage.data(LIST)["organizations"]["nodes"][0]["id"] == ORGANIZATION_ID
    assert sage.data("{ customers { nodes { code } } }")["customers"]["nodes"]


def test_bad_organisation_status_bodies(http: httpx.Client) -> None:
    url = f"/_sandbox/organizations/{ORGANIZATION_ID}"
    assert http.post(url, json={"status": "SLEEPING"}).status_code == 400
    assert http.post(url, json={"other": True}).status_code == 400
    assert http.post("/_sandbox/organizations/not-a-guid", json={}).status_code == 404
    assert http.post(f"/_sandbox/organizations/{EMPTY}", json={}).status_code == 404
