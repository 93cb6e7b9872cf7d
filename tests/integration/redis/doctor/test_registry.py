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
    assert by_name["Sage connection"].holds is False  # Sage's trouble: the gates hold events
    assert report.holding == [by_name["Local thing"]]  # an error holds by default
    text = render(report)
    assert "[FAIL] Local thing: missing" in text
    assert "fix: add it" in text
    assert "not ready" in text
    assert report.findings[0].check == "Sage connection"  # first, whatever was imported when


def test_an_error_holds_by_default_and_a_warning_check_never_holds(
    registered: list[str], redis_url: str
) -> None:
    @check("Mail relay", level=Level.WARNING)
    def mail_relay(ctx: DoctorContext) -> Iterator[Finding]:
        # a check written as an error, registered as a warning: reported, never holding
        yield Finding(check="Mail relay", level=Level.ERROR, detail="no SMTP host", holds=True)

    @check("Journal code")
    def journal_code(ctx: DoctorContext) -> Iterator[Finding]:
        yield Finding(check="Journal code", level=Level.ERROR, detail="VTE is not in Sage")

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        report = run_checks(DoctorContext(Settings(REDIS_URL=redis_url), client, _no_sage))
    finally:
        client.close()
    by_name = {f.check: f for f in report.findings}
    assert by_name["Mail relay"].level is Level.WARNING
    assert by_name["Mail relay"].holds is False
    assert by_name["Journal code"].holds is True
    assert report.hold_message() == "Journal code: VTE is not in Sage"
    assert "[warn] Mail relay: no SMTP host" in render(report)


def test_levels_survive_the_stored_report_and_a_warning_never_holds() -> None:
    error = Finding(check="x", level=Level.ERROR, detail="d")
    warning = Finding(check="y", level=Level.WARNING, detail="d", holds=True)
    assert error.holds is True
    assert warning.holds is False
    assert Finding(check="z", level=Level.ERROR, detail="d", holds=False).holds is False
    assert Finding.model_validate_json(error.model_dump_json()) == error
    with pytest.raises(ValueError, match="ERROR or WARNING"):
        check("nothing", level=Level.OK)
