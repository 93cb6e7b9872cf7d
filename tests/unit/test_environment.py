"""The suite is isolated from the developer's `.env` and exported variables
(`tests/support/environment.py`), and the bridge still reads `.env` outside the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bridge.settings import Settings
from tests.support.environment import bridge_variables, isolate

ROOT = Path(__file__).resolve().parents[2]
# What a developer following the docs keeps in `.env` (values invented).
DOTENV = f"""
REDIS_URL=redis://127.0.0.1:6399/3
SAGE_API_URL=https://api.sage.example/graphql
SAGE_ORGANIZATION_ID=11111111-2222-3333-4444-555555555555
SHOPIFY_SHOP_DOMAIN=my-real-shop.myshopify.com
SHOPIFY_WEBHOOK_SECRET=shpss_from_dotenv
STRIPE_WEBHOOK_SECRET=whsec_from_dotenv
BRIDGE_SECRET_KEY={Fernet.generate_key().decode()}
BRIDGE_ADMIN_TOKEN=dotenv-admin-token-long-enough
BRIDGE_CONNECTION=my-shop
BRIDGE_START_DATE=2026-01-01
"""
PROBE = (
    "from bridge.settings import Settings; s = Settings(); "
    "print(s.shopify_shop_domain, len(s.secret_key), s.connection, s.redis_url)"
)


def probe(cwd: Path, **env: str) -> str:
    """What a process of the suite (a worker, a `bridge` command) would read, from `cwd`."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_a_dotenv_in_the_working_directory_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(DOTENV, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.shopify_shop_domain is None
    assert settings.secret_key == []
    assert settings.connection == "default"
    assert settings.redis_url is None
    assert settings.start_date is None


def test_processes_the_suite_starts_ignore_it_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOTENV, encoding="utf-8")

    assert probe(tmp_path) == "None 0 default None"
    # ... while outside the suite (BRIDGE_ENV_FILE unset) the same file is read
    outside = {k: v for k, v in os.environ.items() if k != "BRIDGE_ENV_FILE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={**outside, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "my-real-shop.myshopify.com 1 my-shop redis://127.0.0.1:6399/3"


def test_exported_variables_are_cleared_and_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", "exported.myshopify.com")
    monkeypatch.setenv("BRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("TEST_REDIS_URL", "redis://127.0.0.1:1/0")  # the suite's own knob

    removed = isolate()

    assert {"SHOPIFY_SHOP_DOMAIN", "BRIDGE_SECRET_KEY"} <= set(removed)
    assert bridge_variables(os.environ) == ["BRIDGE_DEV_STATE_DIR", "BRIDGE_ENV_FILE"]
    assert os.environ["TEST_REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert Settings().shopify_shop_domain is None
