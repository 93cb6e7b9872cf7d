"""Benchmark of fairness between connections sharing one Sage app and one worker pool.

N connections (default 50: Shopify shops, each booked into its own sandbox organisation)
are served by one web app (in-process), one Celery worker subprocess and the sandbox over
HTTP with added latency per request and a per-app rate limit shared by all organisations
(the sandbox counts per client id). Every quiet connection sends an order every few seconds
(random phase); in the same run, first without a flood (the baseline), then while one
connection floods (all its orders at once). It prints:

- the quiet connections' webhook -> Posted p50 / p99 without and during the flood, and the
  ratio (goal: within 2x);
- the deployment's orders per minute while the flood drains;
- the number of 429s the sandbox answered (goal: 0) and the Sage requests per order.

The flood is scaled to the 2-core machine (`--flood 1200`, about a minute and a half of the
app's whole budget): the backlog outlasts the measurement, which is what matters; pass
`--flood 5000` for the issue's figure (the drain then takes about 6 minutes longer).

    .venv/bin/python bench/connections.py [--connections 50] [--flood 1200] [--every 10]
        [--phase 45] [--latency-ms 50] [--rate 3000] [--concurrency 12]
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import stopping
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from bridge.connections.hub import ServicesHub
from bridge.connections.models import ConnectionCreate
from bridge.embedded_redis import EmbeddedRedis
from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from connectors.sage_active.sandbox import SandboxConfig
from connectors.sage_active.sandbox import create_app as create_sandbox

ROOT = Path(__file__).resolve().parents[1]
ORDER = json.loads(
    (ROOT / "tests/fixtures/shopify/orders-create-001-ttc-single-mug.json").read_text()
)
BOOKED = {"Posted", "PartiallyCollected", "Collected"}


def name_of(index: int) -> str:
    return f"c{index:02d}"


def shop_of(index: int) -> str:
    return f"{name_of(index)}.myshopify.com"


def secret_of(index: int) -> str:
    return f"bench-secret-{name_of(index)}"


class Driver:
    """Sends signed orders through the web app; remembers when each was sent."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._next = 0
        self.sent: dict[str, tuple[int, float]] = {}  # reference -> (connection, sent at)

    def order(self, index: int, client: Any) -> str:
        with self._lock:
            self._next += 1
            number = self._next
        body = copy.deepcopy(ORDER)
        order_id = 5950000000000 + number
        body.update(id=order_id, name=f"#C{number}", order_number=100000 + number)
        raw = json.dumps(body).encode()
        digest = hmac.new(secret_of(index).encode(), raw, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Shop-Domain": shop_of(index),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        }
        sent = time.monotonic()
        answer = client.post("/webhooks/shopify", data=raw, headers=headers)
        assert answer.status_code == 202, answer.get_data(as_text=True)
        reference = f"shopify:{shop_of(index)}:{order_id}"
        with self._lock:
            self.sent[reference] = (index, sent)
        return reference


class Tracker(threading.Thread):
    """Polls the links of the references it is given; when each was first seen Posted."""

    def __init__(self, hub: ServicesHub) -> None:
        super().__init__(daemon=True)
        self._hub = hub
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self.posted: dict[str, float] = {}
        self.stop = threading.Event()

    def watch(self, reference: str, index: int) -> None:
        with self._lock:
            self._pending[reference] = index

    def run(self) -> None:
        while not self.stop.is_set():
            with self._lock:
                pending = dict(self._pending)
            for reference, index in pending.items():
                services = self._hub.services(name_of(index))
                link = services.links.order(reference) if services else None
                if link is not None and link.status in BOOKED:
                    self.posted[reference] = time.monotonic()
                    with self._lock:
                        self._pending.pop(reference, None)
            time.sleep(0.02)

    def wait(self, references: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(r in self.posted for r in references):
                return True
            time.sleep(0.1)
        return False


def quiet_phase(args: argparse.Namespace, app: Any, driver: Driver, tracker: Tracker) -> list[str]:
    """Every quiet connection sends an order every `args.every` s for `args.phase` s."""
    client = app.test_client()
    rng = random.Random(7)
    due = {i: time.monotonic() + rng.uniform(0, args.every) for i in range(1, args.connections)}
    end = time.monotonic() + args.phase
    sent: list[str] = []
    while time.monotonic() < end:
        now = time.monotonic()
        for index, at in due.items():
            if at <= now:
                reference = driver.order(index, client)
                tracker.watch(reference, index)
                sent.append(reference)
                due[index] = at + args.every
        time.sleep(0.01)
    return sent


def latencies(driver: Driver, tracker: Tracker, refs: list[str]) -> list[float]:
    return [tracker.posted[r] - driver.sent[r][1] for r in refs if r in tracker.posted]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
        "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def flood_done(hub: ServicesHub) -> int:
    """The flooding connection's orders finished (its warm-up order not counted)."""
    services = hub.services(name_of(0))
    assert services is not None
    counts = services.events.counts()
    return counts["processed"] + counts["failed"] - 1


def run(args: argparse.Namespace, redis_url: str, sandbox_url: str, tmp: Path) -> None:
    env = {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_RATE_LIMIT_PER_MINUTE": str(args.rate),
        "BRIDGE_SECRET_KEY": Fernet.generate_key().decode(),
        "BRIDGE_LOG_JSON": "false",
        "BRIDGE_LOG_LEVEL": "WARNING",
        "BRIDGE_CONNECTION_MAX_IN_FLIGHT": "8",  # the fairness bound these figures are for
    }
    settings = Settings(**env)  # type: ignore[arg-type]
    services = build_services(settings)
    hub = ServicesHub(services)
    control = httpx.Client(base_url=sandbox_url, timeout=30)
    for index in range(args.connections):
        made = control.post("/_sandbox/organizations", json={"name": f"Shop {index} SAS"})
        made.raise_for_status()
        spec = {
            "name": name_of(index),
            "source": "shopify",
            "shop_domain": shop_of(index),
            "sage_organization_id": made.json()["id"],
            "secrets": {"webhook_secrets": [secret_of(index)]},
        }
        hub.registry.add(ConnectionCreate.model_validate(spec))
    app = create_app(settings, services)
    driver, tracker = Driver(app), Tracker(hub)
    tracker.start()
    control.post("/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
    worker = start_worker(env, args.concurrency, tmp / "worker.log")
    try:
        print(f"{args.connections} connections, sandbox {args.latency_ms} ms per request, "
              f"{args.rate}/min per app, one worker of {args.concurrency} threads")  # fmt: skip
        client = app.test_client()
        warm = [driver.order(i, client) for i in range(args.connections)]
        for i, reference in enumerate(warm):
            tracker.watch(reference, i)
        if not tracker.wait(warm, args.timeout):
            raise SystemExit(f"warm-up orders not booked; see {tmp / 'worker.log'}")
        control.delete("/_sandbox/stats").raise_for_status()

        print(
            f"baseline: quiet connections send an order every {args.every:g} s for {args.phase:g} s"
        )
        calm = quiet_phase(args, app, driver, tracker)
        tracker.wait(calm, args.timeout)
        before = latencies(driver, tracker, calm)
        calm_stats = control.get("/_sandbox/stats").json()

        print(f"flood: {name_of(0)} sends {args.flood} orders at once; the others go on")
        flood_client = app.test_client()
        started = time.monotonic()
        flood_refs = [driver.order(0, flood_client) for _ in range(args.flood)]
        print(f"  {len(flood_refs)} flood webhooks accepted in {time.monotonic() - started:.1f} s")
        stormy = quiet_phase(args, app, driver, tracker)
        backlog_left = args.flood - flood_done(hub)
        tracker.wait(stormy, args.timeout)
        during = latencies(driver, tracker, stormy)
        deadline = time.monotonic() + args.timeout
        while flood_done(hub) < args.flood and time.monotonic() < deadline:
            time.sleep(0.5)
        drained = time.monotonic() - started
        flooded = flood_done(hub)
        stats = control.get("/_sandbox/stats").json()
        report(args, before, during, backlog_left, flooded, len(stormy), drained, stats, calm_stats)
    finally:
        tracker.stop.set()
        control.delete("/_sandbox/faults")
        control.close()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        hub.close()
        services.close()


def report(
    args: argparse.Namespace,
    before: list[float],
    during: list[float],
    backlog_left: int,
    flooded: int,
    quiet_during: int,
    drained: float,
    stats: dict[str, Any],
    calm_stats: dict[str, Any],
) -> None:
    p50a, p99a = percentile(before, 0.5), percentile(before, 0.99)
    p50b, p99b = percentile(during, 0.5), percentile(during, 0.99)
    print(f"\nquiet connections, webhook -> Posted ({len(before)} orders without the flood, "
          f"{len(during)} during it):")  # fmt: skip
    print(f"  without the flood: p50 {p50a:.2f} s, p99 {p99a:.2f} s")
    print(f"  during the flood:  p50 {p50b:.2f} s, p99 {p99b:.2f} s "
          f"({backlog_left} flood orders still waiting when the phase ended)")  # fmt: skip
    print(f"  ratio during/without: p50 {p50b / p50a:.2f}x, p99 {p99b / p99a:.2f}x (goal: <= 2x)")
    booked = flooded + quiet_during
    print(f"deployment: {booked} orders booked in {drained:.0f} s from the flood's start "
          f"({booked / drained * 60:.0f} orders/min; flood {flooded}/{args.flood})")  # fmt: skip
    calm_requests = int(calm_stats.get("requests", 0))
    print(f"Sage requests per order (warm, baseline): {calm_requests / max(len(before), 1):.2f}")
    too_many = int(stats.get("by_status", {}).get("429", 0))
    print(f"429 answers from the sandbox: {too_many} (goal: 0)")


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--flood", type=int, default=1200)
    parser.add_argument(
        "--every", type=float, default=10.0, help="seconds between a quiet connection's orders"
    )
    parser.add_argument("--phase", type=float, default=45.0, help="seconds of each measured phase")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate", type=int, default=3000, help="the app's requests per minute")
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = create_sandbox(SandboxConfig(rate_limit_per_minute=args.rate))
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with EmbeddedRedis() as embedded, tempfile.TemporaryDirectory() as tmp:
            run(args, embedded.url, f"http://127.0.0.1:{server.server_port}", Path(tmp))
    finally:
        server.shutdown()
        server.server_close()
        sandbox.extensions["sandbox"].close()


if __name__ == "__main__":
    main()
