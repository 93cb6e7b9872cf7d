"""Every bench stops what it started when it is interrupted.

`install()`, first thing in a bench's `main()`: SIGTERM and SIGHUP raise `KeyboardInterrupt`
as SIGINT does, so the bench's own `finally` blocks run (stopping its workers, servers and
Redis the orderly way); and at exit, whatever is still descended from the bench (a worker
started in a session of its own, its children, an embedded Redis) is stopped: its process
group gets SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import atexit
import os
import signal
from types import FrameType

import psutil

GRACE = 10.0  # seconds a child has to stop after SIGTERM


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def stop_descendants(grace: float = GRACE) -> int:
    """SIGTERM to every descendant's process group (our own group: the process alone), then
    SIGKILL to what is left after `grace` s; how many were still running."""
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return 0
    own_group = os.getpgrp()
    groups: set[int] = set()
    for child in children:
        try:
            group = os.getpgid(child.pid)
            if group != own_group:
                groups.add(group)
            child.terminate()
        except (ProcessLookupError, psutil.Error):
            continue
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue
    _, alive = psutil.wait_procs(children, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            continue
    return len(children)


def install() -> None:
    """Interrupt on SIGTERM / SIGHUP like on SIGINT, and stop every child at exit."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    atexit.register(stop_descendants)
