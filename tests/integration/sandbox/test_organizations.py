"""Several organisations in one sandbox, and one rate limit per app (client id) across them."""

from __future__ import annotations

import httpx

from connectors.sage_active.sandbox import seed_id

QUERY = {"query": "{ journalTypes { nodes { code type } } }"}
INVOICES = {"query": "{ salesInvoices { nodes { id } } }"}


def test_an_organisation_is_added_seeded_like_the_first(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    made = http.post("/_sandbox/organizations", json={"name": "Shop B SAS"})
    assert made.status_code == 201
    org = made.json()["id"]
    assert org == str(seed_id("organization", "Shop B SAS"))

    headers = {**sandbox_headers, "X-OrganizationId": org}
    journals = http.post("/graphql", json=QUERY, headers=headers).json()
    assert {j["code"] for j in journals["data"]["journalTypes"]["nodes"]} == {"VT", "BQ", "HA"}
    listed = http.post(
        "/graphql", json={"query": "{ organizations { nodes { id socialName } } }"}, headers=headers
    ).json()
    assert "Shop B SAS" in {o["socialName"] for o in listed["data"]["organizations"]["nodes"]}
    assert http.post("/graphql", json=INVOICES, headers=headers).json()["data"] == {
        "salesInvoices": {"nodes": []}
    }


def test_a_second_organisation_of_the_same_name_or_a_bad_body_is_refused(
    http: httpx.Client,
) -> None:
    assert http.post("/_sandbox/organizations", json={"name": "Shop B SAS"}).status_code == 201
    assert http.post("/_sandbox/organizations", json={"name": "Shop B SAS"}).status_code == 409
    # without a name, the legislation's demo organisation: the FR one is seeded already
    assert http.post("/_sandbox/organizations", json={}).status_code == 409
    assert http.post("/_sandbox/organizations", json={"name": ""}).status_code == 400
    bad = {"name": "X", "legislationCode": "IT"}
    assert http.post("/_sandbox/organizations", json=bad).status_code == 400


def test_the_rate_limit_is_per_app_across_organisations(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    other = http.post("/_sandbox/organizations", json={"name": "Shop C SAS"}).json()["id"]
    http.post("/_sandbox/config", json={"rate_limit_per_minute": 3})
    try:
        first = [http.post("/graphql", json=QUERY, headers=sandbox_headers) for _ in range(2)]
        elsewhere = {**sandbox_headers, "X-OrganizationId": other}
        then = [http.post("/graphql", json=QUERY, headers=elsewhere) for _ in range(2)]
    finally:
        http.post("/_sandbox/config", json={"rate_limit_per_minute": 3000})
    assert [r.status_code for r in first + then] == [200, 200, 200, 429]
