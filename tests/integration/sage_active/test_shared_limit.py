"""Four processes hammering the sandbox share one rate limit through Redis."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable

import pytest
import redis

from connectors.sage_active.client import SageClient
from tests.support.sage_config import sandbox_config
from tests.support.sandbox import SandboxControl as Control

pytestmark = pytest.mark.integration
TAXES = "query { taxes(first: 1) { nodes { id } } }"
RATE = 120  # per minute, as configured in both the sandbox and the connector
HEADROOM = 0.9
BURST = 3
SECONDS = 12.0
HITS = "it:hits"


def _hammer(redis_url: str, base: str, start_at: float, name: str) -> None:
    """One worker process: as many requests as the shared limiter lets through."""
    conn = redis.Redis.from_url(redis_url)
    config = sandbox_config(
        base, rate_limit_per_minute=RATE, rate_headroom=HEADROOM, rate_burst=BURST, max_retries=0
    )

    def record(_op: str, outcome: str, seconds: float) -> None:
        conn.rpush(HITS, json.dumps([time.time() - seconds, outcome, name]))

    time.sleep(max(0.0, start_at - time.time()))
    with SageClient(config, conn, on_request=record) as client:
        while time.time() < start_at + SECONDS:
            client.execute(TAXES)
    conn.close()


def test_four_processes_stay_within_the_rate(
    sandbox_url: str,
    redis_url: str,
    redis_client: redis.Redis,
    control_for: Callable[..., Control],
) -> None:
    control = control_for(sandbox_url)
    control.configure(rate_limit_per_minute=RATE)
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # let every process import before the race starts
    workers = [
        ctx.Process(target=_hammer, args=(redis_url, sandbox_url, start_at, f"w{i}"))
        for i in range(4)
    ]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(SECONDS + 15)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    finally:
        for w in workers:
            if w.is_alive():
                w.kill()
                w.join(5)
            w.close()
        control.configure(rate_limit_per_minute=3000)

    hits = [json.loads(h) for h in redis_client.lrange(HITS, 0, -1)]
    times = sorted(t for t, _o, _n in hits)
    per_second = RATE * HEADROOM / 60
    assert {o for _t, o, _n in hits} == {"ok"}
    assert "429" not in control.stats()["by_status"]
    assert control.stats()["requests"] == len(hits)
    assert {n for _t, _o, n in hits} == {"w0", "w1", "w2", "w3"}
    # Within the limit in every 60-second window, and paced inside it too.
    assert len(times) <= RATE
    for window, slack in ((60.0, 0), (5.0, 1)):
        worst = max(sum(1 for t in times if s <= t < s + window) for s in times)
        assert worst <= per_second * window + BURST + slack
    # ...and the limiter lets the allowed rate through (it does not just block), over the
    # time the processes really raced (on a busy machine they may start late)
    raced = start_at + SECONDS - times[0]
    assert raced > SECONDS / 2, raced
    assert len(times) >= 0.7 * per_second * raced
