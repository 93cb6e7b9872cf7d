"""Benchmark: webhooks of others while 200 slow clients hold `bridge web` open.

`bridge web` (its asyncio front, then gunicorn) on 127.0.0.1 with an embedded Redis. Two
phases in the same run: first a baseline, signed Stripe webhooks sent at a steady rate by a
few keep-alive senders; then the same while 200 slow connections are held open (half drip
their request head a byte at a time, half declared a 100,000-byte body and drip it), each
reopened as soon as the server refuses it (408), so that 200 are open throughout. It prints
the webhooks' latency (p50 / p99 / max) in both phases, how many slow connections were open
(lowest seen), and the goal: p99 under 100 ms with the slow clients.

    .venv/bin/python bench/slow_clients.py [--slow 200] [--webhooks 400] [--rate 40]
        [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import stopping

from bridge.embedded_redis import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_bench_slow_clients"  # noqa: S105 - a throwaway secret for this run
HEAD_DRIP = b"POST /webhooks/stripe HTTP/1.1\r\nHost: bench\r\nX-Slow: "
BODY_DRIP = (
    b"POST /webhooks/stripe HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{"
)


def signed(n: int) -> tuple[bytes, dict[str, str]]:
    import hashlib
    import hmac
    import json

    body = json.dumps({
        "id": f"evt_slow_bench_{n}_{time.time_ns()}", "object": "event", "type": "charge.succeeded",
        "created": int(time.time()), "livemode": False,
        "data": {"object": {"id": f"ch_{n}", "object": "charge", "amount": 1234}},
    }).encode()  # fmt: skip
    ts = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "Stripe-Signature": f"t={ts},v1={mac}"}


class SlowClients(threading.Thread):
    """Holds `count` slow connections open: a byte each every `every` s, reopened when
    the server closes one."""

    def __init__(self, port: int, count: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.every = port, count, every
        self.stop = threading.Event()
        self.lowest_open = count
        self.reopened = 0
        self._selector = selectors.DefaultSelector()

    def _open(self, n: int) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setblocking(False)
        first = HEAD_DRIP if n % 2 else BODY_DRIP
        sock.send(first)
        self._selector.register(sock, selectors.EVENT_READ, n)

    def run(self) -> None:
        for n in range(self.count):
            self._open(n)
        while not self.stop.is_set():
            deadline = time.monotonic() + self.every
            while (left := deadline - time.monotonic()) > 0:
                for key, _ in self._selector.select(left):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    with contextlib.suppress(OSError):
                        sock.recv(65536)  # the refusal (408): this one is closed
                    self._selector.unregister(sock)
                    sock.close()
                    self.reopened += 1
                    self._open(int(key.data))
            open_now = len(self._selector.get_map())
            self.lowest_open = min(self.lowest_open, open_now)
            for key in list(self._selector.get_map().values()):
                with contextlib.suppress(OSError):
                    key.fileobj.send(b"a")  # type: ignore[union-attr]
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def send(port: int, webhooks: int, rate: float, senders: int = 4) -> list[float]:
    """`webhooks` signed deliveries at `rate` per second from `senders` keep-alive clients;
    each one's latency in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def sender(index: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for n in range(index, webhooks, senders):
                due = start + n / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                body, headers = signed(n)
                began = time.monotonic()
                answer = client.post("/webhooks/stripe", content=body, headers=headers)
                took = time.monotonic() - began
                assert answer.status_code == 202, answer.text
                with lock:
                    latencies.append(took)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def figures(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def main() -> int:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200, help="slow connections held open")
    parser.add_argument("--webhooks", type=int, default=400, help="webhooks sent per phase")
    parser.add_argument("--rate", type=float, default=40.0, help="webhooks per second")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    args = parser.parse_args()
    with EmbeddedRedis() as redis_server:
        port = free_port()
        env = {**os.environ, "REDIS_URL": redis_server.url, "STRIPE_WEBHOOK_SECRET": SECRET,
               "BRIDGE_LOG_LEVEL": "WARNING"}  # fmt: skip
        env.pop("SENTRY_DSN", None)
        argv = [sys.executable, "-m", "bridge.cli", "web", "--port", str(port),
                "--workers", str(args.workers), "--threads", str(args.threads)]  # fmt: skip
        web = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("bridge web did not come up")
                time.sleep(0.1)
            print(f"bridge web on 127.0.0.1:{port}: gunicorn {args.workers} x {args.threads} "
                  f"threads behind its front; {args.webhooks} webhooks per phase at "
                  f"{args.rate:g}/s")  # fmt: skip
            send(port, 40, args.rate)  # warm-up: connections, Lua script loaded
            baseline = send(port, args.webhooks, args.rate)
            print(f"baseline (no slow client):        {figures(baseline)}")
            slow = SlowClients(port, args.slow)
            slow.start()
            time.sleep(1.0)  # every slow connection open and dripping
            loaded = send(port, args.webhooks, args.rate)
            slow.stop.set()
            slow.join(10)
            print(
                f"with {args.slow} slow connections open: {figures(loaded)} "
                f"(lowest open {slow.lowest_open}, {slow.reopened} refused 408 and reopened)"
            )
            p99 = sorted(loaded)[min(len(loaded) - 1, int(0.99 * len(loaded)))] * 1000
            verdict = "met" if p99 < 100 else "MISSED"
            print(f"goal: p99 under 100 ms with the slow clients: {verdict}")
        finally:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
