"""`bridge close-month` refuses what it cannot close before touching anything."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from bridge.cli import main


def test_a_malformed_month_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["close-month", "--month", "2026-13"])
    assert result.exit_code == 2
    assert "a month is written YYYY-MM (e.g. 2026-11), not '2026-13'" in result.output


def test_a_month_not_over_is_refused() -> None:
    this_month = dt.datetime.now(dt.UTC).date().strftime("%Y-%m")
    result = CliRunner().invoke(main, ["close-month", "--month", this_month])
    assert result.exit_code == 2
    assert f"{this_month} is not over yet" in result.output
