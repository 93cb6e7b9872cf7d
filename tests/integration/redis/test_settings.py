"""Settings checked at start: a bad `BRIDGE_SUBSCRIPTIONS` entry stops the process, clearly."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bridge.cli import main
from bridge.settings import Settings
from bridge.web import create_production_app

GOOD = {"url": "https://hooks.example.com/in", "event_types": ["invoice.posted"]}
SECRET = "whsec_" + "A" * 32


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"url": "https://hooks.example.com/in"}, "BRIDGE_SUBSCRIPTIONS[1]: event_types"),
        ({**GOOD, "event_types": []}, "BRIDGE_SUBSCRIPTIONS[1]: event_types"),
        ({**GOOD, "event_types": ["invoice.paid"]}, "unknown event type 'invoice.paid'"),
        ({**GOOD, "url": "http://hooks.example.com/in"}, "[1]: url refused: plain http"),
        ({**GOOD, "url": "https://10.1.2.3/in"}, "[1]: url refused: 10.1.2.3 is a private address"),
        ({**GOOD, "secret": "whsec_not base64!"}, "[1]: a signing secret is 'whsec_' followed"),
        ({**GOOD, "colour": "red"}, "[1]: colour: Extra inputs are not permitted"),
        ("https://hooks.example.com/in", "BRIDGE_SUBSCRIPTIONS.1\n  Input should be a valid dict"),
    ],
)
def test_a_bad_entry_fails_the_settings_and_names_it(
    monkeypatch: pytest.MonkeyPatch, entry: object, problem: str
) -> None:
    monkeypatch.setenv("BRIDGE_SUBSCRIPTIONS", json.dumps([GOOD, entry]))
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert problem in str(caught.value)


def test_the_error_does_not_print_the_configured_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_stripe_very_secret")
    entry = {**GOOD, "secret": SECRET, "url": "http://hooks.example.com/in"}
    monkeypatch.setenv("BRIDGE_SUBSCRIPTIONS", json.dumps([entry]))
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "BRIDGE_SUBSCRIPTIONS[0]: url refused" in str(caught.value)
    assert "A" * 32 not in str(caught.value)
    assert "very_secret" not in str(caught.value)


def test_good_entries_pass_and_private_urls_need_the_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = {"url": "http://127.0.0.1:9000/hook", "event_types": ["sync.failed"], "secret": SECRET}
    monkeypatch.setenv("BRIDGE_SUBSCRIPTIONS", json.dumps([GOOD, local]))
    monkeypatch.setenv("BRIDGE_OUTBOUND_ALLOW_PRIVATE", "true")
    assert Settings().outbound_subscriptions == [GOOD, local]
    monkeypatch.setenv("BRIDGE_OUTBOUND_ALLOW_PRIVATE", "false")
    with pytest.raises(ValidationError, match=r"BRIDGE_SUBSCRIPTIONS\[1\]: url refused"):
        Settings()


def test_web_refuses_to_start_with_a_bad_entry(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BRIDGE_SUBSCRIPTIONS", json.dumps([{"url": GOOD["url"]}]))

    result = CliRunner().invoke(main, ["web", "--port", "1"])

    # a clear message and exit code 1, before gunicorn is started (no app, so no 500 later)
    assert result.exit_code == 1
    assert "invalid settings" in result.output
    assert "BRIDGE_SUBSCRIPTIONS[0]: event_types: Field required" in result.output
    with pytest.raises(ValidationError, match=r"BRIDGE_SUBSCRIPTIONS\[0\]"):
        create_production_app()  # what gunicorn loads: it fails at boot, never in a request


def test_retention_and_heartbeat_defaults_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.event_retention_days == 35  # longer than Stripe's 30 days of redelivery
    assert settings.worker_heartbeat_ttl == 30
    monkeypatch.setenv("BRIDGE_EVENT_RETENTION_DAYS", "0")
    with pytest.raises(ValidationError, match="BRIDGE_EVENT_RETENTION_DAYS"):
        Settings()
    monkeypatch.setenv("BRIDGE_EVENT_RETENTION_DAYS", "40")
    monkeypatch.setenv("BRIDGE_WORKER_HEARTBEAT_TTL", "1")
    with pytest.raises(ValidationError, match="BRIDGE_WORKER_HEARTBEAT_TTL"):
        Settings()
