"""Sentry scrubbing (a pure function) and JSON logs carrying provider / event / task ids."""

from __future__ import annotations

import json
import logging

from bridge.observability import (
    SCRUBBED,
    ContextFilter,
    JsonFormatter,
    current_context,
    log_context,
    scrub,
    scrub_breadcrumb,
)
from bridge.settings import Settings


def test_scrub_removes_signature_headers_tokens_secrets_and_emails() -> None:
    event = {
        "request": {
            "headers": {
                "X-Shopify-Hmac-Sha256": "abc=",
                "Stripe-Signature": "t=1,v1=ff",
                "Authorization": "Bearer admin",
                "x-api-key": "sandbox-key",
                "X-Shopify-Topic": "orders/create",
            },
            "data": '{"email": "jane.doe@example.com", "note": "call me"}',
        },
        "extra": {
            "webhook_secret": "whsec_live_123",
            "settings": {"sage_client_secret": "s3cr3t", "shop": "demo"},
            "message": "signed with whsec_abc123 for bob@shop.fr",
        },
        "user": {"id": "42", "email": "jane.doe@example.com"},
        "breadcrumbs": {"values": [{"data": {"headers": [["stripe-signature", "t=1,v1=aa"]]}}]},
    }
    out = scrub(event)
    headers = out["request"]["headers"]
    assert headers["X-Shopify-Hmac-Sha256"] == SCRUBBED
    assert headers["Stripe-Signature"] == SCRUBBED
    assert headers["Authorization"] == SCRUBBED
    assert headers["x-api-key"] == SCRUBBED
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert "jane.doe@example.com" not in json.dumps(out)
    assert "call me" in out["request"]["data"]
    assert out["extra"]["webhook_secret"] == SCRUBBED
    assert out["extra"]["settings"] == {"sage_client_secret": SCRUBBED, "shop": "demo"}
    assert out["extra"]["message"] == f"signed with {SCRUBBED} for {SCRUBBED}"
    assert out["user"] == {"id": "42"}
    assert out["breadcrumbs"]["values"][0]["data"]["headers"] == [["stripe-signature", SCRUBBED]]


def test_scrub_does_not_change_its_input() -> None:
    event = {"extra": {"token": "abc"}}
    scrub(event)
    assert event == {"extra": {"token": "abc"}}


def _format(message: str) -> dict[str, str]:
    record = logging.LogRecord("bridge.test", logging.INFO, __file__, 1, message, (), None)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))  # type: ignore[no-any-return]


def test_json_log_lines_carry_the_context_fields() -> None:
    with log_context(provider="stripe", event_id="stripe:evt_1", task_id="t-1"):
        inside = _format("processing")
        assert current_context() == {
            "provider": "stripe", "event_id": "stripe:evt_1", "task_id": "t-1",
        }  # fmt: skip
    outside = _format("idle")
    assert inside["provider"] == "stripe"
    assert inside["event_id"] == "stripe:evt_1"
    assert inside["task_id"] == "t-1"
    assert inside["message"] == "processing"
    assert inside["level"] == "INFO"
    assert "event_id" not in outside
    assert current_context() == {}


def test_init_sentry_is_off_without_a_dsn() -> None:
    from bridge.observability import init_sentry

    assert init_sentry(Settings(), "web") is False


def test_scrub_finds_secrets_inside_text_query_strings_and_breadcrumbs() -> None:
    hex_tail = "9f86d081884c7d659a2feaa0c55ad015"
    event = {
        "message": "Sage answered 401 to Authorization: Bearer eyJhbGciOi.payload.sig",
        "request": {
            "query_string": "state=abc&code_verifier=x&access_token=at-123&page=2",
            "data": "grant_type=refresh_token&client_secret=s3cr3t&refresh_token=rt-456",
        },
        "extra": {
            "note": f"dev secrets whsec_dev_{hex_tail} and shpss_dev_{hex_tail}",
            "json": '{"client_secret": "s3cr3t", "shop": "demo"}',
        },
        "breadcrumbs": {
            "values": [
                {"message": "POST /oauth/token with Bearer rt-789", "category": "httplib"},
                {"data": {"url": "https://x/cb?client_secret=cs-url-1&refresh_token=rt-url-2"}},
            ]
        },
    }
    out = scrub(event)
    text = json.dumps(out)
    for secret in ("eyJhbGciOi", "at-123", "s3cr3t", "rt-456", hex_tail, "rt-789", "url-"):
        assert secret not in text, secret
    assert "page=2" in out["request"]["query_string"]  # what is not secret stays
    assert '"shop": "demo"' in out["extra"]["json"]
    assert out["message"].endswith(f"Bearer {SCRUBBED}")
    crumb = scrub_breadcrumb({"message": "Authorization: Bearer abc.def", "category": "log"})
    assert crumb == {"message": f"Authorization: Bearer {SCRUBBED}", "category": "log"}
