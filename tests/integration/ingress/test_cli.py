"""`bridge replay` and `bridge web` (real gunicorn) from the command line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from click.testing import CliRunner

from bridge.cli import main
from bridge.embedded_redis import EmbeddedRedis, free_port
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


@contextlib.contextmanager
def bridge_web(redis_url: str, **extra: str) -> Iterator[str]:
    """`bridge web` (gunicorn, one process, default threads) on a free port; its base URL."""
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, **extra}
    argv = [sys.executable, "-m", "bridge.cli", "web", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.TransportError):  # not listening yet
                    if client.get("/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, "gunicorn did not come up"
                assert process.poll() is None, "bridge web exited"
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)


def test_bridge_web_serves_webhooks_with_gunicorn(redis_url: str) -> None:
    with bridge_web(redis_url) as base, httpx.Client(base_url=base, timeout=5) as client:
        body = stripe_event("evt_gunicorn")
        response = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
        assert response.status_code == 202
        assert client.get("/readyz").status_code == 200


def test_gunicorn_reads_chunked_bodies_and_refuses_broken_ones(
    redis_url: str, redis_client: redis.Redis
) -> None:
    body = stripe_event("evt_chunked")
    big = stripe_event("evt_big", pad="x" * (1024 * 1024))
    limit = str(1024 * 1024)
    with (
        bridge_web(redis_url, BRIDGE_MAX_BODY=limit) as base,
        httpx.Client(base_url=base, timeout=5) as client,
    ):
        # An iterator has no length: httpx sends it chunked, with no Content-Length.
        chunked = client.post(
            "/webhooks/stripe", content=iter([body[:7], body[7:]]), headers=stripe_headers(body)
        )
        too_big = client.post(
            "/webhooks/stripe",
            content=iter([big[:70_000], big[70_000:]]),
            headers=stripe_headers(big),
        )
        broken = _raw_exchange(
            base,
            b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Stripe-Signature: {stripe_headers(body)['Stripe-Signature']}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        )
    assert chunked.status_code == 202
    assert too_big.status_code == 413
    assert broken.startswith(b"HTTP/1.1 400"), broken[:200]
    assert b"unreadable_body" in broken
    ledger = redis_client.zrange(Settings(REDIS_URL=redis_url).key("events", "index", "all"), 0, -1)
    assert ledger == [b"stripe:evt_chunked"]


def test_gunicorn_threads_keep_accepting_after_redis_restarts(tmp_path: Path) -> None:
    redis_port = free_port()
    server = EmbeddedRedis(data_dir=tmp_path / "redis", port=redis_port, persistent=True).start()
    codes: dict[str, int] = {}
    try:
        with bridge_web(server.url) as base, httpx.Client(base_url=base, timeout=5) as client:

            def deliver(name: str) -> None:
                body = stripe_event(name)
                codes[name] = client.post(
                    "/webhooks/stripe", content=body, headers=stripe_headers(body)
                ).status_code

            for n in range(8):  # every server thread has used its Redis connection
                deliver(f"evt_before_{n}")
            server.stop()
            server = EmbeddedRedis(
                data_dir=tmp_path / "redis", port=redis_port, persistent=True
            ).start()
            for n in range(8):  # each thread's old connection is dead: replaced, no 503
                deliver(f"evt_after_{n}")
        check = redis.Redis.from_url(server.url, decode_responses=True)
        ledger = set(
            check.zrange(Settings(REDIS_URL=server.url).key("events", "index", "all"), 0, -1)
        )
        check.close()
    finally:
        server.stop()
    assert set(codes.values()) == {202}, codes
    assert ledger == {f"stripe:{name}" for name in codes}


def _raw_exchange(base: str, request: bytes) -> bytes:
    """Send `request` as is on a new connection; everything the server answers until it closes."""
    host, _, port = base.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer
