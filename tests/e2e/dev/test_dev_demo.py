"""`bridge dev` as a person runs it, then `bridge demo` against it, then Ctrl-C; twice.

Given a fresh state directory and no REDIS_URL / SAGE_API_URL (so Redis and the sandbox are
embedded), when `bridge dev` is up and `bridge demo` runs, then the demo exits 0 with the
invoices Collected in Sage, the credit note and the outbound events in its timeline; and
when `bridge dev` gets SIGINT, then it exits 0 and no process of its session is left. Started
again on the same state directory, it keeps its secrets and books, and the demo passes again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from bridge.dev.state import RUN_FILE, RunInfo, read_run_info
from bridge.embedded_redis import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

UP_TIMEOUT = 120.0


def _session(sid: int) -> list[psutil.Process]:
    """Live processes of session `sid` (the dev supervisor and everything it started)."""
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAGE_", "BRIDGE_"))}
    for name in ("REDIS_URL", "SHOPIFY_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET", "SENTRY_DSN"):
        env.pop(name, None)
    return env


@contextmanager
def running_dev(
    state: Path, log: Path, port: int | None = None, wait: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """`bridge dev` in its own session, up (its run file written, unless not `wait`); killed
    if still there."""
    argv = [
        sys.executable,
        "-m",
        "bridge.cli",
        "dev",
        "--port",
        str(port or free_port()),
        "--sandbox-port",
        str(free_port()),
        "--state-dir",
        state.name,  # relative to cwd, as the README runs it
        "--concurrency",
        "2",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=state.parent,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + UP_TIMEOUT
        while wait and not (state / RUN_FILE).exists():
            assert process.poll() is None, f"bridge dev exited:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"not up in time:\n{log.read_text()[-4000:]}"
            time.sleep(0.25)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        for proc in _session(process.pid):
            proc.kill()


def _demo(state: Path, log: Path) -> str:
    demo = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "demo", "--state-dir", state.name, "--timeout", "120"],
        cwd=state.parent, env=_env(), capture_output=True, text=True, timeout=200, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr + log.read_text()[-4000:]
    return demo.stdout


def _stop(process: subprocess.Popen[bytes], state: Path, log: Path) -> None:
    started = {p.pid for p in _session(process.pid)}
    # supervisor, redis (+ its keeper), sandbox, gunicorn master + worker, celery worker, beat
    assert len(started) >= 8, log.read_text()[-3000:]
    before = len(log.read_text())
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    assert process.wait(60) == 0, log.read_text()[-4000:]
    assert "nothing left running" in log.read_text()
    # Redis stops last: nothing lost its connection while shutting down.
    assert "redis.exceptions" not in log.read_text()[before:], log.read_text()[-4000:]
    assert not (state / RUN_FILE).exists()
    assert _session(process.pid) == []
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in started)  # fmt: skip


def _invoice_numbers(out: str) -> list[str]:
    return re.findall(r"^\s+invoice\s+(\S+)", out, flags=re.MULTILINE)


def test_dev_runs_the_demo_stops_cleanly_and_restarts_with_its_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first_log, second_log = tmp_path / "dev-1.log", tmp_path / "dev-2.log"

    with running_dev(state, first_log) as process:
        info: RunInfo = read_run_info(state)
        assert info.sandbox_url is not None
        assert (state / "dev.env").stat().st_mode & 0o077 == 0  # secrets: owner only
        assert info.admin_token in first_log.read_text()  # the banner shows it
        out = _demo(state, first_log)
        assert out.count("Collected") >= 2
        assert "credit note" in out
        assert "-12.40 EUR" in out
        for event_type in ("invoice.posted", "payment.settled", "invoice.collected"):
            assert event_type in out
        assert "invoice.credited" in out
        assert "Stripe clearing account 511500000" in out
        assert "EUR: back at zero" in out  # the demo's payout took out what its charge put in
        assert "All as expected" in out
        _stop(process, state, first_log)
    assert (state / "sandbox.json").exists()

    with running_dev(state, second_log) as process:
        assert read_run_info(state).admin_token == info.admin_token
        again = _demo(state, second_log)
        # The sandbox kept its books: numbering goes on from the first run.
        assert set(_invoice_numbers(again)).isdisjoint(_invoice_numbers(out))
        assert "EUR: back at zero" in again
        _stop(process, state, second_log)
