"""The Sage Active sandbox for tests: one app served over HTTP per session, reset per test.

Fixtures: `sandbox_app` (the Flask app, for WSGI-transport clients), `sandbox_url` (base
URL of the served app, reset before each test), `sandbox_token` (a fresh access token)
and `sandbox_headers` (Authorization, x-api-key and X-OrganizationId of the seeded org).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from connectors.sage_active.sandbox import SandboxConfig, create_app, seed_id
from tests.support.servers import serve_wsgi

ORGANIZATION_ID = str(seed_id("organization", "Boutique Démo SAS"))
CREDENTIALS = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "refresh_token": "sandbox-refresh",
    "api_key": "sandbox-key",
}


@pytest.fixture(scope="session")
def _sandbox_session_app() -> Iterator[Flask]:
    app = create_app(SandboxConfig())
    yield app
    app.extensions["sandbox"].close()


@pytest.fixture(scope="session")
def _sandbox_base_url(_sandbox_session_app: Flask) -> Iterator[str]:
    with serve_wsgi(_sandbox_session_app) as url:
        yield url


@pytest.fixture
def sandbox_app(_sandbox_session_app: Flask) -> Flask:
    """The session's sandbox app, freshly reset (seeded books, no faults, no stats)."""
    _sandbox_session_app.extensions["sandbox"].reset()
    return _sandbox_session_app


@pytest.fixture
def sandbox_url(_sandbox_base_url: str, sandbox_app: Flask) -> str:
    """Base URL of a freshly reset sandbox (GraphQL at `<url>/graphql`)."""
    return _sandbox_base_url


class SandboxControl:
    """A client of the sandbox's `/_sandbox` control surface (faults, stats, config, reset).

    `transport` lets a test reach the sandbox in-process (`httpx.WSGITransport`).
    """

    def __init__(self, base: str, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base, timeout=10.0, transport=transport)

    def faults(self, **spec: Any) -> None:
        self.http.post("/_sandbox/faults", json=spec).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_sandbox/faults").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self.http.get("/_sandbox/stats")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def reset_stats(self) -> None:
        self.http.delete("/_sandbox/stats").raise_for_status()

    def configure(self, **values: Any) -> None:
        self.http.post("/_sandbox/config", json=values).raise_for_status()

    def reset(self) -> None:
        self.http.post("/_sandbox/reset").raise_for_status()

    def auth(self, **values: Any) -> dict[str, Any]:
        """`POST /_sandbox/auth`: `refuse_grants=True|False`, `revoke_access=True`."""
        response = self.http.post("/_sandbox/auth", json=values)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def einvoicing(self, **values: Any) -> dict[str, Any]:
        """`POST /_sandbox/einvoicing`: `status=`, `next=`, `reason=`, `stepSeconds=`."""
        response = self.http.post("/_sandbox/einvoicing", json=values)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def organization(self, organization_id: str = "", **values: Any) -> dict[str, Any]:
        """`POST /_sandbox/organizations/<id>`: `status=`, `onboardingCompleted=`."""
        response = self.http.post(
            f"/_sandbox/organizations/{organization_id or ORGANIZATION_ID}", json=values
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        self.http.close()


def fetch_token(base_url: str) -> str:
    """An access token from the sandbox's token endpoint (refresh_token grant)."""
    response = httpx.post(
        f"{base_url}/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": CREDENTIALS["refresh_token"],
            "client_id": CREDENTIALS["client_id"],
            "client_secret": CREDENTIALS["client_secret"],
        },
        timeout=5,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def sandbox_token(sandbox_url: str) -> str:
    return fetch_token(sandbox_url)


@pytest.fixture
def sandbox_headers(sandbox_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {sandbox_token}",
        "x-api-key": CREDENTIALS["api_key"],
        "X-OrganizationId": ORGANIZATION_ID,
    }
