"""`bridge doctor`'s checks are a registry: one decorator adds a check to the report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bridge.ops.doctor import (
    CHECKS,
    DoctorContext,
    Finding,
    Level,
    check,
    load_checks,
    render,
    run_checks,
)
from bridge.services import ConfigurationError
from bridge.settings import Settings
from connectors.sage_active.operations import SageActive


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Checks a test registers, removed again afterwards (the built-in ones stay)."""
    load_checks()
    before = list(CHECKS)
    yield []
    CHECKS[:] = before


def _no_sage() -> SageActive:
    raise ConfigurationError("SAGE_API_URL is not set (the Sage Active GraphQL endpoint)")


def test_a_registered_check_runs_and_a_sage_check_waits_for_sage(
    registered: list[str], redis_url: str
) -> None:
    @check("Payout accounts", needs_sage=True)
    def payout_accounts(ctx: DoctorContext) -> Iterator[Finding]:
        yield Finding(check="Payout accounts", level=Level.OK, detail="never reached")

    @check("Local thing")
    def local_thing(ctx: DoctorContext) -> Iterator[Finding]:
        yield Finding(check="Local thing", level=Level.ERROR, detail="missing", fix="add it")

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        report = run_checks(DoctorContext(Settings(REDIS_URL=redis_url), client, _no_sage))
    finally:
        client.close()
    by_name = {f.check: f for f in report.findings}
    assert by_name["Sage connection"].level is Level.ERROR
    assert "SAGE_API_URL is not set" in by_name["Sage connection"].detail
    assert by_name["Payout accounts"].level is Level.WARNING
    assert by_name["Payout accounts"].detail == "not checked: Sage did not answer"
    assert by_name["Local thing"].level is Level.ERROR
    assert report.holding == []  # neither is a mapping code Sage lacks
    text = render(report)
    assert "[FAIL] Local thing: missing" in text
    assert "fix: add it" in text
    assert "not ready" in text
    assert report.findings[0].check == "Sage connection"  # first, whatever was imported when
