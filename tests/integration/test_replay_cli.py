"""`bridge replay --status ...`: bulk replay from a shell, with a dry run and progress."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.services import build_services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent

pytestmark = pytest.mark.integration


def _failed(redis_url: str) -> list[str]:
    services = build_services(Settings(REDIS_URL=redis_url))
    refs = []
    try:
        for n, (provider, topic) in enumerate(
            [
                ("stripe", "invoice.paid"),
                ("stripe", "charge.succeeded"),
                ("shopify", "orders/create"),
            ]
        ):
            event = NewEvent(provider=provider, provider_id=f"p{n}", topic=topic, body="{}")  # type: ignore[arg-type]
            services.events.record(event)
            services.events.mark(event.ref, EventStatus.FAILED, error="boom")
            refs.append(event.ref)
    finally:
        services.close()
    return refs


def test_bulk_replay_filters_counts_and_queues_once(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    _failed(redis_url)
    runner = CliRunner()

    dry = runner.invoke(main, ["replay", "--status", "failed", "--provider", "stripe", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 failed events match; would queue 2" in dry.output
    assert "looked at 3/3 failed events" in dry.output  # the progress line (stderr)

    topic = runner.invoke(main, ["replay", "--status", "failed", "--topic", "charge.succeeded"])
    assert "1 failed events match; queued 1" in topic.output
    rest = runner.invoke(main, ["replay", "--status", "failed", "--since", "1h"])
    assert "2 failed events match; queued 2" in rest.output
    again = runner.invoke(main, ["replay", "--status", "failed"])
    assert "0 failed events match; queued 0" in again.output


def test_bulk_replay_usage_errors(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    runner = CliRunner()
    assert runner.invoke(main, ["replay"]).exit_code == 2
    assert runner.invoke(main, ["replay", "stripe:evt_1", "--status", "failed"]).exit_code == 2
    bad = runner.invoke(main, ["replay", "--status", "failed", "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "not a time" in bad.output
    empty = runner.invoke(main, ["replay", "--status", "failed", "--since", "1h", "--until", "2h"])
    assert empty.exit_code == 2
