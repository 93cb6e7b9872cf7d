"""Beat sends alerts only when a channel is configured, and the digest at its hour."""

from __future__ import annotations

from celery.schedules import crontab

from bridge.settings import Settings
from tasks.schedule import beat_schedule


def test_no_alert_task_without_a_channel() -> None:
    schedule = beat_schedule(Settings())
    assert "alerts-flush" not in schedule
    assert "alerts-digest" not in schedule


def test_flush_with_a_chat_webhook_and_the_digest_at_its_hour() -> None:
    chat = {"BRIDGE_ALERT_CHAT_WEBHOOK_URL": "https://hooks.example/x"}
    plain = beat_schedule(Settings(**chat))
    daily = beat_schedule(Settings(**chat, BRIDGE_ALERT_DIGEST="daily", BRIDGE_ALERT_DIGEST_HOUR=6))

    assert plain["alerts-flush"]["task"] == "tasks.alerts.flush"
    assert "alerts-digest" not in plain
    assert daily["alerts-digest"]["task"] == "tasks.alerts.digest"
    assert daily["alerts-digest"]["schedule"] == crontab(minute=0, hour=6)


def test_email_needs_a_host_and_recipients() -> None:
    assert "alerts-flush" not in beat_schedule(Settings(BRIDGE_ALERT_SMTP_HOST="smtp.example"))
    both = Settings(BRIDGE_ALERT_SMTP_HOST="smtp.example", BRIDGE_ALERT_EMAIL_TO="a@x.fr,b@x.fr")
    assert both.alert_email_to == ["a@x.fr", "b@x.fr"]
    assert "alerts-flush" in beat_schedule(both)
