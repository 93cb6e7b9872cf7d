"""Soak: the bridge under a steady load for N minutes; does memory stay flat, the ledger bounded?

Starts the same real processes as `bridge dev` (embedded Redis with its append-only file,
the Sage sandbox, gunicorn, a Celery worker, Celery beat with the poller every 5 s), in a
temporary state directory, with a short retention (`--retention`, seconds) of events,
outbound deliveries and order links / invoice statuses (`BRIDGE_EVENT_RETENTION_DAYS`,
`BRIDGE_OUTBOUND_RETENTION_DAYS`, `BRIDGE_LINK_RETENTION_DAYS`), so that the bound of the
ledger and of Redis's memory shows within the run. A local subscriber is registered for every
outbound event type. Then, at a steady rate (`--runs-per-minute`), it sends signed "runs"
of the demo: a Shopify order, its payment, a partial refund, a Stripe Billing invoice and
its charge (five webhooks, each run with its own ids), and the bridge books them in the
sandbox and delivers the outbound events to the subscriber.

Every minute it prints the resident memory (RSS) of web (gunicorn master and workers),
worker (Celery) and Redis (redis-server), the ledger's size (events in its index) and
Redis's memory. At the end: each process's growth from the end of the warm-up
(`--warmup` minutes) to the end (goal: under 10 %), Redis's used memory likewise, the
ledger's largest and last size against what retention allows, and the events processed /
failed. The children's output goes to `<state>/soak.log`.

    .venv/bin/python bench/soak.py --minutes 30
    .venv/bin/python bench/soak.py --minutes 5 --runs-per-minute 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil
import redis
import stopping

from bridge.dev import processes, supervisor
from bridge.dev.demo_data import DemoEvent, demo_run
from bridge.dev.processes import Child
from bridge.dev.subscriber import Subscriber
from bridge.dev.supervisor import DevOptions, DevServer
from bridge.embedded_redis import free_port
from bridge.outbound.events import EventType
from bridge.settings import load_settings
from connectors.outbound.signing import new_secret

MB = 1024 * 1024


@dataclass
class Sample:
    minute: int
    rss: dict[str, float]  # MB per process kind
    ledger: int
    redis_mb: float
    counts: dict[str, int]
    delivered: int


@dataclass
class Load:
    """Sends the runs at a steady rate, in a thread; counts what it sent and what failed."""

    server: DevServer
    web_url: str
    secrets: dict[str, str]
    runs_per_minute: float
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def send(self, http: httpx.Client, event: DemoEvent) -> None:
        answer = http.post(f"/webhooks/{event.provider}", content=event.body,
                           headers=event.headers(self.secrets[event.provider]))  # fmt: skip
        self.sent += 1
        if answer.status_code not in (200, 202):
            self.refused.append(f"{event.ref}: {answer.status_code}")

    def run(self) -> None:
        interval = 60.0 / self.runs_per_minute
        base = int(time.time()) * 10
        next_at = time.monotonic()
        with httpx.Client(base_url=self.web_url, timeout=30) as http:
            n = 0
            while not self.stop.is_set():
                for event in demo_run(base + n).events:
                    self.send(http, event)
                n += 1
                next_at += interval
                self.stop.wait(max(0.0, next_at - time.monotonic()))


def _rss(child: Child | None, only: str | None = None) -> float:
    """RSS (MB) of `child` and its descendants (or only those whose name contains `only`)."""
    if child is None or child.process is None:
        return 0.0
    try:
        root = psutil.Process(child.process.pid)
        procs = [root, *root.children(recursive=True)]
        total = sum(p.memory_info().rss for p in procs if only is None or only in p.name())
        return float(total) / MB
    except psutil.NoSuchProcess:
        return 0.0


def _sample(
    minute: int, server: DevServer, client: redis.Redis, subscriber: Subscriber, prefix: str
) -> Sample:
    by_name = {c.name: c for c in server.children}
    counts = {s: int(client.zcard(f"{prefix}:{s}")) for s in ("processed", "failed", "queued")}
    return Sample(
        minute=minute,
        rss={
            "web": _rss(by_name.get("web")),
            "worker": _rss(by_name.get("worker")),
            "redis": _rss(server.redis, only="redis-server"),
        },
        ledger=int(client.zcard(f"{prefix}:all")),
        redis_mb=float(client.info("memory")["used_memory"]) / MB,
        counts=counts,
        delivered=len(subscriber.snapshot()),
    )


def _line(s: Sample, sent: int) -> str:
    rss = "  ".join(f"{k} {v:6.1f} MB" for k, v in s.rss.items())
    return (f"min {s.minute:3d}  {rss}  ledger {s.ledger:6d}  redis mem {s.redis_mb:6.1f} MB  "
            f"sent {sent:6d}  processed {s.counts['processed']:6d}  failed "
            f"{s.counts['failed']:3d}  outbound {s.delivered:6d}")  # fmt: skip


RESTARTS: list[str] = []


def _quiet(log: IO[str]) -> None:
    """The children's lines go to `log`, not the terminal (the bench prints its own); the
    supervisor's own lines (a restart) are printed and counted."""

    def said(line: str, stream: IO[str] | None = None) -> None:
        if "exited on its own" in line:
            RESTARTS.append(line)
        print(line, file=stream or sys.stdout, flush=True)

    vars(supervisor).update(echo=said)

    def to_log(line: str, stream: IO[str] | None = None) -> None:
        if stream is not None:
            stream.write(line + "\n")
            return
        log.write(line + "\n")
        log.flush()

    vars(processes).update(echo=to_log)


def _subscribe(web_url: str, token: str, subscriber: Subscriber) -> None:
    body = {"url": subscriber.url, "event_types": [t.value for t in EventType],
            "secret": subscriber.secret}  # fmt: skip
    answer = httpx.post(f"{web_url}/admin/subscriptions", json=body,
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    answer.raise_for_status()


def _breakdown(client: redis.Redis) -> dict[str, tuple[int, int]]:
    """Keys and bytes (MEMORY USAGE) by kind: `bridge:<connection>:<kind>:...`, Celery's..."""
    kinds: dict[str, tuple[int, int]] = {}
    for key in client.scan_iter(count=1000):
        parts = str(key).split(":")
        kind = parts[2] if parts[0] == "bridge" and len(parts) > 2 else parts[0][:24]
        if kind in ("event", "attempts", "events"):
            kind = "ledger (" + kind + ")"
        count, size = kinds.get(kind, (0, 0))
        kinds[kind] = (count + 1, size + int(client.memory_usage(key) or 0))
    return dict(sorted(kinds.items(), key=lambda item: -item[1][1]))


def _report(samples: list[Sample], warmup: int, retention: float, rate: float) -> None:
    base = next((s for s in samples if s.minute >= warmup), samples[0])
    last = samples[-1]
    print(f"\nGrowth from minute {base.minute} (after warm-up) to minute {last.minute}:")
    figures = [(kind, base.rss[kind], last.rss[kind]) for kind in last.rss]
    figures.append(("redis used memory", base.redis_mb, last.redis_mb))
    for kind, start, end in figures:
        growth = (end - start) / start * 100 if start else 0.0
        verdict = "ok" if growth < 10 else "OVER the 10 % goal"
        print(f"  {kind:<17} {start:7.1f} MB -> {end:7.1f} MB  {growth:+6.1f} %  {verdict}")
    bound = rate * 5 * (retention + 60) / 60  # events received within retention + a sweep
    largest = max(s.ledger for s in samples)
    print(f"Ledger: largest {largest} events, last {last.ledger} (retention {retention:.0f} s "
          f"at {rate * 5:.0f} events/min allows about {bound:.0f}); Redis memory "
          f"{base.redis_mb:.1f} -> {last.redis_mb:.1f} MB")  # fmt: skip
    print(f"Events: processed {last.counts['processed']} (in the index), failed "
          f"{last.counts['failed']}, queued {last.counts['queued']}; outbound delivered "
          f"{last.delivered}")  # fmt: skip


def main() -> int:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=None, help="minutes [min(5, minutes/3)]")
    parser.add_argument("--runs-per-minute", type=float, default=12.0, help="5 webhooks each")
    parser.add_argument("--retention", type=float, default=120.0, help="seconds state is kept")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(1, min(5, args.minutes // 3))
    days = repr(args.retention / 86_400)
    for name in ("EVENT", "OUTBOUND", "LINK"):  # every per-order state is bounded by one
        os.environ[f"BRIDGE_{name}_RETENTION_DAYS"] = days
    for name in ("REDIS_URL", "SAGE_API_URL", "SENTRY_DSN"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bridge-soak-") as tmp:
        state = Path(tmp)
        log = (state / "soak.log").open("w")
        _quiet(log)
        options = DevOptions(port=free_port(), sandbox_port=free_port(), state_dir=state,
                             concurrency=4)  # fmt: skip
        settings = load_settings()
        prefix = settings.key("events", "index")
        server = DevServer(settings, options)
        info = server.start()
        print(
            f"Soak: {args.minutes} min, {args.runs_per_minute:g} runs/min (5 webhooks each), "
            f"retention {args.retention:.0f} s, warm-up {warmup} min; logs in {state}/soak.log",
            flush=True,
        )
        client = redis.Redis.from_url(info.redis_url, decode_responses=True)
        secrets = {"shopify": info.shopify_webhook_secret, "stripe": info.stripe_webhook_secret}
        samples: list[Sample] = []
        try:
            with Subscriber(secret=new_secret()) as subscriber:
                _subscribe(info.web_url, info.admin_token, subscriber)
                load = Load(server, info.web_url, secrets, args.runs_per_minute)
                sender = threading.Thread(target=load.run, name="soak-load", daemon=True)
                sender.start()
                started = time.monotonic()
                for minute in range(1, args.minutes + 1):
                    while time.monotonic() < started + 60 * minute:
                        for child in [server.redis, *server.children]:
                            if child is not None:
                                server.supervise(child, time.monotonic())
                        time.sleep(0.5)
                    samples.append(_sample(minute, server, client, subscriber, prefix))
                    print(_line(samples[-1], load.sent), flush=True)
                load.stop.set()
                sender.join(60)
                print("\nRedis keys by kind at the end (what its memory holds):")
                for kind, (count, size) in list(_breakdown(client).items())[:10]:
                    print(f"  {kind:<28} {count:7d} keys  {size / 1024:9.1f} KiB")
        finally:
            client.close()
            server.stop()
            log.close()
        _report(samples, warmup, args.retention, args.runs_per_minute)
        if load.refused:
            print(f"Refused deliveries: {len(load.refused)}, e.g. {load.refused[:3]}")
        print(f"Processes restarted during the run: {len(RESTARTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
