"""Benchmark of the poller against a local sandbox holding 100,000 invoices.

Prints (1) Sage requests per idle cycle (goal: 1) while every invoice is watched
(`BRIDGE_POLL_ALL`), (2) requests for one cycle that finds N hand settlements (default
500), and (3) the time from a hand settlement in the sandbox to a local subscriber
receiving `invoice.collected`, through a real Celery beat + worker (median of a few).

    .venv/bin/python bench/poller.py [--invoices 100000] [--changes 500] [--samples 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
import stopping
from pydantic import SecretStr
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from bridge.embedded_redis import EmbeddedRedis
from bridge.outbound.delivery import Outbound
from bridge.poller.cycle import Poller
from bridge.settings import Settings
from connectors.sage_active.client import SageClient
from connectors.sage_active.config import SageConfig
from connectors.sage_active.operations import SageActive
from connectors.sage_active.sandbox import SandboxConfig, create_app

ROOT = Path(__file__).resolve().parents[1]
CONNECTION = "bench-poller"
POSTED = 'query { salesInvoices(first: %d, where: { status: { eq: "Posted" } }) { nodes { id } } }'


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class Parts:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.outbound = Outbound(client, settings)


class Subscriber:
    """Records when each event type first arrives (monotonic clock)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.arrivals.append((time.monotonic(), Request(environ).get_data()))
        return Response(status=204)(environ, start_response)

    def wait(self, needle: str, after: float, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, body in list(self.arrivals):
                if at >= after and needle.encode() in body:
                    return at
            time.sleep(0.01)
        raise TimeoutError(f"no delivery for {needle} within {timeout}s")


def requests(control: httpx.Client) -> int:
    count: int = control.get("/_sandbox/stats").json()["requests"]
    return count


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks.app", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def measure_cycles(poller: Poller, control: httpx.Client, sage: SageActive, n: int) -> None:
    poller.cycle()  # first cycle: starts from now, with a warm token
    control.delete("/_sandbox/stats")
    for _ in range(5):
        poller.cycle()
    print(f"requests per idle cycle: {requests(control) / 5:.2f} (goal 1)")
    ids = [node["id"] for node in sage.client.execute(POSTED % n)["salesInvoices"]["nodes"]]
    for invoice_id in ids:
        control.post(f"/_sandbox/invoices/{invoice_id}/settle", json={}).raise_for_status()
    control.delete("/_sandbox/stats")
    started = time.monotonic()
    report = poller.cycle()
    took = time.monotonic() - started
    print(
        f"cycle with {len(ids)} changes: {requests(control)} requests, "
        f"{len(report.emitted)} events, {took:.2f}s"
    )


def measure_latency(base: str, redis_url: str, control: httpx.Client, samples: int) -> None:
    subscriber = Subscriber()
    with serving(subscriber) as hook_url, tempfile.TemporaryDirectory() as tmp:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        settings = Settings(redis_url=redis_url, connection=CONNECTION, outbound_allow_private=True)
        Outbound(client, settings).create_subscription(hook_url, ["invoice.collected"])
        env = {
            **os.environ, "REDIS_URL": redis_url, "SAGE_API_URL": f"{base}/graphql",
            "SAGE_AUTH_URL": base, "BRIDGE_CONNECTION": CONNECTION, "BRIDGE_POLL_ALL": "true",
            "BRIDGE_POLL_INTERVAL": "1", "BRIDGE_POLL_OVERLAP": "2",
            "BRIDGE_OUTBOUND_ALLOW_PRIVATE": "true", "BRIDGE_LOG_JSON": "false",
        }  # fmt: skip
        worker = start(["worker", "--pool", "threads", "-c", "4"], env, Path(tmp) / "w.log")
        beat = start(["beat", "-s", str(Path(tmp) / "schedule")], env, Path(tmp) / "b.log")
        try:
            time.sleep(5)  # worker and beat start
            ids = [n["id"] for n in _posted(base, client, samples)]
            waits = []
            for invoice_id in ids:
                at = time.monotonic()
                control.post(f"/_sandbox/invoices/{invoice_id}/settle", json={}).raise_for_status()
                waits.append(subscriber.wait(invoice_id, at) - at)
            print(
                f"hand settlement -> subscriber: median {statistics.median(waits):.2f}s, "
                f"max {max(waits):.2f}s (poll interval 1 s, outbound pump 2 s)"
            )
        finally:
            stop(beat)
            stop(worker)
            client.close()


def _posted(base: str, client: redis.Redis, n: int) -> list[dict[str, Any]]:
    with SageClient(_config(base), client) as sage_client:
        nodes: list[dict[str, Any]] = sage_client.execute(POSTED % n)["salesInvoices"]["nodes"]
    return nodes


def _config(base: str) -> SageConfig:
    return SageConfig(
        api_url=f"{base}/graphql",
        auth_url=base,
        client_id="sandbox-client",
        client_secret=SecretStr("sandbox-secret"),
        refresh_token=SecretStr("sandbox-refresh"),
        api_key=SecretStr("sandbox-key"),
        key_prefix="bench:poller:sage",
    )


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = create_app(SandboxConfig())
    with EmbeddedRedis() as server, serving(sandbox) as base:
        control = httpx.Client(base_url=base, timeout=600)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        started = time.monotonic()
        control.post("/_sandbox/seed", json={"invoices": args.invoices}).raise_for_status()
        print(f"seeded {args.invoices} invoices in {time.monotonic() - started:.1f}s")
        settings = Settings(redis_url=server.url, connection=CONNECTION, poll_overlap=2.0)
        settings = settings.model_copy(update={"poll_all_invoices": True})
        time.sleep(2.5)  # the seeded invoices fall out of the overlap window
        with SageClient(_config(base), client) as sage_client:
            sage = SageActive(sage_client)
            measure_cycles(Poller(Parts(client, settings), sage), control, sage, args.changes)
        measure_latency(base, server.url, control, args.samples)
        client.close()
        control.close()
        sandbox.extensions["sandbox"].close()


if __name__ == "__main__":
    main()
