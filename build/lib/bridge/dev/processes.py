"""Child processes of `bridge dev`: started, their output relayed, stopped with nothing left.

Each child runs in a process group of its own, so that stopping it (`killpg`) reaches the
processes it started in turn (gunicorn's workers, Celery's pool) even if the child itself
is already gone. On Linux each child also asks the kernel for SIGTERM when the supervisor
dies, so that even a supervisor killed with SIGKILL leaves no child behind.

A relay thread per child copies its output to ours, each line prefixed with the child's
name, and watches for the line that says the child is ready.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

import httpx

_PR_SET_PDEATHSIG = 1
_print_lock = threading.Lock()


# Loaded here, in the parent: the child between fork and exec should do as little as it can.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def echo(line: str, stream: IO[str] | None = None) -> None:
    """Write one line to stdout, whole, even with relay threads writing at the same time."""
    with _print_lock:
        out = stream or sys.stdout
        out.write(line + "\n")
        out.flush()


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    ready_marker: str | None = None
    mute: tuple[str, ...] = ()  # lines containing one of these are not shown (periodic noise)
    process: subprocess.Popen[str] | None = field(default=None, init=False)
    ready: threading.Event = field(default_factory=threading.Event, init=False)
    ready_line: str = field(default="", init=False)
    _relay: threading.Thread | None = field(default=None, init=False)
    _tail: list[str] = field(default_factory=list, init=False)
    started_at: float = field(default=0.0, init=False)  # time.monotonic() of the last start

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process and its output relay.

        Raises:
            OSError: the program could not be started.
        """
        self.process = subprocess.Popen(
            list(self.argv),
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            process_group=0,
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
        self.started_at = time.monotonic()
        self._relay = threading.Thread(target=self._copy_output, name=f"relay-{self.name}")
        self._relay.daemon = True
        self._relay.start()

    def _copy_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self._tail = [*self._tail[-29:], line]
            if self.ready_marker and self.ready_marker in line and not self.ready.is_set():
                self.ready_line = line
                self.ready.set()
            if not any(part in line for part in self.mute):
                echo(f"{self.name:<8}| {line}")

    def restart(self) -> None:
        """Start the process again, with the same command and environment, after it exited.

        What the old process left in its group (a gunicorn worker whose master died) is
        killed first, so the new one does not find its port or its Redis files taken.

        Raises:
            OSError: the program could not be started.
        """
        self.close()
        self.ready.clear()
        self.ready_line = ""
        self.start()

    @property
    def exit_code(self) -> int | None:
        """The exit status of the process (negative: killed by that signal), None if running."""
        return self.process.poll() if self.process is not None else None

    def tail(self) -> str:
        """The last lines the process wrote (to explain why it stopped)."""
        return "\n".join(self._tail)

    def signal_group(self, sig: signal.Signals) -> None:
        """Send `sig` to the child's process group (it and what it started)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return

    def wait(self, timeout: float) -> bool:
        """Wait for the child to exit; True if it did within `timeout`."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        """Kill what is left of the group, reap the child and close its pipe."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.wait(5.0)
            if self._relay is not None:
                self._relay.join(5.0)
            if self.process.stdout is not None:
                self.process.stdout.close()


def stop_all(children: Sequence[Child], grace: float) -> None:
    """SIGTERM every child's group, wait up to `grace` seconds, then SIGKILL what remains."""
    for child in reversed(children):
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        child.wait(max(0.0, deadline - time.monotonic()))
    for child in children:
        if child.alive:
            echo(f"{child.name:<8}| did not stop within {grace:.0f}s: killed")
        child.close()


def wait_http(url: str, child: Child, timeout: float) -> None:
    """Wait until `url` answers 200 while `child` runs.

    Raises:
        RuntimeError: the child exited, or `url` did not answer 200 within `timeout`.
    """
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not child.alive:
                raise RuntimeError(f"{child.name} exited at start:\n{child.tail()}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not answer {url} within {timeout:.0f}s:\n{child.tail()}")


def wait_marker(child: Child, timeout: float) -> None:
    """Wait until `child` wrote its ready marker.

    Raises:
        RuntimeError: the child exited or did not get ready within `timeout`.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.ready.wait(0.2):
            return
        if not child.alive:
            raise RuntimeError(f"{child.name} exited at start:\n{child.tail()}")
    raise RuntimeError(f"{child.name} was not ready within {timeout:.0f}s:\n{child.tail()}")
