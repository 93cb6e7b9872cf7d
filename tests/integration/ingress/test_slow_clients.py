"""Slow or hostile clients cannot stall `bridge web` (its asyncio front, `bridge.web.front`).

Given `bridge web` with one gunicorn process of two threads and deadlines of 1 s (head) and
2 s (body): while 60 connections hold it open (half dripping their headers, half having
declared a 100,000-byte body and sent 10 bytes), `/healthz` and a signed webhook are answered
at once; a declared 100 MB body is refused 413 before anything of it is sent; a head that
does not arrive in time gets 408 and the connection is closed, as does a body.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from bridge.embedded_redis import free_port
from tests.support.webhooks import STRIPE_SECRET, stripe_event, stripe_headers

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def bridge_web(redis_url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "BRIDGE_READ_HEADER_TIMEOUT": "1",
        "BRIDGE_READ_BODY_TIMEOUT": "2",
    }
    argv = [sys.executable, "-m", "bridge.cli", "web", "--port", str(port)]
    argv += ["--workers", "1", "--threads", "2"]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        with httpx.Client(timeout=5) as client:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, "bridge web did not come up"
                assert process.poll() is None, "bridge web exited"
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answer(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (at most `within` s); and how long."""
    sock.settimeout(within)
    started, data = time.monotonic(), b""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data, time.monotonic() - started


def test_slow_clients_cannot_stall_the_ingress(redis_url: str) -> None:
    with bridge_web(redis_url) as (host, port):
        slow: list[socket.socket] = []
        try:
            for n in range(60):
                sock = socket.create_connection((host, port))
                if n % 2:
                    sock.sendall(b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\n")  # head, slowly
                else:
                    sock.sendall(
                        b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/json\r\nContent-Length: 100000\r\n\r\n0123456789"
                    )
                slow.append(sock)
            with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:
                started = time.monotonic()
                assert client.get("/healthz").status_code == 200
                body = stripe_event("evt_among_slow_clients")
                accepted = client.post(
                    "/webhooks/stripe", content=body, headers=stripe_headers(body)
                )
                took = time.monotonic() - started
            assert accepted.status_code == 202, accepted.text
            # Without the front these wait for ever (the client gives up after 5 s).
            assert took < 3.0, f"answered in {took:.2f} s"

            with socket.create_connection((host, port)) as huge:
                huge.sendall(
                    b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                    b"application/json\r\nContent-Length: 100000000\r\n\r\n"
                )
                refused, waited = _answer(huge, 5)
            assert refused.startswith(b"HTTP/1.1 413"), refused[:100]
            assert b"payload_too_large" in refused
            assert waited < 2.5  # nothing of the body was waited for (no deadline needed)

            head_late, waited_head = _answer(slow[1], 5)
            body_late, waited_body = _answer(slow[0], 5)
            assert head_late.startswith(b"HTTP/1.1 408"), head_late[:100]
            assert b"Connection: close" in head_late  # and closed: recv returned b""
            assert waited_head < 4.0
            assert body_late.startswith(b"HTTP/1.1 408"), body_late[:100]
            assert waited_body < 4.5
        finally:
            for sock in slow:
                sock.close()
