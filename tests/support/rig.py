"""End-to-end rig: signed webhooks into the real ingress, a real Celery worker subprocess,
the sandbox over HTTP, the real Redis. Every wait is bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.services import Services, build_services
from bridge.web import create_app
from connectors.sage_active.models import SalesInvoice
from tests.support.celery import WorkerHandle
from tests.support.pipeline import SHOP, SandboxControl, sandbox_settings
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET, shopify_headers

ADMIN_TOKEN = "e2e-admin-token"


@dataclass
class Rig:
    services: Services
    client: FlaskClient
    control: SandboxControl
    worker_env: dict[str, str]
    start_worker: Callable[..., WorkerHandle]

    def worker(self, pool: str = "threads", concurrency: int = 4) -> WorkerHandle:
        return self.start_worker(pool=pool, concurrency=concurrency, **self.worker_env)

    def send(self, topic: str, body: dict[str, Any], webhook_id: str | None = None) -> str:
        """POST a signed Shopify webhook to the ingress; returns the event ref."""
        raw = json.dumps(body).encode()
        delivery = webhook_id or str(uuid.uuid4())
        headers = shopify_headers(raw, topic=topic, webhook_id=delivery, shop=SHOP)
        response = self.client.post("/webhooks/shopify", data=raw, headers=headers)
        assert response.status_code in (200, 202), response.get_data(as_text=True)
        return f"shopify:{delivery}"

    def wait_for(
        self, check: Callable[[], Any], timeout: float = 60.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def invoice_status(self, reference: str) -> SalesInvoice | None:
        link = self.services.links.order(reference)
        if link is None or link.invoice_id is None:
            return None
        return self.services.sage.invoice(link.invoice_id)

    def wait_status(self, reference: str, status: str, timeout: float = 60.0) -> SalesInvoice:
        def check() -> SalesInvoice | None:
            invoice = self.invoice_status(reference)
            return invoice if invoice is not None and invoice.status == status else None

        found: SalesInvoice = self.wait_for(check, timeout, f"{reference} {status}")
        return found

    def event_status(self, ref: str) -> str | None:
        record = self.services.events.get(ref)
        return record.status.value if record else None


@pytest.fixture
def rig(
    redis_url: str, sandbox_url: str, start_worker: Callable[..., WorkerHandle]
) -> Iterator[Rig]:
    overrides = {
        "BRIDGE_CONNECTION": "default",
        "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    settings = sandbox_settings(redis_url, sandbox_url, **overrides)
    services = build_services(settings)
    env = {
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_TIMEOUT": "5",
        **overrides,
    }
    control = SandboxControl(sandbox_url)
    app = create_app(settings, services)
    try:
        with app.test_client() as client:
            yield Rig(services, client, control, env, start_worker)
    finally:
        control.clear_faults()
        control.close()
        services.close()


@pytest.fixture
def start_beat(redis_url: str, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Factory: `start_beat(**env)` runs a real `celery beat` (the sweep every 15 s) on the
    test Redis until the test ends."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> None:
        child_env = {**os.environ, "REDIS_URL": redis_url, "BRIDGE_LOG_JSON": "false", **env}
        child_env.pop("SENTRY_DSN", None)
        argv = [
            sys.executable, "-m", "celery", "-A", "tasks.app", "beat", "--loglevel", "INFO",
            "--schedule", str(tmp_path / "beat-schedule"), "--pidfile", "",
        ]  # fmt: skip
        root = Path(__file__).resolve().parents[2]
        with (tmp_path / "beat.log").open("wb") as log_file:  # the child keeps its own copy
            process = subprocess.Popen(
                argv, cwd=root, env=child_env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        processes.append(process)

    try:
        yield start
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
