"""The beat runs the month-end job every `BRIDGE_MONTH_END_INTERVAL` seconds (0: never)."""

from __future__ import annotations

from bridge.settings import Settings
from tasks.schedule import beat_schedule


def test_the_month_end_job_follows_its_interval() -> None:
    entry = beat_schedule(Settings())["month-end"]
    assert (entry["task"], entry["schedule"]) == ("tasks.month.tick", 3600.0)
    assert beat_schedule(Settings(BRIDGE_MONTH_END_INTERVAL=600))["month-end"]["schedule"] == 600
    assert "month-end" not in beat_schedule(Settings(BRIDGE_MONTH_END_INTERVAL=0))
