"""Logs and error reports: JSON log lines with event context, Sentry with secrets scrubbed.

`log_context(provider=..., event_id=..., task_id=...)` sets the fields that every log line
written inside it carries (contextvars, so threads and tasks do not mix them up).
`init_sentry(settings, component)` turns Sentry on in the web app and the worker when
`SENTRY_DSN` is set; `scrub` (its `before_send`) removes signature headers, tokens,
secrets and e-mail addresses before anything leaves the process.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge.settings import Settings

CONTEXT_FIELDS = ("provider", "event_id", "task_id", "connection")
_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"bridge_{name}", default=None) for name in CONTEXT_FIELDS
}

SCRUBBED = "[scrubbed]"
SENSITIVE_HEADERS = frozenset(
    {"x-shopify-hmac-sha256", "stripe-signature", "authorization", "x-api-key", "cookie"}
)
_SENSITIVE_KEY = re.compile(r"secret|token|password|passwd|api[_-]?key|signature|hmac|dsn", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Known secret shapes, whole: `whsec_dev_<hex>` and `shpss_dev_<hex>` too (underscores).
_SECRET_VALUE = re.compile(
    r"\b(whsec|sk_live|sk_test|rk_live|rk_test|shpss|shpat|shpca|shppa)_[A-Za-z0-9_\-]+"
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.I)
# `client_secret=...`, `refresh_token: ...`, `"password": "..."` inside any text (messages,
# query strings, form bodies, breadcrumbs): the name stays, the value goes.
_SECRET_PAIR = re.compile(
    r"""(["']?\b[A-Za-z_\-]*(?:secret|token|password|passwd|api[_-]?key|signature|hmac)"""
    r"""[A-Za-z_\-]*["']?\s*[:=]\s*["']?)([^"'&\s,;}]+)""",
    re.I,
)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Within the block, log lines carry these fields (`provider`, `event_id`, `task_id`).

    Raises:
        KeyError: a field name that is not one of CONTEXT_FIELDS.
    """
    tokens = [(_context[name], _context[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, str]:
    """The context fields set right now."""
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Copies the context fields onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT_FIELDS:
            setattr(record, name, _context[name].get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class RoutineFilter(logging.Filter):
    """Drops the INFO lines of routine periodic work, so an idle process is quiet.

    Beat sends its periodic tasks every few seconds; Celery logs each as "Sending due task"
    (beat) and "received" / "succeeded" (worker): some 50 lines a minute with nothing
    happening. Those lines go (for the tasks named in `routine`); a failure of such a task
    is logged at ERROR and stays, and so does anything the task logs itself.
    """

    LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")

    def __init__(self, routine: frozenset[str]) -> None:
        super().__init__()
        self._marks = tuple(f"{name}[" for name in routine) + tuple(f"({name})" for name in routine)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or record.name not in self.LOGGERS:
            return True
        message = record.getMessage()
        return not any(mark in message for mark in self._marks)


def configure_logging(settings: Settings, routine: frozenset[str] = frozenset()) -> None:
    """Route the root logger to stderr, as JSON when `BRIDGE_LOG_JSON` (the default).

    `routine`: names of periodic tasks whose every run is not worth a line (`RoutineFilter`).
    Each HTTP request `httpx` makes is logged at DEBUG only (INFO would be a line per Sage
    call); its errors reach the logs through the callers' own messages.
    """
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if routine:
        handler.addFilter(RoutineFilter(routine))
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(event_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _scrub_text(text: str) -> str:
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + SCRUBBED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {SCRUBBED}", text)
    return _SECRET_VALUE.sub(SCRUBBED, _EMAIL.sub(SCRUBBED, text))


def scrub_value(value: Any, key: str = "") -> Any:
    """`value` with secrets and e-mail addresses replaced, recursively."""
    if key and (_SENSITIVE_KEY.search(key) or key.lower() in SENSITIVE_HEADERS):
        return SCRUBBED
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs too.
        if len(value) == 2 and isinstance(value[0], str) and value[0].lower() in SENSITIVE_HEADERS:
            return [value[0], SCRUBBED]
        return [scrub_value(v) for v in value]
    return value


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry `before_send`: the event with secrets and e-mail addresses removed."""
    scrubbed: dict[str, Any] = scrub_value(event)
    user = scrubbed.get("user")
    if isinstance(user, dict):
        user.pop("email", None)
    return scrubbed


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry `before_breadcrumb`: a breadcrumb (a log line, an HTTP call) scrubbed as it is
    recorded, so no secret waits in memory for an event."""
    scrubbed: dict[str, Any] = scrub_value(crumb)
    return scrubbed


def init_sentry(settings: Settings, component: str) -> bool:
    """Turn Sentry on for `component` ("web" or "worker") if `SENTRY_DSN` is set.

    Returns whether Sentry was initialised.
    """
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk

    integrations: list[Any] = []
    if component == "web":
        from sentry_sdk.integrations.flask import FlaskIntegration

        integrations.append(FlaskIntegration())
    else:
        from sentry_sdk.integrations.celery import CeleryIntegration

        integrations.append(CeleryIntegration())
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        send_default_pii=False,
        max_request_body_size="never",  # webhook bodies carry customer data
        before_send=scrub,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,
        integrations=integrations,
    )
    sentry_sdk.set_tag("component", component)
    return True


def report(exc: BaseException) -> None:
    """Send `exc` to Sentry (a no-op when Sentry is off), with the log context as tags."""
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for name, value in current_context().items():
            scope.set_tag(name, value)
        sentry_sdk.capture_exception(exc)
