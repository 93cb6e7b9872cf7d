"""`bridge demo` started right after `bridge dev` waits for it (bounded) instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.dev.state import DevStateError, RunInfo, wait_for_run_info, write_run_info


def _info(pid: int) -> RunInfo:
    return RunInfo(
        pid=pid, web_url="http://127.0.0.1:8000", redis_url="redis://127.0.0.1:1/0",
        sage_api_url="http://127.0.0.1:8090/graphql", sage_auth_url="http://127.0.0.1:8090",
        sandbox_url="http://127.0.0.1:8090", admin_token="t", shopify_webhook_secret="s",
        stripe_webhook_secret="whsec_x", state_dir="/tmp/x",
    )  # fmt: skip


class FakeTime:
    """A clock that moves only when slept on; calls `on_sleep` after each sleep."""

    def __init__(self, on_sleep: object = None) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if callable(self.on_sleep):
            self.on_sleep(self.sleeps)


def test_waits_for_the_run_file_and_says_so_once(tmp_path: Path) -> None:
    def appear(sleeps: int) -> None:
        if sleeps == 6:  # bridge dev finishes starting three seconds later
            write_run_info(tmp_path, _info(os.getpid()))

    fake, told = FakeTime(appear), []
    info = wait_for_run_info(tmp_path, 60, told.append, fake.clock, fake.sleep)
    assert info.pid == os.getpid()
    assert len(told) == 1
    assert "Waiting up to 60s for `bridge dev`" in told[0]
    assert fake.sleeps == 6


def test_no_wait_when_it_is_running(tmp_path: Path) -> None:
    write_run_info(tmp_path, _info(os.getpid()))
    fake, told = FakeTime(), []
    assert wait_for_run_info(tmp_path, 60, told.append, fake.clock, fake.sleep).pid == os.getpid()
    assert told == []
    assert fake.sleeps == 0


def test_gives_up_after_the_timeout_with_the_reason(tmp_path: Path) -> None:
    fake = FakeTime()
    with pytest.raises(DevStateError, match=r"no running `bridge dev` found.*\(waited 10s\)"):
        wait_for_run_info(tmp_path, 10, lambda _: None, fake.clock, fake.sleep)
    assert fake.now >= 10


def test_a_run_file_left_by_a_dead_supervisor_is_not_taken(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above the default pid_max: no such process
    write_run_info(tmp_path, _info(dead))
    fake = FakeTime()
    with pytest.raises(DevStateError, match=f"pid {dead}\\) is not running"):
        wait_for_run_info(tmp_path, 5, lambda _: None, fake.clock, fake.sleep)
