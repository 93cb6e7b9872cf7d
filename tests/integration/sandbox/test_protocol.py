"""HTTP protocol: OAuth, 401, X-OrganizationId, business errors, 400, 429."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.sandbox.helpers import CREATE, Sage, invoice_values
from tests.support.sandbox import CREDENTIALS, ORGANIZATION_ID

pytestmark = pytest.mark.integration

QUERY = {"query": "{ journalTypes { nodes { code type } } }"}


def _token_form(**extra: str) -> dict[str, str]:
    return {
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        **extra,
    }


def test_token_answer_shape_and_refresh(http: httpx.Client) -> None:
    response = http.post(
        "/connect/token",
        data=_token_form(grant_type="refresh_token", refresh_token="sandbox-refresh"),
    )
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert (body["expires_in"], body["token_type"]) == (28800, "Bearer")
    # the refresh token just issued works too
    again = http.post(
        "/connect/token",
        data=_token_form(grant_type="refresh_token", refresh_token=body["refresh_token"]),
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        (
            {
                "grant_type": "refresh_token",
                "refresh_token": "sandbox-refresh",
                "client_secret": "wrong",
            },
            401,
            "invalid_client",
        ),
    ],
)
def test_token_errors(http: httpx.Client, form: dict[str, str], status: int, error: str) -> None:
    response = http.post("/connect/token", data=_token_form(**form))
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_authorization_code_flow_code_works_once(http: httpx.Client) -> None:
    redirect = http.get(
        "/connect/authorize",
        params={
            "response_type": "code",
            "client_id": "sandbox-client",
            "scope": "RDSA WDSA offline_access",
            "redirect_uri": "http://localhost:9999/callback",
            "state": "xyz",
        },
    )
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    params = parse_qs(location.query)
    assert (location.netloc, location.path, params["state"]) == (
        "localhost:9999",
        "/callback",
        ["xyz"],
    )
    form = _token_form(
        grant_type="authorization_code",
        code=params["code"][0],
        redirect_uri="http://localhost:9999/callback",
    )
    first = http.post("/connect/token", data=form)
    second = http.post("/connect/token", data=form)
    assert first.status_code == 200
    assert "access_token" in first.json()
    assert (second.status_code, second.json()) == (400, {"error": "invalid_grant"})


def test_authorize_refuses_unknown_client(http: httpx.Client) -> None:
    response = http.get(
        "/connect/authorize",
        params={"response_type": "code", "client_id": "someone", "redirect_uri": "http://x/cb"},
    )
    assert (response.status_code, response.json()) == (400, {"error": "unauthorized_client"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "sandbox-key"},
        {"Authorization": "Bearer not-a-token", "x-api-key": "sandbox-key"},
        {"Authorization": "Bearer {token}"},
        {"Authorization": "Bearer {token}", "x-api-key": "wrong"},
    ],
)
def test_401_without_valid_token_and_api_key(
    http: httpx.Client, sandbox_token: str, headers: dict[str, str]
) -> None:
    sent = {k: v.replace("{token}", sandbox_token) for k, v in headers.items()}
    response = http.post(
        "/graphql", json=QUERY, headers={**sent, "X-OrganizationId": ORGANIZATION_ID}
    )
    assert response.status_code == 401


def test_access_tokens_expire(http: httpx.Client, sandbox_headers: dict[str, str]) -> None:
    http.post("/_sandbox/config", json={"token_lifetime": 1})
    token = http.post(
        "/connect/token",
        data=_token_form(grant_type="refresh_token", refresh_token="sandbox-refresh"),
    ).json()
    headers = {**sandbox_headers, "Authorization": f"Bearer {token['access_token']}"}
    fresh = http.post("/graphql", json=QUERY, headers=headers)
    time.sleep(1.1)
    expired = http.post("/graphql", json=QUERY, headers=headers)
    http.post("/_sandbox/config", json={"token_lifetime": 28800})
    assert token["expires_in"] == 1
    assert (fresh.status_code, expired.status_code) == (200, 401)


def test_organization_header_required_except_profile_and_organizations(sage: Sage) -> None:
    headers = {k: v for k, v in sage.headers.items() if k != "X-OrganizationId"}
    bare = Sage(sage.http, headers)
    missing = bare.call(QUERY["query"])
    unknown = sage.call(
        QUERY["query"], headers={"X-OrganizationId": "6f1c7c4e-0000-0000-0000-000000000000"}
    )
    fine = bare.data("{ userProfile { id } organizations { totalCount } }")
    assert missing.status_code == 200
    assert missing.json() == {
        "errors": [
            {
                "message": "global.businessErrors.organizationIdRequired",
                "path": ["journalTypes"],
                "extensions": {"code": "organizationIdRequired", "header": "X-OrganizationId"},
            }
        ],
        "data": {"journalTypes": None},
    }
    assert unknown.json()["errors"][0]["extensions"]["code"] == "organizationNotFound"
    assert fine["organizations"]["totalCount"] == 1


def test_aliased_mutations_fail_independently(sage: Sage) -> None:
    document = """mutation ($good: SalesInvoiceCreateGLDtoInput!,
                            $bad: SalesInvoiceCreateGLDtoInput!) {
      first: createSalesInvoice(input: $good) { status }
      second: createSalesInvoice(input: $bad) { status }
      third: createSalesInvoice(input: $good) { status } }"""
    body = sage.call(
        document, {"good": invoice_values(), "bad": invoice_values(externalReference="X" * 21)}
    ).json()
    assert body["data"] == {
        "first": {"status": "Pending"},
        "second": None,
        "third": {"status": "Pending"},
    }
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["second"], "maxLengthExceeded")
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b'{"variables": {}}',
        b'{"query": "{ journalTypes { nodes { nope } } }"}',
        b'{"query": "{ journalTypes { "}',
        b'{"query": "query ($n: Int!) { journalTypes(first: $n) { totalCount } }",'
        b' "variables": {"n": "x"}}',
    ],
)
def test_invalid_graphql_is_400(
    http: httpx.Client, sandbox_headers: dict[str, str], payload: bytes
) -> None:
    response = http.post(
        "/graphql", content=payload, headers={**sandbox_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


def test_decimal_strings_are_refused_not_guessed(sage: Sage) -> None:
    values = invoice_values(
        lines=[
            {
                "productId": invoice_values()["lines"][0]["productId"],
                "totalQuantity": "1",
                "unitPrice": 10,
            }
        ]
    )
    assert sage.call(CREATE, {"values": values}).status_code == 400


def test_rate_limit_gives_429_with_retry_after(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    http.post("/_sandbox/config", json={"rate_limit_per_minute": 3})
    statuses = [http.post("/graphql", json=QUERY, headers=sandbox_headers) for _ in range(4)]
    http.post("/_sandbox/config", json={"rate_limit_per_minute": 3000})
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60
