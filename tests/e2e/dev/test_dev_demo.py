"""`bridge dev` as a person runs it, then `bridge demo` against it, then Ctrl-C.

Given a fresh state directory and no REDIS_URL / SAGE_API_URL (so Redis and the sandbox are
embedded), when `bridge dev` is up and `bridge demo` runs, then the demo exits 0 with the
invoices Collected in Sage, the credit note and the outbound events in its timeline; and
when `bridge dev` gets SIGINT, then it exits 0 and no process of its session is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bridge.dev.state import RUN_FILE, read_run_info
from bridge.embedded_redis import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[3]
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


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """A running `bridge dev` (own session) with its state in a temporary directory."""
    state, log = tmp_path / "state", tmp_path / "dev.log"
    argv = [
        sys.executable,
        "-m",
        "bridge.cli",
        "dev",
        "--port",
        str(free_port()),
        "--sandbox-port",
        str(free_port()),
        "--state-dir",
        str(state),
        "--concurrency",
        "2",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + UP_TIMEOUT
        while not (state / RUN_FILE).exists():
            assert process.poll() is None, f"bridge dev exited:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"not up in time:\n{log.read_text()[-4000:]}"
            time.sleep(0.25)
        yield process, state, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        for proc in _session(process.pid):
            proc.kill()


def test_dev_runs_the_demo_and_stops_cleanly(
    dev: tuple[subprocess.Popen[bytes], Path, Path],
) -> None:
    process, state, log = dev
    info = read_run_info(state)
    assert info.sandbox_url is not None
    assert (state / "dev.env").stat().st_mode & 0o077 == 0  # secrets: owner only
    assert "Admin token" in log.read_text()
    assert info.admin_token in log.read_text()
    started = {p.pid for p in _session(process.pid)}
    # supervisor, redis, sandbox, gunicorn master + worker, celery worker, beat
    assert len(started) >= 7, log.read_text()[-3000:]

    demo = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "demo", "--state-dir", str(state), "--timeout", "120"],
        cwd=state.parent, env=_env(), capture_output=True, text=True, timeout=200, check=False,
    )  # fmt: skip

    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr + log.read_text()[-4000:]
    assert out.count("Collected") >= 2
    assert "credit note" in out
    assert "-12.40 EUR" in out
    delivered = ("invoice.posted", "payment.settled", "invoice.collected", "invoice.credited")
    for event_type in delivered:
        assert event_type in out
    assert "All as expected" in out

    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0, log.read_text()[-4000:]
    assert "nothing left running" in log.read_text()
    assert not (state / RUN_FILE).exists()
    leftover = [p.pid for p in _session(process.pid)]
    assert leftover == [], leftover
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in started)  # fmt: skip
    assert (state / "sandbox.json").exists()  # the books survive a restart
