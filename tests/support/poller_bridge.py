"""End-to-end parts for the poller: a real worker and a real `celery beat`, the sandbox over
HTTP, a local webhook subscriber, and the bridge's own settings pointing at all of them.

Beat runs with `BRIDGE_POLL_INTERVAL=1`, so the poller ticks every second and the outbound
pump every two; every wait in these tests is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from werkzeug.wrappers import Request, Response

from bridge.outbound.delivery import Outbound
from bridge.services import Services, build_services
from bridge.settings import Settings
from tests.support.celery import WorkerHandle
from tests.support.sandbox import ORGANIZATION_ID
from tests.support.servers import serve_wsgi
from tests.support.webhooks import SHOPIFY_SECRET

ROOT = Path(__file__).resolve().parents[2]
POLL_INTERVAL = 1.0


@dataclass
class Subscriber:
    """A local webhook receiver that keeps every delivery it gets (answers 204)."""

    url: str = ""
    secret: str = ""
    received: list[tuple[dict[str, str], bytes, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append((dict(request.headers), request.get_data(), time.monotonic()))
        return Response(status=204)(environ, start_response)

    def verified(self) -> list[tuple[dict[str, Any], float]]:
        """Every delivery, checked with the `standardwebhooks` package: (body, arrival)."""
        with self.lock:
            got = list(self.received)
        hook = Webhook(self.secret)
        checked = []
        for headers, body, at in got:
            lowered = {k.lower(): v for k, v in headers.items()}
            checked.append((hook.verify(body, lowered), at))
        return checked

    def wait_for(self, event_type: str, timeout: float) -> tuple[dict[str, Any], float]:
        """The first verified delivery of `event_type`, within `timeout` seconds.

        Raises:
            AssertionError: none arrived in time (what did arrive is in the message).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, at in self.verified():
                if body["type"] == event_type:
                    return body, at
            time.sleep(0.05)
        seen = [body["type"] for body, _ in self.verified()]
        raise AssertionError(f"no {event_type} within {timeout}s; received {seen}")


@dataclass
class Bridge:
    settings: Settings
    services: Services
    subscriber: Subscriber
    env: dict[str, str]


def _start_beat(redis_url: str, log_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    child_env = {**os.environ, "REDIS_URL": redis_url, "BRIDGE_LOG_JSON": "false", **env}
    child_env.pop("SENTRY_DSN", None)
    log_file = (log_dir / "beat.log").open("wb")
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks.app", "beat", "--loglevel", "INFO",
        "--schedule", str(log_dir / "beat-schedule"), "--pidfile", "",
    ]  # fmt: skip
    try:
        return subprocess.Popen(
            argv, cwd=ROOT, env=child_env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    finally:
        log_file.close()  # the child has its own copy of the descriptor


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def bridge(
    redis_url: str, sandbox_url: str, start_worker: Callable[..., WorkerHandle]
) -> Iterator[Bridge]:
    """Worker + beat + subscriber (to every event type) on the test Redis and sandbox."""
    env = {
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_ORGANIZATION_ID": ORGANIZATION_ID,
        "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "BRIDGE_OUTBOUND_ALLOW_PRIVATE": "true",
        "BRIDGE_POLL_INTERVAL": str(POLL_INTERVAL),
        "BRIDGE_POLL_OVERLAP": "5",
        "BRIDGE_CONNECTION": "e2e-poller",
    }
    settings = Settings(
        redis_url=redis_url,
        sage_api_url=env["SAGE_API_URL"],
        sage_auth_url=sandbox_url,
        sage_organization_id=ORGANIZATION_ID,
        shopify_webhook_secret=SHOPIFY_SECRET,
        outbound_allow_private=True,
        connection="e2e-poller",
    )
    services = build_services(settings)
    subscriber = Subscriber()
    with serve_wsgi(subscriber.app) as url, tempfile.TemporaryDirectory() as tmp:
        subscriber.url = f"{url}/hooks"
        outbound = Outbound(services.redis, settings)
        types = ["invoice.posted", "invoice.partially_collected", "invoice.collected"]
        _, subscriber.secret = outbound.create_subscription(subscriber.url, types)
        start_worker(pool="threads", concurrency=4, **env)
        beat = _start_beat(redis_url, Path(tmp), env)
        try:
            yield Bridge(settings, services, subscriber, env)
        finally:
            _stop(beat)
            services.close()
