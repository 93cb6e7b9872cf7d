"""Ingress benchmark: signed Stripe webhooks on `bridge web` (gunicorn) vs a bare Flask ceiling.

    .venv/bin/python bench/ingress.py [--duration 10] [--connections 16] [--rounds 4]
                                      [--workers N] [--threads N]

Starts a real Redis (embedded) and two gunicorn servers on 127.0.0.1 with the same worker
options as `bridge web` (`bridge.cli.gunicorn_options`; no access log, logs at WARNING):
  1. the ceiling: a bare Flask endpoint that reads the body and answers 202;
  2. the bridge: `bridge.web:create_production_app()`, every request a new signed event
     (verify, record + queue in one Redis call, acknowledge).
One load generator drives both: a small HTTP/1.1 keep-alive client on raw sockets (one
`selectors` loop, requests signed before the clock starts), so that it takes as little of
the shared CPU as it can. The two targets take turns in short rounds (ceiling, bridge,
bridge, ceiling, ...) so that a change in the machine's other load hits both alike. The
script prints accepted webhooks per second, p50 / p99 acknowledgement latency, the CPU
used per request by gunicorn, Redis and the generator, and the bridge's ratio to the
ceiling (overall, and the spread over rounds).
Goal: ratio >= 0.5 and p99 < 25 ms at 16 connections.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import hmac
import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import redis
from flask import Flask, Response, request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stopping  # noqa: E402

from bridge.cli import gunicorn_options  # noqa: E402
from bridge.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

SECRET = "whsec_bench_secret"  # noqa: S105 - a throwaway secret for this run
PRESIGNED_PER_SECOND = 12_000  # more than either target accepts here: none signed on the clock
Meter = Callable[[], dict[str, float]]


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
    elapsed: float = 0.0
    round_rates: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: server, redis, generator

    def add(self, other: Stats) -> None:
        self.latencies += other.latencies
        self.accepted += other.accepted
        for status, count in other.other.items():
            self.other[status] = self.other.get(status, 0) + count
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.round_rates.append(other.accepted / other.elapsed)
        for part, seconds in other.cpu.items():
            self.cpu[part] = self.cpu.get(part, 0.0) + seconds


def _response_end(buffer: bytearray) -> tuple[int, int] | None:
    """(status, length of the whole response) if `buffer` holds one, else None."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end]).lower()
    length, at = 0, head.find(b"\r\ncontent-length:")
    if at >= 0:
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
    end = head_end + 4 + length
    return (int(buffer[9:12]), end) if len(buffer) >= end else None


def drive(port: int, connections: int, duration: float, requests: list[bytes]) -> Stats:
    """Keep `connections` keep-alive connections busy for `duration` s; `requests` are used up."""
    stats = Stats()
    selector = selectors.DefaultSelector()
    started: dict[socket.socket, float] = {}
    buffers: dict[socket.socket, bytearray] = {}
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = bytearray()
    begin = time.perf_counter()
    deadline = begin + duration
    try:
        for sock in buffers:
            started[sock] = time.perf_counter()
            sock.sendall(requests.pop())
        while started:
            ready = selector.select(timeout=10)
            if not ready:
                raise TimeoutError("no response for 10 s")
            for key, _ in ready:
                _on_readable(key.fileobj, stats, started, buffers, requests, deadline)  # type: ignore[arg-type]
    finally:
        stats.elapsed = time.perf_counter() - begin
        for sock in buffers:
            selector.unregister(sock)
            sock.close()
        selector.close()
    return stats


def _on_readable(
    sock: socket.socket,
    stats: Stats,
    started: dict[socket.socket, float],
    buffers: dict[socket.socket, bytearray],
    requests: list[bytes],
    deadline: float,
) -> None:
    buffer = buffers[sock]
    chunk = sock.recv(65536)
    if not chunk:
        stats.errors += 1
        del started[sock]
        return
    buffer += chunk
    done = _response_end(buffer)
    if done is None:
        return
    now = time.perf_counter()
    status, end = done
    del buffer[:end]
    stats.latencies.append(now - started.pop(sock))
    if status == 202:
        stats.accepted += 1
    else:
        stats.other[status] = stats.other.get(status, 0) + 1
    if now < deadline and requests:
        started[sock] = time.perf_counter()
        sock.sendall(requests.pop())


def start_gunicorn(
    app_spec: str, port: int, workers: int, threads: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "gunicorn", *gunicorn_options(workers, threads)]
    argv += ["--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"), app_spec]
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


def report(name: str, stats: Stats) -> float:
    rate = stats.accepted / stats.elapsed
    per = {
        part: seconds / max(1, len(stats.latencies)) * 1e6 for part, seconds in stats.cpu.items()
    }
    print(
        f"{name:8s} {rate:9.0f} accepted/s   p50 {percentile(stats.latencies, 0.5) * 1000:6.2f} ms"
        f"   p99 {percentile(stats.latencies, 0.99) * 1000:6.2f} ms"
        f"   other statuses {stats.other or '-'}   connection errors {stats.errors}\n"
        f"{'':8s} CPU µs/request: gunicorn {per['server']:.0f}, Redis {per['redis']:.0f}, "
        f"load generator {per['generator']:.0f}"
    )
    return rate


def cpu_seconds(server: psutil.Process, redis_client: redis.Redis) -> dict[str, float]:
    """CPU used so far by a gunicorn server's processes, by Redis, and by this generator."""
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    info = redis_client.info("cpu")
    redis_cpu = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return {"server": total, "redis": redis_cpu, "generator": time.process_time()}


def measured(port: int, args: argparse.Namespace, requests: list[bytes], meter: Meter) -> Stats:
    """One round on one target, with the CPU each part used during it."""
    before = meter()
    stats = drive(port, args.connections, args.duration / args.rounds, requests)
    stats.cpu = {part: seconds - before[part] for part, seconds in meter().items()}
    return stats


def run_rounds(
    ports: dict[str, int], meters: dict[str, Meter], args: argparse.Namespace
) -> dict[str, Stats]:
    """Warm both targets, then alternate them (ABBA...) for `args.rounds` rounds each."""
    for name, port in ports.items():
        drive(
            port,
            args.connections,
            2.0,
            [signed_request(port, n, f"warm{name}") for n in range(5000)],
        )
    totals = {name: Stats() for name in ports}
    count = int(args.duration / args.rounds * PRESIGNED_PER_SECOND)
    order = list(ports)
    for n in range(args.rounds):
        for name in order if n % 2 == 0 else order[::-1]:
            port = ports[name]
            requests = [signed_request(port, i, f"{name}{n}") for i in range(count)]
            totals[name].add(measured(port, args, requests, meters[name]))
    return totals


def main() -> int:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--rounds", type=int, default=4, help="turns each target takes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=None, help="threads per gunicorn process")
    args = parser.parse_args()
    workers, threads = _resolved(args.workers, args.threads)
    with EmbeddedRedis() as redis_server:
        env = {**os.environ, "REDIS_URL": redis_server.url, "STRIPE_WEBHOOK_SECRET": SECRET,
               "BRIDGE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}  # fmt: skip
        env.pop("SENTRY_DSN", None)
        print(f"{args.connections} connections, {args.duration:.0f} s each in {args.rounds} "
              f"rounds, gunicorn {' '.join(gunicorn_options(workers, threads))}, "
              f"Redis {redis_server.url}")  # fmt: skip
        specs = {"ceiling": "ingress:ceiling_app()", "bridge": "bridge.web:create_production_app()"}
        ports = {name: free_port() for name in specs}
        servers = {
            name: start_gunicorn(specs[name], ports[name], workers, threads, env) for name in specs
        }
        client = redis.Redis.from_url(redis_server.url)
        try:
            meters = {
                name: functools.partial(cpu_seconds, psutil.Process(server.pid), client)
                for name, server in servers.items()
            }
            totals = run_rounds(ports, meters, args)
        finally:
            client.close()
            for server in servers.values():
                stop(server)
        recorded = _ledger_size(redis_server.url)
    ceiling, bridge = report("ceiling", totals["ceiling"]), report("bridge", totals["bridge"])
    p99 = percentile(totals["bridge"].latencies, 0.99) * 1000
    pairs = zip(totals["bridge"].round_rates, totals["ceiling"].round_rates, strict=True)
    rounds = [b / c for b, c in pairs]
    print(f"ratio to ceiling {bridge / ceiling:.2f} (goal >= 0.5; rounds "
          f"{min(rounds):.2f}..{max(rounds):.2f}, median {statistics.median(rounds):.2f})   "
          f"bridge p99 {p99:.2f} ms (goal < 25 ms)")  # fmt: skip
    print(f"events in the ledger: {recorded} (accepted incl. warm-up: every one recorded)")
    return 0


def _resolved(workers: int | None, threads: int | None) -> tuple[int, int]:
    """The worker and thread counts `bridge web` would use, unless given."""
    options = gunicorn_options(workers, threads)
    return int(options[options.index("--workers") + 1]), int(
        options[options.index("--threads") + 1]
    )


def _ledger_size(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.zcard("bridge:default:events:index:all"))
    finally:
        client.close()


if __name__ == "__main__":
    raise SystemExit(main())
