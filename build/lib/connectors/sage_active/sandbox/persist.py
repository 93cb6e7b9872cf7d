"""Keeping the books in a JSON file, so a restarted sandbox still has them.

Written atomically (temporary file, then rename) by a background thread shortly after
changes (debounced), and once more on close; read once at start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.state import SandboxState

log = logging.getLogger(__name__)
_ADAPTER: TypeAdapter[list[Books]] = TypeAdapter(list[Books])
_INDEX = {"__all__": {"mod_dates", "mod_ids"}}


class StateFileError(Exception):
    """The state file exists but cannot be read as sandbox books."""


def load(path: Path) -> list[Books] | None:
    """The books saved in `path`, or None when there is no such file.

    Raises:
        StateFileError: the file is unreadable or not a sandbox state.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc}") from exc
    try:
        books = _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise StateFileError(f"{path} is not a sandbox state file: {exc}") from exc
    for each in books:
        each.reindex()
    return books


def save(state: SandboxState, path: Path) -> None:
    """Write the state to `path` atomically. Raises: OSError when the disk refuses."""
    with state.lock:
        data = _ADAPTER.dump_json(list(state.books.values()), exclude=_INDEX)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class Writer:
    """Saves the state `delay` seconds after a change (changes in between are batched)."""

    def __init__(self, state: SandboxState, path: Path, delay: float) -> None:
        self._state, self._path, self._delay = state, path, delay
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._saved_version = state.version
        self._thread = threading.Thread(target=self._loop, name="sandbox-persist", daemon=True)
        state.on_change(self._dirty.set)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._dirty.wait(0.2):
                self._stop.wait(self._delay)
                self._dirty.clear()
                self.flush()

    def flush(self) -> None:
        """Save now if anything changed since the last save (errors are logged)."""
        version = self._state.version
        if version == self._saved_version:
            return
        try:
            save(self._state, self._path)
            self._saved_version = version
        except OSError:
            log.exception("could not save the sandbox state to %s", self._path)

    def close(self) -> None:
        """Stop the thread and write what is pending."""
        self._stop.set()
        self._thread.join(5)
        self.flush()
