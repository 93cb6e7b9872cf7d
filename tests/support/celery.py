"""Real Celery workers for tests: `celery -A tasks.app worker` subprocesses (never eager mode).

Fixtures:
- `start_worker(**env)` - a factory: starts a worker whose `REDIS_URL` is the test Redis,
  with extra environment (e.g. `SAGE_API_URL=...`, `STRIPE_WEBHOOK_SECRET=...`) and options
  `pool="solo"|"threads"|"prefork"`, `concurrency=1`; waits until it logs "ready"; returns a
  `WorkerHandle` (`.kill()` SIGKILLs it and its children mid-task, `.stop()` shuts it down,
  `.log()` is its output). Every worker still running is stopped at teardown.
- `celery_worker` - one solo worker on the test Redis, for tests that just need one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 45.0


@dataclass
class WorkerHandle:
    """A running worker subprocess (its own process group)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    name: str
    _log_file: IO[bytes] = field(repr=False)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once (a crash, not a shutdown)."""
        self._signal(signal.SIGKILL)
        self.process.wait(10)
        self._log_file.close()

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it does not exit within `timeout`."""
        if self.alive:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(10)
        self._log_file.close()

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if not self.alive:
                raise RuntimeError(f"celery worker exited at start:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready in {timeout}s:\n{self.log()[-3000:]}")


def launch_worker(
    redis_url: str,
    log_dir: Path,
    pool: str = "solo",
    concurrency: int = 1,
    **env: str,
) -> WorkerHandle:
    """Start a worker subprocess and wait until it is ready.

    Raises:
        RuntimeError: the worker exited or did not get ready in time (its log is included).
    """
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    child_env = {**os.environ, "REDIS_URL": redis_url, "BRIDGE_LOG_JSON": "false", **env}
    child_env.pop("SENTRY_DSN", None)
    log_path = log_dir / f"worker-{name.split('@')[0]}.log"
    log_file = log_path.open("wb")
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks.app", "worker",
        "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--hostname", name, "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=child_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: kill() takes the pool children too
    )
    handle = WorkerHandle(process=process, log_path=log_path, name=name, _log_file=log_file)
    try:
        handle.wait_ready()
    except RuntimeError:
        handle.stop(5)
        raise
    return handle


@pytest.fixture
def start_worker(redis_url: str) -> Iterator[Callable[..., WorkerHandle]]:
    """Factory: `start_worker(pool="solo", concurrency=1, **env) -> WorkerHandle`."""
    handles: list[WorkerHandle] = []
    with tempfile.TemporaryDirectory(prefix="bridge-worker-") as tmp:

        def start(pool: str = "solo", concurrency: int = 1, **env: str) -> WorkerHandle:
            handle = launch_worker(redis_url, Path(tmp), pool, concurrency, **env)
            handles.append(handle)
            return handle

        try:
            yield start
        finally:
            for handle in handles:
                handle.stop()


@pytest.fixture
def celery_worker(start_worker: Callable[..., WorkerHandle]) -> WorkerHandle:
    """One solo worker on the test Redis."""
    return start_worker()
