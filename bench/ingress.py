"""Ingress benchmark: signed Stripe webhooks on `bridge web` (gunicorn) vs a bare Flask ceiling.

    .venv/bin/python bench/ingress.py [--duration 10] [--connections 16] [--workers 2xCPUs]

Starts a real Redis (embedded), then, one after the other on 127.0.0.1 with the same
gunicorn settings (gthread workers):
  1. the ceiling: a bare Flask endpoint that reads the body and answers 202;
  2. the bridge: `bridge.web:create_production_app()`, every request a new signed event
     (verify, record + queue in one Redis call, acknowledge).
Each is driven for a bounded time by a small asyncio HTTP/1.1 keep-alive load generator,
and the script prints accepted webhooks per second, p50 / p99 acknowledgement latency and
the bridge's ratio to the ceiling. Goal: ratio >= 0.5 and p99 < 25 ms at 16 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from flask import Flask, Response, request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

SECRET = "whsec_bench_secret"  # noqa: S105 - a throwaway secret for this run


def ceiling_app() -> Flask:
    """The ceiling: the same route, reading the body, answering 202 with a small JSON."""
    app = Flask("ceiling")

    @app.post("/webhooks/stripe")
    def accept() -> Response:
        request.get_data()
        return Response('{"status": "queued"}', status=202, mimetype="application/json")

    return app


def signed_request(port: int, n: int, run: str) -> bytes:
    body = json.dumps(
        {"id": f"evt_{run}_{n}", "object": "event", "type": "charge.succeeded",
         "created": int(time.time()), "data": {"object": {"id": f"ch_{n}", "amount": 1234}}}
    ).encode()  # fmt: skip
    ts = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nStripe-Signature: t={ts},v1={mac}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    other: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    extra: int = 0

    def next_n(self) -> int:
        """A fresh request number once the presigned ones are used up."""
        self.extra += 1
        return 10_000_000 + self.extra


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _connection(
    port: int, deadline: float, stats: Stats, requests: list[bytes], run: str
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            # Signed ahead of time so that signing does not eat the CPU being measured.
            payload = requests.pop() if requests else signed_request(port, stats.next_n(), run)
            started = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)
            stats.latencies.append(time.perf_counter() - started)
            if status == 202:
                stats.accepted += 1
            else:
                stats.other[status] = stats.other.get(status, 0) + 1
    except (ConnectionError, asyncio.IncompleteReadError):
        stats.errors += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def drive(
    port: int, connections: int, duration: float, run: str, presigned: int
) -> tuple[Stats, float]:
    stats = Stats()
    requests = [signed_request(port, n, run) for n in range(presigned)]
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(
        *(_connection(port, deadline, stats, requests, run) for _ in range(connections))
    )
    return stats, time.monotonic() - started


def start_gunicorn(
    app_spec: str, port: int, workers: int, threads: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
            "--workers", str(workers), "--threads", str(threads),
            "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"), app_spec]  # fmt: skip
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} exited with {process.returncode}")
            try:
                client.post(f"http://127.0.0.1:{port}/webhooks/stripe", content=b"{}")
                return process
            except httpx.TransportError:
                time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"gunicorn {app_spec} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(
    name: str, spec: str, args: argparse.Namespace, env: dict[str, str]
) -> tuple[Stats, float]:
    port = free_port()
    process = start_gunicorn(spec, port, args.workers, args.threads, env)
    try:
        asyncio.run(drive(port, args.connections, min(2.0, args.duration), f"warm{name}", 5000))
        presigned = int(args.duration * 8000)
        stats, elapsed = asyncio.run(drive(port, args.connections, args.duration, name, presigned))
    finally:
        stop(process)
    rate = stats.accepted / elapsed
    print(
        f"{name:8s} {rate:9.0f} accepted/s   p50 {percentile(stats.latencies, 0.5) * 1000:6.2f} ms"
        f"   p99 {percentile(stats.latencies, 0.99) * 1000:6.2f} ms"
        f"   other statuses {stats.other or '-'}   connection errors {stats.errors}"
    )
    return stats, rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn processes"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    args = parser.parse_args()
    with EmbeddedRedis() as redis_server:
        env = {**os.environ, "REDIS_URL": redis_server.url, "STRIPE_WEBHOOK_SECRET": SECRET,
               "BRIDGE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}  # fmt: skip
        env.pop("SENTRY_DSN", None)
        print(f"{args.connections} connections, {args.duration:.0f} s each, gunicorn gthread "
              f"{args.workers}x{args.threads}, Redis {redis_server.url}")  # fmt: skip
        _, ceiling = measure("ceiling", "ingress:ceiling_app()", args, env)
        stats, bridge = measure("bridge", "bridge.web:create_production_app()", args, env)
        import redis

        client = redis.Redis.from_url(redis_server.url)
        recorded = client.zcard("bridge:default:events:index:all")
        client.close()
    p99 = percentile(stats.latencies, 0.99) * 1000
    ratio = bridge / ceiling if ceiling else float("nan")
    print(f"ratio to ceiling {ratio:.2f} (goal >= 0.5)   bridge p99 {p99:.2f} ms (goal < 25 ms)")
    print(f"events in the ledger: {recorded} (accepted incl. warm-up: every one recorded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
