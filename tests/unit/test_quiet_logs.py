"""An idle worker and beat are quiet: the periodic tasks' every run is not logged, their
failures are; `httpx` logs a line per request only at DEBUG."""

from __future__ import annotations

import logging

import pytest

from bridge.observability import RoutineFilter, configure_logging
from bridge.settings import Settings

ROUTINE = frozenset({"tasks.connections.tick", "tasks.outbound.pump"})


def record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("name", "level", "message", "kept"),
    [
        ("celery.worker.strategy", logging.INFO, "Task tasks.connections.tick[a1] received", False),
        (
            "celery.app.trace",
            logging.INFO,
            "Task tasks.outbound.pump[a2] succeeded in 0.001s: 0",
            False,
        ),
        (
            "celery.beat",
            logging.INFO,
            "Scheduler: Sending due task c-t (tasks.connections.tick)",
            False,
        ),
        ("celery.app.trace", logging.ERROR, "Task tasks.connections.tick[a3] raised: boom", True),
        (
            "celery.worker.strategy",
            logging.INFO,
            "Task tasks.ingest.process_event[a4] received",
            True,
        ),
        ("bridge.sync", logging.INFO, "tasks.connections.tick[ noted by the bridge itself", True),
    ],
)
def test_routine_lines_go_the_rest_stays(name: str, level: int, message: str, kept: bool) -> None:
    assert RoutineFilter(ROUTINE).filter(record(name, level, message)) is kept


def test_httpx_requests_only_at_debug() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(Settings(BRIDGE_LOG_LEVEL="INFO"), ROUTINE)
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert any(isinstance(f, RoutineFilter) for f in root.handlers[0].filters)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
