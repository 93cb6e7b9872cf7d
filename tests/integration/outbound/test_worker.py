"""The Celery side for real (no eager mode): worker processes sending webhooks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from standardwebhooks import Webhook

from bridge.metrics import Metrics
from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from bridge.store.outbound import DeliveryStatus
from tests.support.subscriber import Subscriber

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
INVOICE = {
    "invoice_id": "inv-1",
    "status": "Pending",
    "total": "10.00",
    "currency": "EUR",
    "amount_due": "10.00",
}


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def bridge_env(redis_url: str) -> dict[str, str]:
    extra = {"REDIS_URL": redis_url, "BRIDGE_OUTBOUND_ALLOW_PRIVATE": "true"}
    return {**os.environ, **extra, "BRIDGE_LOG_JSON": "false"}


@contextmanager
def celery_worker(redis_url: str, tmp_path: Path, *, beat: bool) -> Iterator[Path]:
    """A real worker (solo pool), with an embedded beat if asked; yields its log file."""
    argv = [sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "-P", "solo"]
    argv += ["--without-gossip", "--without-mingle"]
    if beat:
        argv += ["-B", "-s", str(tmp_path / "beat-schedule")]
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(argv, cwd=ROOT, env=bridge_env(redis_url), stdout=log, stderr=log)
        try:
            yield log_path
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)


@pytest.fixture
def outbound(redis_url: str) -> Iterator[Outbound]:
    settings = Settings(redis_url=redis_url, outbound_allow_private=True)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield Outbound(client, settings)
    client.close()


def test_beat_pumps_a_due_delivery_to_a_worker_that_sends_it(
    redis_url: str, subscriber: Subscriber, tmp_path: Path, outbound: Outbound
) -> None:
    # given an event emitted by this process only (nothing sent to Celery)
    _, secret = outbound.create_subscription(subscriber.url("/ok"), ["invoice.created"])
    event_id = outbound.emit("invoice.created", INVOICE)
    (delivery_id,) = outbound.event(event_id).delivery_ids

    # when a real worker with its embedded beat runs
    with celery_worker(redis_url, tmp_path, beat=True) as log_path:
        delivered = wait_for(lambda: subscriber.received, timeout=40)
        wait_for(lambda: outbound.delivery(delivery_id).attempt_count, timeout=10)

    # then the subscriber got the event once, signed, and the delivery is a success
    assert delivered, log_path.read_text()[-3000:]
    (got,) = subscriber.received
    assert Webhook(secret).verify(got.body, got.headers)["data"]["total"] == "10.00"
    assert got.headers["Webhook-Id"] == event_id
    assert outbound.delivery(delivery_id).status is DeliveryStatus.SUCCEEDED
    assert outbound.delivery(delivery_id).attempt_count == 1
    # and the attempt is counted for /metrics, by outcome
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        metrics = Metrics(client, Settings(REDIS_URL=redis_url))
        counted = metrics.values("counter", "bridge_outbound_deliveries_total")
    assert counted == {'outcome="succeeded"': 1}


def test_publish_sends_the_first_attempt_without_waiting_for_the_pump(
    redis_url: str, subscriber: Subscriber, tmp_path: Path, outbound: Outbound
) -> None:
    # given a subscription and a worker with no beat (so no pump)
    _, secret = outbound.create_subscription(subscriber.url("/ok"), ["invoice.created"])
    script = (
        "from tasks.outbound import publish; "
        f"print(publish('invoice.created', {INVOICE!r}, key='invoice.created:inv-1'))"
    )
    with celery_worker(redis_url, tmp_path, beat=False) as log_path:
        # when another process publishes an event (twice, with the same key)
        event_ids = {
            subprocess.run(
                [sys.executable, "-c", script],
                cwd=ROOT,
                env=bridge_env(redis_url),
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
            for _ in range(2)
        }
        delivered = wait_for(lambda: subscriber.received, timeout=40)
        time.sleep(0.5)  # room for a duplicate to show up, if there were one

    # then its first attempt was sent at once, once
    assert delivered, log_path.read_text()[-3000:]
    (event_id,) = event_ids
    (got,) = subscriber.received
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "invoice.created"
    assert got.headers["Webhook-Id"] == event_id
