"""Benchmark of the whole pipeline: signed webhooks -> ingress -> worker -> sandbox.

Shopify orders, each followed at once by its payment, go through the real ingress (signed
requests), real Celery worker subprocesses (`--workers`, each with `--concurrency` threads)
and the sandbox over HTTP, which adds
`--latency-ms` to every GraphQL request and enforces Sage's `--limit` requests per minute.
Orders are sent at a steady rate; an order counts as done when its link says Collected.
Each run starts after one warm-up order (customer / product / journal / payment method
caches warm) and counts the Sage requests the sandbox saw.

Runs, in one process, on the same sandbox and Redis:
1. load, batched: `--rate` orders+payments/s for `--seconds` with the batch writer;
2. load, unbatched: the same rate with `SAGE_BATCH_MAX_OPERATIONS=1` (every step its own
   request, the former path), `--baseline-seconds` long (it cannot keep up: that is the point);
3. and 4. one order+payment per second, batched then unbatched, `--slow-orders` each.
Then prints the figures beside the goals of issue 16, and the CPU each order+payment cost
(the workers; the ingress, sandbox and this bench, which share one process).

    .venv/bin/python bench/pipeline.py [--rate 55] [--seconds 30] [--latency-ms 50]
                                       [--limit 3000] [--workers 2] [--concurrency 48]
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import logging
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import stopping
from werkzeug.serving import make_server

from bridge.embedded_redis import EmbeddedRedis
from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from connectors.sage_active.sandbox import SandboxConfig
from connectors.sage_active.sandbox import create_app as create_sandbox

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shopify"
SECRET = "bench-shopify-secret"  # noqa: S105 - a local, throw-away webhook secret
SHOP = "boutique-demo.myshopify.com"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signed(body: bytes, topic: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }


def order_and_payment(n: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Order n and its payment (ids differ per n, so the two runs never share an order)."""
    order = copy.deepcopy(fixture("orders-create-001-ttc-single-mug"))
    order_id = 5930000000000 + n
    order.update(id=order_id, name=f"#B{n}", order_number=90000 + n)
    tx = copy.deepcopy(fixture("order-transactions-create-001-sale-shopify-payments"))
    tx.update(id=7930000000000 + n, order_id=order_id)
    return f"shopify:{SHOP}:{order_id}", order, tx


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
        "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_collected(
    services: Any, refs: list[str], deadline: float, sending: threading.Event | None = None
) -> dict[str, float]:
    """When each order's link first showed Collected (monotonic seconds). `refs` may grow
    while `sending` is set (orders still being sent); only orders not seen yet are read,
    in one round trip per poll, and cheaply (the bench shares the CPU with what it measures)."""
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        still_sending = sending is not None and sending.is_set()
        left = [r for r in list(refs) if r not in seen]
        if not left and not still_sending:
            break
        raws = services.redis.mget([services.settings.key("link", "order", ref) for ref in left])
        now = time.monotonic()
        for ref, raw in zip(left, raws, strict=True):
            # decode only the links that may say Collected (the rest are most of them)
            if raw and "Collected" in raw and json.loads(raw).get("status") == "Collected":
                seen[ref] = now
        time.sleep(0.05)
    return seen


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` used so far, every thread included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(services: Any) -> float:
    """CPU seconds the Redis server used so far (`INFO cpu`)."""
    info = services.redis.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Figures:
    """What one run measured."""

    label: str
    orders: int
    collected: int
    elapsed: float
    requests: int
    rate_limited: int
    latencies: list[float]
    sent_for: float  # seconds from the first send to the last
    worker_cpu: float
    bench_cpu: float
    redis_cpu: float
    limit: int

    @property
    def per_minute(self) -> float:
        return 60 * self.collected / self.elapsed if self.elapsed else 0.0

    @property
    def cpu(self) -> float:
        return self.worker_cpu + self.bench_cpu + self.redis_cpu

    @property
    def requests_per_order(self) -> float:
        return self.requests / max(self.orders, 1)

    def p(self, share: float) -> float:
        return percentile(self.latencies, share)

    def print(self) -> None:
        print(f"\n== {self.label}")
        print(f"completed (Collected): {self.collected}/{self.orders} in {self.elapsed:.1f} s")
        offered = 60 * self.orders / self.sent_for if self.sent_for else 0.0
        print(f"throughput: {self.per_minute:.0f} orders+payments/min ({offered:.0f} offered)")
        print(f"webhook -> Collected: p50 {self.p(0.5):.2f} s, p99 {self.p(0.99):.2f} s")
        print(f"Sage requests: {self.requests} ({self.requests_per_order:.2f} per order+payment)")
        print(f"HTTP 429 from Sage: {self.rate_limited}")
        per = 1000 / max(self.orders, 1)
        print(
            f"CPU per order+payment: worker {self.worker_cpu * per:.1f} ms, "
            f"ingress + sandbox + this bench {self.bench_cpu * per:.1f} ms, "
            f"Redis {self.redis_cpu * per:.1f} ms"
        )


class Rig:
    """Sandbox, Redis, the ingress in-process; a worker subprocess per run."""

    def __init__(self, args: argparse.Namespace, redis_url: str, sandbox_url: str, tmp: Path):
        self.args = args
        self.redis_url = redis_url
        self.sandbox_url = sandbox_url
        self.tmp = tmp
        self.control = httpx.Client(base_url=sandbox_url, timeout=30)
        self.next_order = 0

    def run(self, label: str, rate: float, seconds: float, batch_max: int) -> Figures:
        env = {
            "REDIS_URL": self.redis_url,
            "SAGE_API_URL": f"{self.sandbox_url}/graphql",
            "SAGE_AUTH_URL": self.sandbox_url,
            "SAGE_RATE_LIMIT_PER_MINUTE": str(self.args.limit),
            "SAGE_BATCH_MAX_OPERATIONS": str(batch_max),
            # one connection: let every worker thread hold one of its events
            "BRIDGE_CONNECTION_MAX_IN_FLIGHT": str(self.args.workers * self.args.concurrency),
            "SHOPIFY_WEBHOOK_SECRET": SECRET,
            "BRIDGE_LOG_JSON": "false",
        }
        settings = Settings(**env)  # type: ignore[arg-type]
        services = build_services(settings)
        web = create_app(settings, services).test_client()
        log = self.tmp / f"worker-{self.next_order}-0.log"
        workers = [
            start_worker(env, self.args.concurrency, self.tmp / f"worker-{self.next_order}-{i}.log")
            for i in range(self.args.workers)
        ]
        try:
            self.control.post(
                "/_sandbox/config", json={"rate_limit_per_minute": self.args.limit}
            ).raise_for_status()
            self.control.post(
                "/_sandbox/faults", json={"latency_ms": self.args.latency_ms}
            ).raise_for_status()

            def push() -> tuple[str, float]:
                self.next_order += 1
                ref, order, tx = order_and_payment(self.next_order)
                sent = time.monotonic()
                for topic, body in (("orders/create", order), ("order_transactions/create", tx)):
                    raw = json.dumps(body).encode()
                    response = web.post("/webhooks/shopify", data=raw, headers=signed(raw, topic))
                    assert response.status_code == 202, response.get_data(as_text=True)
                return ref, sent

            warm, _ = push()  # fills the caches: customer, products, journal, payment methods
            if not wait_collected(services, [warm], time.monotonic() + 120):
                raise SystemExit(f"warm-up order not collected; see {log}")
            self.control.delete("/_sandbox/stats").raise_for_status()

            sent: dict[str, float] = {}
            count = max(1, round(rate * seconds))
            worker_cpu, bench_cpu = sum(process_cpu(w.pid) for w in workers), own_cpu()
            redis_cpu = redis_cpu_seconds(services)
            refs: list[str] = []
            collected: dict[str, float] = {}
            sending = threading.Event()
            sending.set()
            deadline = time.monotonic() + seconds + self.args.timeout
            watcher = threading.Thread(
                target=lambda: collected.update(wait_collected(services, refs, deadline, sending))
            )
            started = time.monotonic()
            watcher.start()
            try:
                for n in range(count):  # a steady rate, catching up if a send was late
                    pause = started + n / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    ref, at = push()
                    sent[ref] = at
                    refs.append(ref)
            finally:
                sending.clear()
                watcher.join()
            ended = max(collected.values(), default=time.monotonic())
            stats = self.control.get("/_sandbox/stats").json()
            return Figures(
                label=label,
                orders=count,
                collected=len(collected),
                elapsed=ended - started,
                requests=int(stats.get("requests", 0)),
                rate_limited=int(stats.get("by_status", {}).get("429", 0)),
                latencies=[collected[r] - sent[r] for r in collected],
                sent_for=max(sent.values(), default=started) - started,
                worker_cpu=sum(process_cpu(w.pid) for w in workers) - worker_cpu,
                bench_cpu=own_cpu() - bench_cpu,
                redis_cpu=redis_cpu_seconds(services) - redis_cpu,
                limit=self.args.limit,
            )
        finally:
            self.control.delete("/_sandbox/faults")
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(10)
            services.close()


LIMIT_SHARE = 0.9  # SAGE_RATE_HEADROOM's default


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def summary(load: Figures, unbatched: Figures, slow: Figures, slow_base: Figures) -> None:
    ratio = slow.p(0.5) / slow_base.p(0.5) if slow_base.p(0.5) else math.nan
    rows = [
        (
            "orders+payments per minute",
            f"{load.per_minute:.0f}",
            f"{unbatched.per_minute:.0f}",
            ">= 3000",
            load.per_minute >= 3000,
        ),
        (
            "Sage requests per order+payment",
            f"{load.requests_per_order:.2f}",
            f"{unbatched.requests_per_order:.2f}",
            "<= 1.0",
            load.requests_per_order <= 1.0,
        ),
        (
            "HTTP 429",
            str(load.rate_limited),
            str(unbatched.rate_limited),
            "0",
            load.rate_limited == 0,
        ),
        (
            "webhook -> Collected p50 at load (s)",
            f"{load.p(0.5):.2f}",
            f"{unbatched.p(0.5):.2f}",
            "",
            None,
        ),
        (
            "webhook -> Collected p99 at load (s)",
            f"{load.p(0.99):.2f}",
            f"{unbatched.p(0.99):.2f}",
            "< 5",
            load.p(0.99) < 5,
        ),
        (
            "p50 at 1 order/s (s)",
            f"{slow.p(0.5):.2f}",
            f"{slow_base.p(0.5):.2f}",
            "within 20 %",
            ratio <= 1.2,
        ),
    ]
    print("\n== summary (same run, same machine)")
    print(f"{'':38} {'batched':>9} {'unbatched':>10}  goal")
    for name, batched, base, goal, ok in rows:
        mark = "" if ok is None else f" ({verdict(ok)})"
        print(f"{name:38} {batched:>9} {base:>10}  {goal}{mark}")
    print(f"p50 at 1 order/s: batched / unbatched = {ratio:.2f}")
    allowed = LIMIT_SHARE * load.limit
    print(
        f"Sage's limit allows {allowed / max(load.requests_per_order, 0.01):.0f} orders+payments"
        f"/min at {load.requests_per_order:.2f} requests each ({allowed:.0f} requests/min); "
        f"this machine's CPU used {1000 * load.cpu / load.orders:.0f} ms per order+payment "
        f"(workers, ingress, sandbox, bench, Redis): {load.cpu / load.elapsed:.2f} cores busy"
    )


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 55/s: 3,300 offered per minute, so that keeping up shows as >= 3,000 done per minute
    # (the figure counts from the first send to the last Collected, drain included).
    parser.add_argument("--rate", type=float, default=55.0, help="orders+payments per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load run")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--slow-orders", type=int, default=20, help="orders of the 1/s runs")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--limit", type=int, default=3000, help="Sage requests per minute")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=48, help="threads per worker")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = create_sandbox(SandboxConfig(rate_limit_per_minute=args.limit))
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(
        f"sandbox: {args.latency_ms} ms per request, {args.limit} requests/min; "
        f"{args.workers} worker processes x {args.concurrency} threads"
    )
    try:
        with EmbeddedRedis() as embedded, tempfile.TemporaryDirectory() as tmp:
            rig = Rig(args, embedded.url, f"http://127.0.0.1:{server.server_port}", Path(tmp))
            load = rig.run(
                f"batched, {args.rate:g} orders+payments/s", args.rate, args.seconds, 100
            )
            load.print()
            unbatched = rig.run(
                f"unbatched, {args.rate:g} orders+payments/s", args.rate, args.baseline_seconds, 1
            )
            unbatched.print()
            slow = rig.run("batched, 1 order+payment/s", 1.0, args.slow_orders, 100)
            slow.print()
            slow_base = rig.run("unbatched, 1 order+payment/s", 1.0, args.slow_orders, 1)
            slow_base.print()
            summary(load, unbatched, slow, slow_base)
    finally:
        server.shutdown()
        server.server_close()
        sandbox.extensions["sandbox"].close()


if __name__ == "__main__":
    main()
