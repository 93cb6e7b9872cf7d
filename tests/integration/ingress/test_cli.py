"""`bridge replay` and `bridge web` (real gunicorn) from the command line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
import redis
from click.testing import CliRunner

from bridge.cli import main
from bridge.embedded_redis import free_port
from bridge.settings import Settings
from bridge.store.events import EventStatus, EventStore, NewEvent
from tests.support.webhooks import STRIPE_SECRET, stripe_event, stripe_headers

pytestmark = pytest.mark.integration


def test_replay_requeues_and_says_so(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = EventStore(client, Settings(REDIS_URL=redis_url))
    store.record(NewEvent(provider="stripe", provider_id="evt_9", topic="invoice.paid", body="{}"))
    client.delete(store.outbox_key)
    store.mark("stripe:evt_9", EventStatus.FAILED, error="boom")
    result = CliRunner().invoke(main, ["replay", "stripe:evt_9"])
    unknown = CliRunner().invoke(main, ["replay", "stripe:evt_404"])
    outbox = client.lrange(store.outbox_key, 0, -1)
    client.close()
    assert result.exit_code == 0, result.output
    assert "stripe:evt_9: failed -> queued" in result.output
    assert outbox == ["stripe:evt_9"]
    assert unknown.exit_code == 1
    assert "no event 'stripe:evt_404'" in unknown.output


def test_commands_refuse_to_start_without_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    for command in (["web"], ["worker"], ["beat"], ["replay", "stripe:evt_1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1
        assert "REDIS_URL is not set" in result.output


def test_bridge_web_serves_webhooks_with_gunicorn(redis_url: str) -> None:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET}
    argv = [sys.executable, "-m", "bridge.cli", "web", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.TransportError):  # not listening yet
                    if client.get("/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, "gunicorn did not come up"
                assert process.poll() is None, "bridge web exited"
                time.sleep(0.1)
            body = stripe_event("evt_gunicorn")
            response = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
            assert response.status_code == 202
            assert client.get("/readyz").status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
