"""`bridge connections add` asks Sage whether the organisation is usable (Sage 2026-07)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bridge.cli import main
from tests.support.connections import KEY
from tests.support.sandbox import ORGANIZATION_ID, SandboxControl

EMPTY = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def env(redis_url: str, sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BRIDGE_SECRET_KEY", KEY)
    monkeypatch.setenv("SAGE_API_URL", f"{sandbox_url}/graphql")
    monkeypatch.setenv("SAGE_AUTH_URL", sandbox_url)


def add(organization: str, name: str = "alpha") -> tuple[int, str]:
    args = ["connections", "add", name, "--shop", f"{name}.myshopify.com",
            "--sage-organization", organization, "--webhook-secret", "secret-of-alpha"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_a_pending_organisation_is_refused_by_name_and_added_once_ready(sandbox_url: str) -> None:
    control = SandboxControl(sandbox_url)
    try:
        control.organization(status="PENDING", onboardingCompleted=False)
        code, out = add(ORGANIZATION_ID)
        assert code == 1
        assert "Boutique Démo SAS" in out
        assert "PENDING" in out

        code, out = add(EMPTY)
        assert code != 0
        assert "empty GUID" in out

        control.organization(status="READY", onboardingCompleted=True)
        code, out = add(ORGANIZATION_ID)
        assert code == 0, out
        assert json.loads(out)["sage_organization_id"] == ORGANIZATION_ID
    finally:
        control.close()


def test_an_organisation_sage_does_not_show_is_refused() -> None:
    code, out = add("6f1c7a58-1b1e-4a1e-9f9a-0e4a2f5b7c11")
    assert code == 1
    assert "is not visible to this Sage account" in out
    assert "Boutique Démo SAS" in out
