"""Bodies over the limit get their 413, every time, from real `bridge web` (gunicorn).

A server that answers 413 without reading the body, then closes the connection while the
client is still sending, makes the kernel reset it: the client sees a broken pipe or a
reset, not the 413 (gunicorn drains at most 64 KiB of an unread body before closing). The
ingress reads and discards the rest of such a body (bounded), so each of 50 requests of
2 MB, sent one after the other on five keep-alive connections, gets its 413.
"""

from __future__ import annotations

import socket
import threading

import pytest
import redis

from bridge.settings import Settings
from tests.integration.ingress.test_cli import bridge_web
from tests.support.webhooks import stripe_event, stripe_headers

pytestmark = pytest.mark.integration

LIMIT = 1024 * 1024
BIG = 2 * 1024 * 1024


def _request(index: int) -> bytes:
    body = stripe_event(f"evt_big_{index}", pad="x" * BIG)
    head = f"POST /webhooks/stripe HTTP/1.1\r\nHost: bridge\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in stripe_headers(body).items())
    return head.encode() + b"\r\n" + body


def _answer(sock: socket.socket) -> tuple[str, bool]:
    """Read one whole answer: (status line, whether the server will close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0], headers.get("connection", "").lower() == "close"


def test_fifty_big_bodies_over_keep_alive_connections_all_get_413(
    redis_url: str, redis_client: redis.Redis
) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def sender(port: int, first: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            for index in range(first, first + 10):
                try:
                    sock.sendall(_request(index))
                    status, close = _answer(sock)
                except OSError as exc:  # broken pipe, reset: what a sender saw before
                    status, close = type(exc).__name__, True
                with lock:
                    outcomes.append(status)
                if close:
                    sock.close()
                    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        finally:
            sock.close()

    with bridge_web(redis_url, BRIDGE_MAX_BODY=str(LIMIT)) as base:
        port = int(base.rsplit(":", 1)[1])
        threads = [threading.Thread(target=sender, args=(port, 10 * i)) for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        small = stripe_event("evt_small_after")
        head = f"POST /webhooks/stripe HTTP/1.1\r\nHost: b\r\nContent-Length: {len(small)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in stripe_headers(small).items())
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head.encode() + b"\r\n" + small)
            after, _ = _answer(sock)
    assert outcomes == ["HTTP/1.1 413 Request Entity Too Large"] * 50, outcomes
    assert after.startswith("HTTP/1.1 202")
    ledger = redis_client.zrange(Settings(REDIS_URL=redis_url).key("events", "index", "all"), 0, -1)
    assert ledger == [b"stripe:evt_small_after"]
