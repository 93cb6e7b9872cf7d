"""The Celery application: `make_celery(settings)` and the module-level `app` for the CLI.

Broker and result backend are `REDIS_URL`. Messages are JSON only; tasks are acknowledged
after they ran (`acks_late`) and given back if the worker dies, so a lost worker never loses
a task; the visibility timeout is longer than any countdown we use.

`get_services()` builds the process's `Services` once, on first use in the worker.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import Celery, signals

from bridge.connections.at_rest import reseal
from bridge.connections.hub import ServicesHub
from bridge.connections.secrets import SecretKeyError
from bridge.observability import configure_logging, init_sentry
from bridge.redis_url import celery_options
from bridge.services import ConfigurationError, Services, build_services
from bridge.settings import Settings, load_settings
from tasks.schedule import beat_schedule

log = logging.getLogger(__name__)

# Task modules the worker imports. Add yours here, one line each.
TASK_MODULES: list[str] = [
    "tasks.ingest",
    "tasks.connections",
    "tasks.outbound",
    "tasks.poll",
    "tasks.backfill",
    "tasks.payouts",
    "tasks.gate",
    "tasks.doctor",
    "tasks.alerts",
    "tasks.month",
]

VISIBILITY_TIMEOUT = 3600  # seconds; every countdown and retry delay stays well below it


def make_celery(settings: Settings) -> Celery:
    """A Celery app configured from `settings` (no connection is opened here)."""
    app = Celery("bridge", include=list(TASK_MODULES))
    # The same Redis as the ledger: redis://, rediss:// (TLS) or a Sentinel set.
    redis_options = celery_options(settings.redis_url) if settings.redis_url else {}
    transport = redis_options.pop("broker_transport_options", {})
    backend_transport = redis_options.pop("result_backend_transport_options", {})
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT, **transport},
        result_backend_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT,
            **backend_transport,
        },
        result_expires=3600,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # One queue per connection: connections sharing a Redis keep to their own tasks.
        task_default_queue=settings.celery_queue,
        beat_schedule=beat_schedule(settings),
        timezone="UTC",
    )
    app.conf.update(redis_options)  # broker_url / result_backend as the URL's kind needs
    app.conf.bridge_settings = settings
    return app


settings = load_settings()
app = make_celery(settings)

_services: Services | None = None
_services_lock = threading.Lock()


def get_services() -> Services:
    """This process's `Services`, built on first use (thread-safe).

    Raises:
        ConfigurationError: `REDIS_URL` is not set.
    """
    global _services
    with _services_lock:
        if _services is None:
            _services = build_services(settings)
        return _services


_hub: ServicesHub | None = None


def get_hub() -> ServicesHub:
    """Every connection's `Services` in this process (the environment's is `get_services()`).

    Raises:
        ConfigurationError: `REDIS_URL` is not set.
    """
    global _hub
    services = get_services()
    with _services_lock:
        if _hub is None:
            _hub = ServicesHub(services)
        return _hub


def services_for(connection: str | None) -> Services | None:
    """The `Services` of `connection` (None: the environment's), None if it is unknown.

    Raises:
        ConfigurationError: `REDIS_URL` is not set.
        SecretKeyError: its secrets cannot be decrypted.
        redis.RedisError: Redis is unreachable.
    """
    return get_hub().services(connection)


def _require_redis(**_: Any) -> None:
    if not settings.redis_url:
        raise ConfigurationError(
            "REDIS_URL is not set: the worker and beat need it as their broker "
            "(e.g. REDIS_URL=redis://127.0.0.1:6379/0)"
        )


def _worker_init(**_: Any) -> None:
    _require_redis()
    init_sentry(settings, "worker")
    _seal_secrets()


def _seal_secrets() -> None:
    """Encrypt the tokens and signing secrets still in clear (written before
    `BRIDGE_SECRET_KEY` was set, or by an older version): migrated at every start."""
    try:
        hub = get_hub()
        reseal(hub.base.redis, settings.secret_key, hub.names())
    except (SecretKeyError, redis.RedisError) as exc:  # the doctor says more; go on
        log.warning("secrets at rest: not migrated at start: %s", exc)


def _setup_logging(**_: Any) -> None:
    # Connected, so Celery leaves logging to us: JSON lines with provider/event_id/task_id;
    # the periodic tasks' every run is not logged (an idle worker and beat stay quiet).
    routine = frozenset(str(entry["task"]) for entry in beat_schedule(settings).values())
    configure_logging(settings, routine | frozenset({"tasks.connections.poll"}))


signals.worker_init.connect(_worker_init, weak=False)
signals.beat_init.connect(_require_redis, weak=False)
signals.setup_logging.connect(_setup_logging, weak=False)
