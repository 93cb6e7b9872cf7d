"""`POST /_sandbox/auth`: the sandbox refuses the connection's tokens, then takes them again."""

from __future__ import annotations

import httpx
import pytest

from tests.support.sandbox import CREDENTIALS

pytestmark = pytest.mark.integration

QUERY = {"query": "{ organizations { nodes { id } } }"}


def _grant(http: httpx.Client, refresh: str = CREDENTIALS["refresh_token"]) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
    }
    return http.post("/connect/token", data=form)


def _query(http: httpx.Client, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "x-api-key": CREDENTIALS["api_key"]}
    return http.post("/graphql", json=QUERY, headers=headers).status_code


def test_refused_grants_and_revoked_tokens_until_turned_off(http: httpx.Client) -> None:
    first = _grant(http).json()
    assert _query(http, first["access_token"]) == 200

    answer = http.post("/_sandbox/auth", json={"refuse_grants": True, "revoke_access": True})
    assert answer.json()["refuse_grants"] is True
    assert answer.json()["revoked"] >= 1  # ours, and any other test's still alive
    assert _query(http, first["access_token"]) == 401
    refused = _grant(http, first["refresh_token"])
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_grant"})

    http.post("/_sandbox/auth", json={"refuse_grants": False})
    again = _grant(http, first["refresh_token"])  # the rotated token is good again
    assert again.status_code == 200
    assert _query(http, again.json()["access_token"]) == 200


def test_reset_takes_tokens_again_and_bad_bodies_are_400(http: httpx.Client) -> None:
    http.post("/_sandbox/auth", json={"refuse_grants": True})
    http.post("/_sandbox/reset")
    assert _grant(http).status_code == 200
    assert http.post("/_sandbox/auth", json={"refuse": True}).status_code == 400
    assert http.post("/_sandbox/auth", json={"revoke_access": "maybe"}).status_code == 400
