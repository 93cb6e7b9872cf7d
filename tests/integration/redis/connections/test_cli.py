"""`bridge connections ...` on the real test Redis."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import redis
from click.testing import CliRunner
from cryptography.fernet import Fernet

from bridge.cli import main
from bridge.connections.hub import ServicesHub
from bridge.services import build_services
from bridge.settings import Settings
from tests.support.connections import KEY


@pytest.fixture(autouse=True)
def env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BRIDGE_SECRET_KEY", KEY)


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["connections", *args], input=stdin)
    return result.exit_code, result.output


def test_add_show_list_pause_resume_remove(redis_client: redis.Redis) -> None:
    code, out = run(
        "add", "alpha", "--shop", "alpha.myshopify.com", "--sage-organization", "org-a",
        "--webhook-secret", "-", "--mapping", '{"sales_journal_code": "VE"}',
        stdin="alpha-secret-one\nalpha-secret-two\n",
    )  # fmt: skip
    assert code == 0, out
    shown = json.loads(out)
    assert shown["secrets"]["webhook_secrets"]["set"] is True
    assert len(shown["secrets"]["webhook_secrets"]["fingerprints"]) == 2
    assert "alpha-secret-one" not in out

    code, out = run("list")
    assert (code, out.split()) == (
        0,
        ["alpha", "shopify", "alpha.myshopify.com", "org-a", "enabled"],
    )
    assert run("disable", "alpha")[0] == 0
    assert "disabled" in run("list")[1]
    assert run("enable", "alpha")[0] == 0
    code, out = run("update", "alpha", "--mapping", '{"shop_currency": "CHF"}')
    assert code == 0, out
    assert json.loads(out)["mapping"] == {"sales_journal_code": "VE", "shop_currency": "CHF"}
    assert "alpha-secret-one" not in run("show", "alpha")[1]
    assert run("remove", "alpha", "--yes")[0] == 0
    assert run("list")[1] == ""


def test_bad_input_is_one_clear_line_and_changes_nothing(redis_client: redis.Redis) -> None:
    code, out = run("add", "alpha", "--shop", "alpha.myshopify.com", "--sage-organization", "o")
    assert code != 0
    assert "at least one webhook signing secret" in out
    code, out = run(
        "add", "alpha", "--shop", "alpha.myshopify.com", "--sage-organization", "o",
        "--webhook-secret", "long-enough-secret", "--mapping", '{"journal": "VT"}',
    )  # fmt: skip
    assert code != 0
    assert "Extra inputs are not permitted" in out
    code, out = run("add", "alpha", "--sage-organization", "o", "--webhook-secret", "xxxxxxxxxx")
    assert code != 0
    assert "either --shop DOMAIN or --stripe" in out
    assert run("show", "nobody")[0] != 0
    assert redis_client.keys("*") == []


def test_keygen_and_rotate_key(monkeypatch: pytest.MonkeyPatch) -> None:
    code, key = run("keygen")
    assert code == 0
    Fernet(key.strip().encode())  # a usable key
    run(
        "add", "gamma", "--stripe", "--sage-organization", "org-c",
        "--webhook-secret", "whsec_gamma_secret",
    )  # fmt: skip
    monkeypatch.setenv("BRIDGE_SECRET_KEY", f"{key.strip()},{KEY}")
    assert run("rotate-key") == (0, "1 connection(s) re-encrypted with the first key\n")
    monkeypatch.setenv("BRIDGE_SECRET_KEY", key.strip())
    assert run("show", "gamma")[0] == 0


def test_a_go_live_date_is_given_changed_and_served(redis_url: str) -> None:
    code, out = run(
        "add", "alpha", "--shop", "alpha.myshopify.com", "--sage-organization", "org-a",
        "--webhook-secret", "alpha-secret-one", "--start-date", "2026-11-01",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["mapping"] == {"start_date": "2026-11-01"}
    code, out = run("update", "alpha", "--start-date", "2026-12-01")
    assert code == 0, out
    assert json.loads(out)["mapping"] == {"start_date": "2026-12-01"}
    assert run("add", "beta", "--shop", "beta.myshopify.com", "--sage-organization", "org-b",
               "--webhook-secret", "beta-secret-one", "--start-date", "1 Nov")[0] == 2  # fmt: skip

    base = build_services(Settings(REDIS_URL=redis_url, BRIDGE_SECRET_KEY=KEY))
    try:
        served = ServicesHub(base).services("alpha")
        assert served is not None
        assert served.settings.start_date == dt.date(2026, 12, 1)
    finally:
        base.close()
