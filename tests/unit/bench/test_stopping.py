"""Every bench stops its children when interrupted (`bench/stopping.py`).

A stand-in bench (the helper, then a child in a session of its own, as the benches start
their Celery workers, and one in its own group) is sent SIGTERM or SIGINT: it exits and no
child is left running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
SCRIPT = f"""
import subprocess, sys, time
sys.path.insert(0, {str(BENCH)!r})
import stopping
stopping.install()
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                          start_new_session=True)
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
try:
    print(worker.pid, helper.pid, flush=True)  # inside: a signal from now on meets finally
    time.sleep(120)
finally:
    print("finally ran", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_bench_leaves_no_child_running(signum: int) -> None:
    bench = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert bench.stdout is not None
    pids = [int(p) for p in bench.stdout.readline().split()]
    children = [psutil.Process(pid) for pid in pids]
    assert all(child.is_running() for child in children)
    try:
        bench.send_signal(signum)
        out, _ = bench.communicate(timeout=30)
        assert "finally ran" in out  # the bench's own clean-up ran
        deadline = time.monotonic() + 10
        while any(_alive(child) for child in children):
            assert time.monotonic() < deadline, "a child of the bench is still running"
            time.sleep(0.05)
    finally:
        for child in children:
            if _alive(child):
                child.kill()


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
